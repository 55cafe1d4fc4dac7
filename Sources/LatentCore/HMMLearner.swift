/// How an HMM learner learns; mirrors the HMM keys of the config.
public struct HMMLearnerSettings: Sendable, Hashable {
    public var states: Int
    public var shape: EmissionShape
    /// Fixed-lag smoothing delay L (0 = off).
    public var lag = 0
    /// Observations per forward–backward window.
    public var window = 64
    /// Viterbi training (one-hot counts of the decoded path) instead of expected counts.
    public var hard = false
    /// Cappé's (2011) recursive estimator instead of windowed forward–backward.
    public var recursive = false
    public var frozen = false
    /// η_t = (t + 2)^−alpha.
    public var alpha = 0.6
    /// Observations per stepwise update (and per M-step of the recursive estimator).
    public var batch = 16
    /// Floor on η per update.
    public var minStep = 0.0
    /// Observations (over all sequences) buffered before the first model exists.
    public var warmup = 200
    /// Restarts of the warm-up fit; the best warm-up log-likelihood wins.
    public var nInit = 3
    /// Baum–Welch iterations refining each warm-up restart.
    public var warmupIterations = 10
    public var seed: UInt64 = 1
    public var options = HMMOptions()

    public init(states: Int, shape: EmissionShape) {
        self.states = states
        self.shape = shape
    }

    /// η for stepwise update number t (as for the mixture learner).
    public func stepSize(_ t: Int) -> Double { max(_pow(Double(t + 2), -alpha), minStep) }

    /// η for the recursive estimator's observation number t: the same schedule
    /// per observation, with the floor rescaled so that forgetting per `batch`
    /// observations is the same as the windowed estimator's per update.
    public func observationStepSize(_ t: Int) -> Double {
        let floor = minStep > 0 ? 1 - _pow(1 - minStep, 1 / Double(max(batch, 1))) : 0
        return max(_pow(Double(t + 2), -alpha), floor)
    }
}

/// What the learner says about one observation of a sequence.
public struct HMMObservation: Sendable, Equatable {
    /// False while warming up (no model yet).
    public var scored = false
    /// The observation's position in its sequence (1-based).
    public var t = 0
    /// log p(x_t | x_1..t−1).
    public var logLikelihood = 0.0
    /// argmax of the filtered distribution.
    public var label = -1
    /// When ≥ 1: the time the smoothed distribution written by `observe` is for (t − lag).
    public var smoothedT = 0
    public var parametersChanged = false
    /// Enough warm-up data: call `finishWarmup`.
    public var warmupReady = false

    public init() {}
}

/// What ending a sequence gives: the Viterbi path and log p(x_1..T).
public struct HMMEnding: Sendable, Equatable {
    /// Nil when the sequence ended before the first model existed.
    public var path: [Int]?
    public var logLikelihood: Double
    public var parametersChanged: Bool
}

/// Online learning for an HMM shared by many sequences (SPEC §5): each sequence
/// is filtered as it arrives; its observations are learned from window by
/// window (forward–backward from the filtered distribution before the window),
/// and the expected counts are blended in stepwise like the mixture's.
///
/// The learner holds what is shared (model, statistics, RNG); each sequence's
/// own state is an `HMMSequence` the caller keeps, so that a table of them can
/// be evicted, checkpointed and restored independently.
public struct HMMLearner<E: SeedableEmissions>: Sendable {
    public typealias Model = HiddenMarkovModel<E>
    public let settings: HMMLearnerSettings
    /// The published model: filtering, smoothing, Viterbi and scoring use it.
    public internal(set) var model: Model?
    /// Normalized (per-observation) expected counts.
    var statistics: HMMStatistics<E.Statistics>
    /// Raw counts of the windows finished since the last update.
    var pending: HMMStatistics<E.Statistics>
    var pendingCount = 0
    /// Recursive estimator: the running statistic S (see RecursiveEstimator).
    var recursive: RecursiveHMMStatistics<E.Statistics>?
    /// Sequences that ended during the warm-up.
    var warmupSegments: [[Double]] = []
    public internal(set) var warmupCount = 0
    var rng: Xoshiro256StarStar
    /// Stepwise updates (windowed) or learned observations (recursive); the
    /// warm-up counts as `warmup/batch` updates (or `warmup` observations).
    public internal(set) var step = 0
    public internal(set) var observations = 0
    public internal(set) var version = 0

    // Scratch, not state.
    /// The M-step writes the next model here, then swaps it in (as `MixtureLearner`
    /// does): a failed M-step leaves the model as it was, and the storage of the
    /// replaced model is reused, so an update allocates nothing.
    var spare: Model?
    var next: [Double]
    var ratios: [Double]
    var scratch: [Double]
    var workspace = HMMWorkspace()
    var viterbiWorkspace = ViterbiWorkspace()
    var recursiveWorkspace = RecursiveWorkspace()

    public init(settings: HMMLearnerSettings, initial: Model? = nil) {
        self.settings = settings
        let n = settings.states
        let empty = HMMStatistics(states: n, emission: E.emptyStatistics(states: n, shape: settings.shape))
        statistics = empty
        pending = empty
        rng = Xoshiro256StarStar(seed: settings.seed)
        next = [Double](repeating: 0, count: n)
        ratios = next
        let width = settings.shape.observationWidth
        scratch = [Double](repeating: 0, count: 4 * n + 2 * max(width, width * (width + 1) / 2) + 2)
        if let initial { start(from: initial) }
    }

    /// Starts from given parameters, with the statistics they imply for one
    /// observation at the stationary-ish state weights 1/N, worth `warmup/batch` steps.
    mutating func start(from initial: Model) {
        let n = settings.states
        let weights = [Double](repeating: 1 / Double(n), count: n)
        var s = HMMStatistics(states: n, emission: initial.emissions.impliedStatistics(stateWeights: weights))
        for i in 0..<n {
            s.start[i] = initial.start[i]
            for j in 0..<n { s.transitions[i * n + j] = initial.transitions[i * n + j] / Double(n) }
        }
        statistics = s
        model = initial
        version = 1
        step = settings.recursive ? settings.warmup : settings.warmup / max(settings.batch, 1)
        if settings.recursive { recursive = Self.flatten(s) }
    }

    /// A fresh sequence for this learner.
    public func newSequence() -> HMMSequence { HMMSequence(states: settings.states, lag: settings.lag) }

    /// Filters one observation of `sequence` (α_t into `filtered`, N doubles;
    /// p(z_{t−L} | x_1..t) into `smoothed` when `smoothedT ≥ 1`) and, when
    /// `learn`, learns from it. During the warm-up it is only buffered.
    /// Pre-specialized so that the daemon's calls reach specialized numerics.
    @_specialize(where E == GaussianEmissions)
    @_specialize(where E == CategoricalEmissions)
    public mutating func observe(
        _ x: UnsafePointer<Double>, sequence s: inout HMMSequence, learn: Bool,
        filtered: UnsafeMutablePointer<Double>, smoothed: UnsafeMutablePointer<Double>
    ) -> HMMObservation {
        observations += 1
        s.t += 1
        var o = HMMObservation()
        o.t = s.t
        let learning = learn && !settings.frozen
        // Moved out and back rather than copied: a copy of the model retained and
        // released every array in it (a third of the learner's time per observation).
        guard let current = model.take() else {
            if learning {
                s.window.append(contentsOf: UnsafeBufferPointer(start: x, count: settings.shape.observationWidth))
                warmupCount += 1
                o.warmupReady = warmupCount >= settings.warmup
            }
            return o
        }
        o.scored = true
        let wasFiltering = s.filtering
        o.logLikelihood = advance(x, &s, current, learnRecursively: learning && settings.recursive,
                                  smoothed: smoothed, smoothedT: &o.smoothedT)
        model = consume current
        let n = settings.states
        for j in 0..<n { filtered[j] = s.alpha[j] }
        o.label = argmax(filtered, n)
        if settings.recursive {
            if learning {
                pendingCount += 1
                if pendingCount >= settings.batch { o.parametersChanged = recursiveMStep() }
            }
        } else if learning {
            if !wasFiltering { s.windowStartsSequence = true }
            s.window.append(contentsOf: UnsafeBufferPointer(start: x, count: settings.shape.observationWidth))
            if s.window.count >= settings.window * settings.shape.observationWidth {
                o.parametersChanged = learnWindow(&s)
            }
        } else {
            // Not learned from: the window so far is, and the next one starts after this observation.
            if !s.window.isEmpty { o.parametersChanged = learnWindow(&s) }
            s.windowStartsAfterAlpha()
            s.windowStartsSequence = false
            // Hard counts: the next window continues from this observation's
            // MAP state (argmax windowPrior), not from the state decoded before it.
            s.lastHardState = -1
        }
        return o
    }

    /// One filter step under `model`: α, the smoother, Viterbi and the running
    /// log-likelihood of the sequence. Returns log p(x_t | x_1..t−1).
    mutating func advance(
        _ x: UnsafePointer<Double>, _ s: inout HMMSequence, _ model: Model, learnRecursively: Bool,
        smoothed: UnsafeMutablePointer<Double>?, smoothedT: inout Int
    ) -> Double {
        let n = settings.states
        let ll = next.withUnsafeMutableBufferPointer { a in
            ratios.withUnsafeMutableBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { sc in
                    s.alpha.withUnsafeBufferPointer { previous in
                        model.forwardStep(x, previous: s.filtering ? previous.baseAddress! : nil,
                                          into: a.baseAddress!, scratch: sc.baseAddress!, ratios: r.baseAddress!)
                    }
                }
            }
        }
        // Before α moves on: the recursion needs φ_t (s.alpha) and φ_{t+1} (next).
        if learnRecursively { recursiveUpdate(x, model, sequence: &s) }
        for j in 0..<n { s.alpha[j] = next[j] }
        s.filtering = true
        s.logLikelihood += ll
        scratch.withUnsafeMutableBufferPointer { sc in
            if var smoother = s.smoother {
                s.smoother = nil  // keeps the ring uniquely referenced while it is mutated
                let ready = next.withUnsafeBufferPointer { a in
                    ratios.withUnsafeBufferPointer { r in
                        smoother.push(alpha: a.baseAddress!, ratios: r.baseAddress!, model: model,
                                      smoothed: smoothed ?? sc.baseAddress! + 2 * n, scratch: sc.baseAddress!)
                    }
                }
                if ready { smoothedT = smoother.steps - smoother.lag }
                s.smoother = smoother
            }
            s.viterbi.step(x, model: model, scratch: sc.baseAddress!)
        }
        return ll
    }

    /// Expected counts of the sequence's buffered window (forward–backward from
    /// the filtered distribution before it, or hard Viterbi counts), added to
    /// the pending mini-batch; a stepwise update follows when it is full.
    mutating func learnWindow(_ s: inout HMMSequence) -> Bool {
        guard let current = model, !s.window.isEmpty else { return false }
        let count = s.window.count / settings.shape.observationWidth
        s.window.withUnsafeBufferPointer { xs in
            if settings.hard {
                s.lastHardState = current.viterbiCounts(
                    xs.baseAddress!, count: count, previousState: s.windowStartsSequence ? -1 : (s.lastHardState >= 0 ? s.lastHardState : argmax(s.windowPrior, settings.states)),
                    statistics: &pending, workspace: &viterbiWorkspace)
            } else {
                s.windowPrior.withUnsafeBufferPointer { prior in
                    _ = current.forwardBackward(
                        xs.baseAddress!, count: count, previous: s.windowStartsSequence ? nil : prior.baseAddress!,
                        statistics: &pending, workspace: &workspace)
                }
            }
        }
        s.window.removeAll(keepingCapacity: true)
        s.windowStartsAfterAlpha()
        s.windowStartsSequence = false
        pendingCount += count
        guard pendingCount >= settings.batch else { return false }
        stepwiseUpdate()
        return true
    }

    /// s ← (1 − η_t)·s + η_t·s̄ with s̄ the pending counts per observation, then the M-step.
    mutating func stepwiseUpdate() {
        pending.scale(by: 1 / Double(pendingCount))
        statistics.blend(toward: pending, step: settings.stepSize(step))
        step += 1
        mStep()
        version += 1
        pending.reset()
        pendingCount = 0
    }

    /// The Baum–Welch M-step from `statistics` (Rabiner 1989, eqs. 40a–c), into
    /// `spare` and swapped in; with no model yet, into a new one.
    mutating func mStep() {
        guard let current = model else {
            model = try? Model(statistics: statistics, options: settings.options, fallback: nil)
            return
        }
        if case .none = spare { spare = current }
        do {
            try spare!.update(statistics: statistics, options: settings.options, fallback: current)
            swap(&model, &spare)
        } catch {
            // The model stays; the spare is overwritten by the next M-step.
        }
    }

    /// Ends a sequence: its last window is learned from (when `learn`) and its
    /// Viterbi path returned with log p(x_1..T).
    public mutating func end(_ s: inout HMMSequence, learn: Bool) -> HMMEnding {
        let learning = learn && !settings.frozen
        guard model != nil else {
            if learning && !s.window.isEmpty { warmupSegments.append(s.window) }
            s.window = []
            return HMMEnding(path: nil, logLikelihood: 0, parametersChanged: false)
        }
        var changed = false
        if learning && !settings.recursive && !s.window.isEmpty { changed = learnWindow(&s) }
        let path = s.viterbi.path().path
        return HMMEnding(path: s.filtering ? path : [], logLikelihood: s.logLikelihood, parametersChanged: changed)
    }

    /// Scores a whole sequence without learning or touching any live sequence
    /// (the control socket's `score`): filtered and smoothed posteriors (T×N),
    /// predictive log-likelihoods, the Viterbi path and log p(x_1..T).
    public func score(_ xs: [Double]) -> HMMScore? {
        guard let model else { return nil }
        let f = model.filter(xs)
        let (_, _, posteriors) = model.expectedCounts([xs])
        let v = model.viterbi(xs)
        return HMMScore(filtered: f.filtered, smoothed: posteriors[0], predictive: f.predictive, path: v.path,
                        pathLogProbability: v.logProbability, logLikelihood: f.logLikelihood)
    }
}

/// A whole sequence scored under the current model.
public struct HMMScore: Sendable, Equatable {
    /// T×N p(z_t | x_1..t).
    public var filtered: [Double]
    /// T×N p(z_t | x_1..T).
    public var smoothed: [Double]
    /// log p(x_t | x_1..t−1).
    public var predictive: [Double]
    public var path: [Int]
    /// log p(x_1..T, path).
    public var pathLogProbability: Double
    /// log p(x_1..T).
    public var logLikelihood: Double
}
