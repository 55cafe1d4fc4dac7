import LatentCore

/// `latentd bench --hmm-states …`: the per-observation cost of the HMM hot
/// paths, in ns/observation, on a seeded synthetic model and data sampled from
/// it. scripts/compare_hmmlearn.py runs it next to hmmlearn on the same sizes.
///
/// Each kernel is timed on its own, so that a regression points at one piece
/// of code rather than at the learner as a whole:
///
/// - **forward**: one normalized forward-filter step (`forwardStep`): the
///   filtered distribution and log p(x_t | x_1..t−1). The daemon does this for
///   every observation of every HMM model.
/// - **window counts**: forward–backward over windows of `window` observations
///   plus adding their expected counts (`forwardBackward`): what the online
///   learner does per observation on top of filtering. The stepwise M-step
///   (once per mini-batch) is left out, as it is for the mixture benchmark.
/// - **smoother**: `FixedLagSmoother.push` with lag `lag`, fed precomputed
///   filter outputs (a ring of 1024 steps), so only the push is timed.
/// - **viterbi**: `OnlineViterbi.step` (δ and back-pointers); the back-pointers
///   are reserved beforehand and the final backtrack is not timed.
///
/// Data is generated before timing; every kernel runs `repeats` times and the
/// fastest run counts. Nothing allocates inside the timed loops: the optional
/// `allocations` counter (a test's malloc counter) proves it.
public enum HMMBenchmark {
    public enum Emission: String, Sendable, CaseIterable {
        case gaussian, categorical
    }

    public enum Kernel: String, Sendable, CaseIterable {
        case forward, windowCounts = "window_counts", smoother, viterbi
    }

    public struct Result: Sendable {
        public var emission: Emission
        public var states: Int
        /// D for Gaussian (diagonal) emissions, M symbols for categorical ones.
        public var width: Int
        public var observations: Int
        public var window: Int
        public var lag: Int
        /// ns/observation, fastest of the repeats.
        public var nanoseconds: [Kernel: Double] = [:]
        /// Heap allocations inside each timed loop, over all its repeats
        /// (only when an allocation counter was given).
        public var allocations: [Kernel: UInt64] = [:]
        /// Whole-learner cost (`HMMLearner.observe`: filter, learning and M-steps,
        /// window 64, batch 16) per estimator, "windowed" and "recursive": the
        /// issue's comparison of the two on the same data. Not allocation-free
        /// (each M-step builds a model), so kept apart from `nanoseconds`.
        public var learners: [String: Double] = [:]
        /// Depends on every result, so that no kernel can be optimized away.
        public var checksum = 0.0

        /// One JSON line, the format scripts/compare_hmmlearn.py reads.
        public var json: String {
            let size = emission == .gaussian ? #""d":\#(width)"# : #""m":\#(width)"#
            let figures = (Kernel.allCases.map { #""\#($0.rawValue)_ns":\#(nanoseconds[$0] ?? .nan)"# }
                + learners.keys.sorted().map { #""learner_\#($0)_ns":\#(learners[$0]!)"# }).joined(separator: ",")
            return #"{"emission":"\#(emission.rawValue)","states":\#(states),\#(size),"n":\#(observations),"#
                + #""window":\#(window),"lag":\#(lag),\#(figures)}"#
        }
    }

    /// Runs every kernel for one size. `width` is D (Gaussian, diagonal
    /// covariances, as hmmlearn's `GaussianHMM(covariance_type="diag")`) or the
    /// number of symbols M (categorical).
    public static func run(
        _ emission: Emission, states n: Int, width: Int, observations t: Int, repeats: Int,
        window: Int = 8, lag: Int = 8, allocations: (() -> UInt64)? = nil, learners: Bool = false
    ) -> Result {
        precondition(n >= 1 && width >= 1 && t >= 1 && repeats >= 1 && window >= 1 && lag >= 1)
        var rng = Xoshiro256StarStar(seed: 23)
        var result = Result(emission: emission, states: n, width: width, observations: t, window: window, lag: lag)
        let (start, transitions) = chain(n, &rng)
        switch emission {
        case .gaussian:
            let means = (0..<(n * width)).map { _ in 3 * rng.normal() }
            let variances = (0..<(n * width)).map { _ in 0.5 + rng.uniform() }
            let e = try! GaussianEmissions(states: n, means: means, covariances: variances, covarianceType: .diag)
            let model = try! HiddenMarkovModel(start: start, transitions: transitions, emissions: e)
            measure(model, &rng, repeats: repeats, allocations: allocations, into: &result)
            if learners { measureLearners(model, shape: .gaussian(dimensions: width, covariance: .diag), &rng, repeats: repeats, into: &result) }
        case .categorical:
            // Peaked rows (u³), so that states are told apart by their symbols.
            let p = (0..<(n * width)).map { _ in 0.01 + _cube(rng.uniform()) }
            let e = try! CategoricalEmissions(states: n, symbols: width, probabilities: p)
            let model = try! HiddenMarkovModel(start: start, transitions: transitions, emissions: e)
            measure(model, &rng, repeats: repeats, allocations: allocations, into: &result)
            if learners { measureLearners(model, shape: .categorical(symbols: width), &rng, repeats: repeats, into: &result) }
        }
        return result
    }

    /// π ∝ 0.5 + u; A_ij ∝ u + N·[i = j]: sticky, as real regimes are, yet every
    /// transition possible (no zero that would let a kernel skip work).
    static func chain(_ n: Int, _ rng: inout Xoshiro256StarStar) -> (start: [Double], transitions: [Double]) {
        let start = (0..<n).map { _ in 0.5 + rng.uniform() }
        let transitions = (0..<(n * n)).map { k in rng.uniform() + (k / n == k % n ? Double(n) : 0) }
        return (start, transitions)
    }

    /// Times `body` `repeats` times, after an untimed `prepare` each time
    /// (fresh state, reserved buffers); returns the fastest run in
    /// ns/observation. Allocations inside `body` go to `result.allocations`.
    static func time(
        _ kernel: Kernel, repeats: Int, observations: Int, allocations: (() -> UInt64)?,
        into result: inout Result, prepare: () -> Void = {}, _ body: () -> Double
    ) {
        var best = Double.infinity
        for _ in 0..<repeats {
            prepare()
            let before = allocations?() ?? 0
            let start = monotonicSeconds()
            let value = body()
            let seconds = monotonicSeconds() - start
            if let allocations { result.allocations[kernel, default: 0] += allocations() - before }
            result.checksum += value
            best = min(best, seconds / Double(observations) * 1e9)
        }
        result.nanoseconds[kernel] = best
    }

    static func measure<E: EmissionModel>(
        _ model: HiddenMarkovModel<E>, _ rng: inout Xoshiro256StarStar, repeats: Int,
        allocations: (() -> UInt64)?, into result: inout Result
    ) {
        let n = model.states, w = model.emissions.observationWidth, t = result.observations
        let data = model.sample(length: t, rng: &rng).observations
        var scratch = [Double](repeating: 0, count: model.stepScratchCount + OnlineViterbi.scratchCount(model))
        var alphas = [Double](repeating: 0, count: 2 * n)
        var viterbi = OnlineViterbi(states: n)
        data.withUnsafeBufferPointer { xs in
            scratch.withUnsafeMutableBufferPointer { sc in
                alphas.withUnsafeMutableBufferPointer { ab in
                    let x = xs.baseAddress!, s = sc.baseAddress!, a = ab.baseAddress!
                    time(.forward, repeats: repeats, observations: t, allocations: allocations, into: &result) {
                        var total = 0.0
                        for i in 0..<t {
                            let previous: UnsafePointer<Double>? = i == 0 ? nil : UnsafePointer(a + ((i + 1) & 1) * n)
                            total += model.forwardStep(x + i * w, previous: previous, into: a + (i & 1) * n, scratch: s)
                        }
                        return total
                    }
                    time(.viterbi, repeats: repeats, observations: t, allocations: allocations, into: &result, prepare: {
                        viterbi = OnlineViterbi(states: n)
                        viterbi.reserveCapacity(steps: t)
                    }) {
                        for i in 0..<t { viterbi.step(x + i * w, model: model, scratch: s) }
                        return viterbi.delta[0]  // not delta.max(): unoptimized builds allocate in it
                    }
                }
            }
        }
        result.checksum += Double(viterbi.path().path.last ?? 0)
        measureWindowCounts(model, data, repeats: repeats, allocations: allocations, into: &result)
        measureSmoother(model, data, repeats: repeats, allocations: allocations, into: &result)
    }

    /// The whole online learner, windowed then recursive, on one sequence
    /// sampled from `model` (which is also the learner's starting model).
    static func measureLearners<E: SeedableEmissions>(
        _ model: HiddenMarkovModel<E>, shape: EmissionShape, _ rng: inout Xoshiro256StarStar, repeats: Int,
        into result: inout Result
    ) {
        let n = model.states, w = shape.observationWidth, t = result.observations
        let data = model.sample(length: t, rng: &rng).observations
        var filtered = [Double](repeating: 0, count: n), smoothed = filtered
        for (name, recursive) in [("windowed", false), ("recursive", true)] {
            var settings = HMMLearnerSettings(states: n, shape: shape)
            settings.recursive = recursive
            var best = Double.infinity
            for _ in 0..<repeats {
                var learner = HMMLearner<E>(settings: settings, initial: model)
                var sequence = learner.newSequence()
                let start = monotonicSeconds()
                data.withUnsafeBufferPointer { xs in
                    filtered.withUnsafeMutableBufferPointer { f in
                        smoothed.withUnsafeMutableBufferPointer { sm in
                            for i in 0..<t {
                                result.checksum += learner.observe(xs.baseAddress! + i * w, sequence: &sequence, learn: true,
                                                                   filtered: f.baseAddress!, smoothed: sm.baseAddress!).logLikelihood
                            }
                        }
                    }
                }
                best = min(best, (monotonicSeconds() - start) / Double(t) * 1e9)
            }
            result.learners[name] = best
        }
    }

    /// Windows of `result.window` observations; each continues from a fixed
    /// prior (the learner passes the filtered α before the window; the cost is
    /// the same), except the first, which starts the sequence.
    static func measureWindowCounts<E: EmissionModel>(
        _ model: HiddenMarkovModel<E>, _ data: [Double], repeats: Int,
        allocations: (() -> UInt64)?, into result: inout Result
    ) {
        let n = model.states, w = model.emissions.observationWidth, t = result.observations, size = result.window
        var stats = HMMStatistics(states: n, emission: model.emissions.emptyStatistics())
        var workspace = HMMWorkspace()
        let prior = [Double](repeating: 1 / Double(n), count: n)
        data.withUnsafeBufferPointer { xs in
            prior.withUnsafeBufferPointer { pb in
                let x = xs.baseAddress!, p = pb.baseAddress!
                // Sizes the workspace once, as the learner's first window does.
                model.forwardBackward(x, count: min(size, t), previous: nil, statistics: &stats, workspace: &workspace)
                time(.windowCounts, repeats: repeats, observations: t, allocations: allocations, into: &result,
                     prepare: { stats.reset() }) {
                    var total = 0.0, s = 0
                    while s < t {
                        let count = min(size, t - s)
                        total += model.forwardBackward(x + s * w, count: count, previous: s == 0 ? nil : p,
                                                       statistics: &stats, workspace: &workspace)
                        s += count
                    }
                    return total + stats.transitions[0]
                }
            }
        }
    }

    /// The filter's outputs (α_t and e_t/c_t) for the first 1024 observations
    /// are computed untimed; the timed loop pushes them round and round.
    static func measureSmoother<E: EmissionModel>(
        _ model: HiddenMarkovModel<E>, _ data: [Double], repeats: Int,
        allocations: (() -> UInt64)?, into result: inout Result
    ) {
        let n = model.states, w = model.emissions.observationWidth, t = result.observations, lag = result.lag
        let ring = min(1024, t)
        var alphas = [Double](repeating: 0, count: ring * n), ratios = alphas
        var scratch = [Double](repeating: 0, count: max(model.stepScratchCount, 3 * n))
        var smoother = FixedLagSmoother(lag: lag, states: n)
        data.withUnsafeBufferPointer { xs in
            alphas.withUnsafeMutableBufferPointer { ab in
                ratios.withUnsafeMutableBufferPointer { rb in
                    scratch.withUnsafeMutableBufferPointer { sc in
                        let a = ab.baseAddress!, r = rb.baseAddress!, s = sc.baseAddress!
                        for i in 0..<ring {
                            let previous: UnsafePointer<Double>? = i == 0 ? nil : UnsafePointer(a + (i - 1) * n)
                            _ = model.forwardStep(xs.baseAddress! + i * w, previous: previous, into: a + i * n,
                                                  scratch: s, ratios: r + i * n)
                        }
                        time(.smoother, repeats: repeats, observations: t, allocations: allocations, into: &result,
                             prepare: { smoother = FixedLagSmoother(lag: lag, states: n) }) {
                            var total = 0.0
                            let smoothed = s + 2 * n
                            for i in 0..<t {
                                let k = i % ring
                                if smoother.push(alpha: a + k * n, ratios: r + k * n, model: model,
                                                 smoothed: smoothed, scratch: s) {
                                    total += smoothed[0]
                                }
                            }
                            return total
                        }
                    }
                }
            }
        }
    }
}

@inline(__always) private func _cube(_ u: Double) -> Double { u * u * u }
