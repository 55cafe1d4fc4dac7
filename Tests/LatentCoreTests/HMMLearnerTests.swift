import CAllocationCounter
import Foundation
import Testing
@testable import LatentCore

/// The online HMM learner (SPEC §5) against the batch algorithms it streams:
/// filter, fixed-lag smoother, Viterbi, forward–backward counts, Baum–Welch.
@Suite struct HMMLearnerTests {
    typealias Casino = HiddenMarkovModel<CategoricalEmissions>
    typealias Gaussian = HiddenMarkovModel<GaussianEmissions>

    /// The occasionally dishonest casino: a fair die and a loaded one (six half the time).
    static func casino() throws -> Casino {
        try HiddenMarkovModel(
            start: [0.5, 0.5], transitions: [0.95, 0.05, 0.1, 0.9],
            emissions: CategoricalEmissions(
                states: 2, symbols: 6,
                probabilities: [Double](repeating: 1.0 / 6, count: 6) + [0.1, 0.1, 0.1, 0.1, 0.1, 0.5]))
    }

    /// Three sticky states in the plane, diagonal covariances.
    static func sticky() throws -> Gaussian {
        try HiddenMarkovModel(
            start: [0.5, 0.3, 0.2],
            transitions: [0.9, 0.05, 0.05, 0.05, 0.9, 0.05, 0.04, 0.06, 0.9],
            emissions: GaussianEmissions(
                states: 3, means: [0, 0, 3, 0, 0, 3], covariances: [1, 0.5, 0.5, 1, 0.8, 0.8], covarianceType: .diag))
    }

    static func casinoSettings() -> HMMLearnerSettings { HMMLearnerSettings(states: 2, shape: .categorical(symbols: 6)) }
    static func stickySettings(_ type: CovarianceType = .diag) -> HMMLearnerSettings {
        HMMLearnerSettings(states: 3, shape: .gaussian(dimensions: 2, covariance: type))
    }

    // MARK: 1. Frozen: the batch algorithms, one observation at a time

    /// Two sequences observed alternately (so nothing leaks between their
    /// states) give, each, exactly what the batch algorithms give on it alone.
    func checkFrozen<E: SeedableEmissions>(_ model: HiddenMarkovModel<E>, _ settings: HMMLearnerSettings,
                                           _ sequences: [[Double]]) {
        var settings = settings
        settings.frozen = true
        settings.lag = 2
        settings.window = 5
        settings.batch = 5
        var learner = HMMLearner(settings: settings, initial: model)
        let n = settings.states, w = settings.shape.observationWidth, lag = settings.lag
        var live = sequences.map { _ in learner.newSequence() }
        let lengths = sequences.map { $0.count / w }
        let reference = sequences.map { model.filter($0) }
        for t in 0..<lengths.max()! {
            for k in sequences.indices where t < lengths[k] {
                let step = learner.feed(sequences[k], t, &live[k])
                let f = reference[k]
                #expect(step.o.scored && step.o.t == t + 1 && !step.o.parametersChanged)
                #expect(maxAbsDifference(step.filtered, Array(f.filtered[(t * n)..<((t + 1) * n)])) < 1e-12, "seq \(k) t=\(t)")
                #expect(abs(step.o.logLikelihood - f.predictive[t]) < 1e-12, "seq \(k) t=\(t)")
                #expect(step.o.label == step.filtered.indices.max { step.filtered[$0] < step.filtered[$1] })
                if t >= lag {
                    // p(z_{t−L} | x_1..t): forward–backward on the prefix.
                    let gamma = model.expectedCounts([Array(sequences[k][0..<((t + 1) * w)])]).posteriors[0]
                    #expect(step.o.smoothedT == t + 1 - lag)
                    #expect(maxAbsDifference(step.smoothed, Array(gamma[((t - lag) * n)..<((t - lag + 1) * n)])) < 1e-12,
                            "seq \(k) t=\(t)")
                } else {
                    #expect(step.o.smoothedT == 0)
                }
            }
        }
        for k in sequences.indices {
            let ending = learner.end(&live[k], learn: true)
            #expect(ending.path == model.viterbi(sequences[k]).path)
            #expect(ending.logLikelihood == reference[k].logLikelihood)
            #expect(!ending.parametersChanged)
        }
        #expect(learner.model == model && learner.version == 1 && learner.pendingCount == 0)
        #expect(learner.observations == lengths.reduce(0, +))
    }

    @Test func frozenCategoricalIsTheBatchFilterSmootherAndViterbi() throws {
        let model = try Self.casino()
        var rng = Xoshiro256StarStar(seed: 11)
        checkFrozen(model, Self.casinoSettings(), [hmmTestSample(model, 37, &rng), hmmTestSample(model, 45, &rng)])
    }

    @Test func frozenGaussianIsTheBatchFilterSmootherAndViterbi() throws {
        let model = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 12)
        checkFrozen(model, Self.stickySettings(), [hmmTestSample(model, 41, &rng), hmmTestSample(model, 33, &rng)])
    }

    // MARK: 2. Windows chain into the whole sequence's counts

    static func expectClose<S>(_ a: HMMStatistics<S>, _ b: HMMStatistics<S>, _ tolerance: Double = 1e-9,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(maxAbsDifference(a.start, b.start) <= tolerance, "start", sourceLocation: sourceLocation)
        #expect(maxAbsDifference(a.transitions, b.transitions) <= tolerance, "transitions", sourceLocation: sourceLocation)
        for (x, y) in zip(a.emission.arrays, b.emission.arrays) {
            #expect(x.count == y.count && maxAbsDifference(x, y) <= tolerance, "emission", sourceLocation: sourceLocation)
        }
    }

    /// The reference for windowed learning: forward–backward over each window
    /// in turn, from the filtered distribution of the observation before it
    /// (π for the first); `windows` are index ranges of observations.
    static func chainedCounts<E>(_ model: HiddenMarkovModel<E>, _ xs: [Double], windows: [Range<Int>])
        -> HMMStatistics<E.Statistics> {
        let n = model.states, w = model.emissions.observationWidth
        let filtered = model.filter(xs).filtered
        var stats = HMMStatistics(states: n, emission: model.emissions.emptyStatistics())
        var workspace = HMMWorkspace()
        xs.withUnsafeBufferPointer { p in
            for window in windows {
                let x = p.baseAddress! + window.lowerBound * w
                if window.lowerBound == 0 {
                    model.forwardBackward(x, count: window.count, previous: nil, statistics: &stats, workspace: &workspace)
                } else {
                    let prior = Array(filtered[((window.lowerBound - 1) * n)..<(window.lowerBound * n)])
                    model.forwardBackward(x, count: window.count, previous: prior, statistics: &stats, workspace: &workspace)
                }
            }
        }
        return stats
    }

    /// Consecutive windows of `size` covering `range`.
    static func windows(_ range: Range<Int>, _ size: Int) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: size).map { $0..<min($0 + size, range.upperBound) }
    }

    /// Window after window, each continuing from the filtered distribution
    /// before it. Each window's posteriors see only the past and the window
    /// (p(z_s | x_1..end of window), not x_1..T), so the counts are those of
    /// the chain, not of forward–backward over the whole sequence; but every
    /// transition and emission is counted exactly once, so the totals agree,
    /// and a window as long as the sequence gives the whole sequence's counts.
    @Test(arguments: [7, 64])
    func windowCountsChainThroughTheFilter(window: Int) throws {
        let model = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 21)
        let xs = hmmTestSample(model, 50, &rng)
        var settings = Self.stickySettings()
        settings.window = window
        settings.batch = 1_000_000  // no update: the counts stay pending
        var learner = HMMLearner(settings: settings, initial: model)
        var s = learner.newSequence()
        for t in 0..<50 { _ = learner.feed(xs, t, &s) }
        #expect(learner.pendingCount == 50 / window * window && s.window.count == 2 * (50 % window))
        _ = learner.end(&s, learn: true)
        #expect(learner.pendingCount == 50 && learner.version == 1 && s.window.isEmpty)
        Self.expectClose(learner.pending, Self.chainedCounts(model, xs, windows: Self.windows(0..<50, window)))
        let whole = model.expectedCounts([xs]).statistics
        if window >= 50 { Self.expectClose(learner.pending, whole) }
        #expect(abs(learner.pending.transitions.reduce(0, +) - 49) < 1e-9)
        #expect(abs(learner.pending.emission.counts.reduce(0, +) - 50) < 1e-9)
        #expect(abs(learner.pending.start.reduce(0, +) - 1) < 1e-12)
    }

    /// An observation not learned from closes the window before it, and the
    /// next window starts from the filtered distribution after it: the
    /// unlearned observation counts neither its emission nor the transitions
    /// into and out of it (that out of it is counted from α_k), but everything
    /// after is conditioned on it.
    @Test func unlearnedObservationSplitsTheChain() throws {
        let model = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 22)
        let xs = hmmTestSample(model, 50, &rng)
        let k = 20
        var settings = Self.stickySettings()
        settings.window = 7
        settings.batch = 1_000_000
        var learner = HMMLearner(settings: settings, initial: model)
        var s = learner.newSequence()
        for t in 0..<50 {
            let step = learner.feed(xs, t, &s, learn: t != k)
            #expect(s.window.isEmpty == (t == k || (t > k ? (t - k) % 7 == 0 : (t + 1) % 7 == 0)), "t=\(t)")
            #expect(step.o.scored)
        }
        _ = learner.end(&s, learn: true)
        #expect(learner.pendingCount == 49)
        let expected = Self.chainedCounts(model, xs, windows: Self.windows(0..<k, 7) + Self.windows((k + 1)..<50, 7))
        Self.expectClose(learner.pending, expected)
        // x_1..x_k counted as a sequence of its own; x_k+2.. continuing from α_k+1.
        #expect(abs(learner.pending.transitions.reduce(0, +) - 48) < 1e-9)
        #expect(abs(learner.pending.emission.counts.reduce(0, +) - 49) < 1e-9)
    }

    /// Viterbi training chains windows through the last decoded state; after an
    /// unlearned observation the next window continues from that observation's
    /// MAP state (argmax α_k), not from the state decoded before it.
    @Test func hardCountsChainThroughDecodedStates() throws {
        let model = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 23)
        let xs = hmmTestSample(model, 50, &rng)
        let k = 20, n = 3, w = 2
        var settings = Self.stickySettings()
        settings.window = 7
        settings.batch = 1_000_000
        settings.hard = true
        var learner = HMMLearner(settings: settings, initial: model)
        var s = learner.newSequence()
        for t in 0..<50 { _ = learner.feed(xs, t, &s, learn: t != k) }
        _ = learner.end(&s, learn: true)
        #expect(learner.pendingCount == 49)
        // Windows of 7 over x_1..x_k (the last one cut short by the unlearned
        // observation), then over x_{k+2}..x_T from argmax α_{k+1}.
        var expected = HMMStatistics(states: n, emission: model.emissions.emptyStatistics())
        var workspace = ViterbiWorkspace()
        let alpha = Array(model.filter(xs).filtered[(k * n)..<((k + 1) * n)])
        xs.withUnsafeBufferPointer { p in
            for (range, first) in [(0..<k, -1), ((k + 1)..<50, alpha.indices.max { alpha[$0] < alpha[$1] }!)] {
                var previous = first
                for start in stride(from: range.lowerBound, to: range.upperBound, by: 7) {
                    previous = model.viterbiCounts(p.baseAddress! + start * w, count: min(7, range.upperBound - start),
                                                   previousState: previous, statistics: &expected, workspace: &workspace)
                }
            }
        }
        Self.expectClose(learner.pending, expected, 0)
        #expect(expected.transitions.reduce(0, +) == 48 && expected.start.reduce(0, +) == 1)
    }

    // MARK: 3. Learning improves the model

    /// Held-out log-likelihood per observation.
    static func perObservation<E>(_ model: HiddenMarkovModel<E>, _ sequences: [[Double]]) -> Double {
        let total = sequences.reduce(0) { $0 + model.filter($1).logLikelihood }
        return total / Double(sequences.reduce(0) { $0 + $1.count / model.emissions.observationWidth })
    }

    /// One pass over 100 training sequences of 200, each observed then ended,
    /// starting from `initial` or (nil) from the warm-up. Returns the held-out
    /// log-likelihood per observation (50 sequences) of the starting model, of
    /// the learned one and of the truth.
    fileprivate static func learn<E: HMMTestDrawing & SeedableEmissions>(
        _ truth: HiddenMarkovModel<E>, from initial: HiddenMarkovModel<E>?, _ settings: HMMLearnerSettings,
        hard: Bool = false, seed: UInt64
    ) -> (start: Double, learned: Double, truth: Double) {
        var settings = settings
        settings.window = 32
        settings.batch = 64
        settings.alpha = 0.6
        settings.hard = hard
        var rng = Xoshiro256StarStar(seed: seed)
        let train = (0..<100).map { _ in hmmTestSample(truth, 200, &rng) }
        let test = (0..<50).map { _ in hmmTestSample(truth, 200, &rng) }
        var learner = HMMLearner(settings: settings, initial: initial)
        var first = initial
        for xs in train {
            var live = [learner.newSequence()]
            for t in 0..<200 where learner.feed(xs, t, &live[0]).o.warmupReady {
                let ready = learner.finishWarmup(sequences: &live)
                #expect(ready)
                first = learner.model
            }
            _ = learner.end(&live[0], learn: true)
        }
        #expect(learner.version > 250)  // 20 000 observations, 64 per update
        return (perObservation(first!, test), perObservation(learner.model!, test), perObservation(truth, test))
    }

    static func worseCasino() throws -> Casino {
        try HiddenMarkovModel(
            start: [0.5, 0.5], transitions: [0.7, 0.3, 0.3, 0.7],
            emissions: CategoricalEmissions(
                states: 2, symbols: 6, probabilities: [0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3]))
    }

    static func perturbedSticky() throws -> Gaussian {
        try HiddenMarkovModel(
            start: [1, 1, 1], transitions: [Double](repeating: 1, count: 9),
            emissions: GaussianEmissions(
                states: 3, means: [1, 1, 2, 1.5, 1.5, 2], covariances: [Double](repeating: 3, count: 6), covarianceType: .diag))
    }

    /// The casino is weakly identified (the dice differ in one face), so
    /// per-observation log-likelihoods are close together: a wrong start is
    /// only ~0.07 nats worse than the truth, and the tolerances scale with that.
    /// One pass is about ten batch Baum–Welch iterations' worth: the stickiness
    /// of the transitions is still being learned (batch EM needs ~100).
    @Test func casinoLearnsToWithinAHundredthOfANatOfTheTruth() throws {
        let r = Self.learn(try Self.casino(), from: try Self.worseCasino(), Self.casinoSettings(), seed: 31)
        #expect(r.learned > r.start + 0.04, "\(r)")
        #expect(r.learned > r.truth - 0.01, "\(r)")
    }

    @Test func stickyGaussianLearnsToWithinTwoHundredthsOfANatOfTheTruth() throws {
        let r = Self.learn(try Self.sticky(), from: try Self.perturbedSticky(), Self.stickySettings(), seed: 32)
        #expect(r.learned > r.start + 0.5, "\(r)")
        #expect(r.learned > r.truth - 0.02, "\(r)")
    }

    /// The warm-up here sees two sequence starts only, and a start probability
    /// that EM drives to zero stays there (zeros are fixed points), so part of
    /// the remaining gap is π; emissions and transitions are learned as above.
    @Test func stickyGaussianFromTheWarmupLearnsToWithinTwoHundredthsOfANatOfTheTruth() throws {
        var settings = Self.stickySettings()
        settings.warmup = 300
        let r = Self.learn(try Self.sticky(), from: nil, settings, seed: 33)
        #expect(r.learned >= r.start, "\(r)")
        #expect(r.learned > r.truth - 0.02, "\(r)")
    }

    /// Viterbi training is biased (one-hot counts of overlapping states), so
    /// it gets looser tolerances; it must still learn.
    @Test func viterbiTrainingImprovesTooThoughBiased() throws {
        let casino = Self.learn(try Self.casino(), from: try Self.worseCasino(), Self.casinoSettings(), hard: true, seed: 34)
        #expect(casino.learned > casino.start + 0.03, "\(casino)")
        #expect(casino.learned > casino.truth - 0.03, "\(casino)")
        let sticky = Self.learn(try Self.sticky(), from: try Self.perturbedSticky(), Self.stickySettings(), hard: true, seed: 35)
        #expect(sticky.learned > sticky.start + 0.5, "\(sticky)")
        #expect(sticky.learned > sticky.truth - 0.05, "\(sticky)")
    }

    // MARK: 4. Warm-up

    /// Without a model, observations are buffered (unscored) until `warmup` of
    /// them; `finishWarmup` fits the first model on everything buffered (ended
    /// sequences included) and replays each live sequence's buffer through the
    /// filter, smoother and Viterbi, so labeling carries on as if the model had
    /// been there from the start.
    @Test func warmupBuffersThenReplaysLiveSequences() throws {
        let truth = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 41)
        let data = (0..<4).map { _ in hmmTestSample(truth, 150, &rng) }
        let short = hmmTestSample(truth, 30, &rng)
        var settings = Self.stickySettings()
        settings.warmup = 300
        settings.lag = 2
        let n = 3, w = 2, lag = 2
        var learner = HMMLearner<GaussianEmissions>(settings: settings)
        // A sequence that ends during the warm-up leaves its data behind.
        var ended = learner.newSequence()
        for t in 0..<30 {
            let step = learner.feed(short, t, &ended)
            #expect(!step.o.scored && step.o.t == t + 1 && !step.o.warmupReady && step.o.smoothedT == 0)
        }
        let ending = learner.end(&ended, learn: true)
        #expect(ending.path == nil && ending.logLikelihood == 0 && !ending.parametersChanged)
        #expect(learner.warmupSegments == [short] && learner.warmupCount == 30 && learner.model == nil)
        // Four more, interleaved, until the learner has enough.
        var live = data.map { _ in learner.newSequence() }
        var seen = [0, 0, 0, 0]
        var ready = false
        while !ready {
            for k in 0..<4 where !ready {
                let step = learner.feed(data[k], seen[k], &live[k])
                seen[k] += 1
                #expect(!step.o.scored && step.o.t == seen[k] && step.o.label == -1)
                ready = step.o.warmupReady
            }
        }
        #expect(seen.reduce(0, +) == 270 && learner.warmupCount == 300 && learner.model == nil && learner.version == 0)
        let finished = learner.finishWarmup(sequences: &live)
        #expect(finished)
        let model = try #require(learner.model)
        #expect(learner.version == 1 && learner.warmupSegments.isEmpty && learner.warmupCount == 0)
        // The fit counted five sequence starts among 300 observations: the ended one contributed.
        #expect(abs(learner.statistics.start.reduce(0, +) * 300 - 5) < 1e-9)
        #expect(abs(learner.statistics.emission.counts.reduce(0, +) - 1) < 1e-12)
        // Each live sequence is where filtering its buffer under the new model leaves it.
        for k in 0..<4 {
            let buffered = Array(data[k][0..<(seen[k] * w)])
            let f = model.filter(buffered)
            #expect(live[k].filtering && live[k].window.isEmpty && live[k].t == seen[k])
            #expect(live[k].alpha == Array(f.filtered.suffix(n)))
            #expect(live[k].logLikelihood == f.logLikelihood)
            #expect(live[k].viterbi.steps == seen[k] && live[k].viterbi.path().path == model.viterbi(buffered).path)
            #expect(live[k].smoother?.steps == seen[k])
        }
        // Observing carries on from there (no update yet: the windows have just been emptied).
        for _ in 0..<20 {
            for k in 0..<4 {
                let step = learner.feed(data[k], seen[k], &live[k])
                seen[k] += 1
                let f = model.filter(Array(data[k][0..<(seen[k] * w)]))
                #expect(step.o.scored && step.o.t == seen[k] && step.o.smoothedT == seen[k] - lag)
                #expect(step.filtered == Array(f.filtered.suffix(n)) && step.o.logLikelihood == f.predictive.last!)
            }
        }
        #expect(learner.version == 1)
        // To the end: learning goes on, and each path covers the whole sequence.
        for k in 0..<4 {
            while seen[k] < 150 {
                _ = learner.feed(data[k], seen[k], &live[k])
                seen[k] += 1
            }
            let end = learner.end(&live[k], learn: true)
            #expect(end.path?.count == 150 && end.logLikelihood.isFinite)
        }
        #expect(learner.version > 1)
    }

}

// MARK: - Helpers

/// What one `observe` wrote.
struct HMMLearnerStep: Equatable {
    var o: HMMObservation
    var filtered: [Double]
    /// Empty unless `o.smoothedT ≥ 1`.
    var smoothed: [Double]
}

extension HMMLearner {
    /// Observes observation `t` (0-based) of the row-major `xs`.
    mutating func feed(_ xs: [Double], _ t: Int, _ s: inout HMMSequence, learn: Bool = true) -> HMMLearnerStep {
        let n = settings.states, w = settings.shape.observationWidth
        var filtered = [Double](repeating: 0, count: n), smoothed = filtered
        let o = xs.withUnsafeBufferPointer { p in
            observe(p.baseAddress! + t * w, sequence: &s, learn: learn, filtered: &filtered, smoothed: &smoothed)
        }
        return HMMLearnerStep(o: o, filtered: filtered, smoothed: o.smoothedT >= 1 ? smoothed : [])
    }
}

// A deliberately small sampler, private to these tests.

protocol HMMTestDrawing: EmissionModel {
    func hmmTestDraw(state j: Int, into xs: inout [Double], _ rng: inout Xoshiro256StarStar)
}

/// An index drawn from probabilities `p` by their cumulative sums.
func hmmTestCategorical(_ p: ArraySlice<Double>, _ rng: inout Xoshiro256StarStar) -> Int {
    let u = rng.uniform()
    var cumulative = 0.0
    for (i, pi) in p.enumerated() {
        cumulative += pi
        if u < cumulative { return i }
    }
    return p.count - 1
}

extension CategoricalEmissions: HMMTestDrawing {
    func hmmTestDraw(state j: Int, into xs: inout [Double], _ rng: inout Xoshiro256StarStar) {
        xs.append(Double(hmmTestCategorical(probabilities[(j * symbols)..<((j + 1) * symbols)], &rng)))
    }
}

extension GaussianEmissions: HMMTestDrawing {
    func hmmTestDraw(state j: Int, into xs: inout [Double], _ rng: inout Xoshiro256StarStar) {
        precondition(covarianceType == .diag, "the test sampler draws diagonal Gaussians only")
        let d = observationWidth
        for i in 0..<d { xs.append(means[j * d + i] + covariances[j * d + i].squareRoot() * rng.normal()) }
    }
}

/// T observations (row-major) drawn from `model`.
func hmmTestSample<E: HMMTestDrawing>(_ model: HiddenMarkovModel<E>, _ length: Int,
                                              _ rng: inout Xoshiro256StarStar) -> [Double] {
    let n = model.states
    var xs: [Double] = []
    var z = hmmTestCategorical(model.start[...], &rng)
    for t in 0..<length {
        if t > 0 { z = hmmTestCategorical(model.transitions[(z * n)..<((z + 1) * n)], &rng) }
        model.emissions.hmmTestDraw(state: z, into: &xs, &rng)
    }
    return xs
}
