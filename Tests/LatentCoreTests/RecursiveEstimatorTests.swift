import CAllocationCounter
import Foundation
import Testing
@testable import LatentCore

/// Cappé's (2011) recursive online EM: the correction form against the
/// textbook ρ recursion, its η_t = 1/t fixed point against forward–backward,
/// and learning a known HMM from a stream.
@Suite struct RecursiveEstimatorTests {
    // MARK: Models and data

    static func categorical(_ rng: inout Xoshiro256StarStar, states n: Int, symbols m: Int) throws -> HiddenMarkovModel<CategoricalEmissions> {
        try HiddenMarkovModel(
            start: (0..<n).map { _ in rng.uniform() + 0.2 }, transitions: (0..<(n * n)).map { _ in rng.uniform() + 0.1 },
            emissions: CategoricalEmissions(states: n, symbols: m, probabilities: (0..<(n * m)).map { _ in rng.uniform() + 0.05 }))
    }

    static func gaussian(_ rng: inout Xoshiro256StarStar, states n: Int, dimensions d: Int, type: CovarianceType) throws -> HiddenMarkovModel<GaussianEmissions> {
        let means = (0..<(n * d)).map { i in Double(i / d) * 1.5 + rng.normal() * 0.5 }
        var covariances: [Double] = []
        func spd() -> [Double] {  // B·Bᵀ + I: symmetric positive definite
            let b = (0..<(d * d)).map { _ in rng.normal() * 0.4 }
            var c = [Double](repeating: 0, count: d * d)
            for r in 0..<d { for s in 0..<d {
                for k in 0..<d { c[r * d + s] += b[r * d + k] * b[s * d + k] }
                if r == s { c[r * d + s] += 1 }
            } }
            return c
        }
        switch type {
        case .full: for _ in 0..<n { covariances += spd() }
        case .tied: covariances = spd()
        case .diag: covariances = (0..<(n * d)).map { _ in 0.5 + rng.uniform() }
        case .spherical: covariances = (0..<n).map { _ in 0.5 + rng.uniform() }
        }
        return try HiddenMarkovModel(
            start: (0..<n).map { _ in rng.uniform() + 0.2 }, transitions: (0..<(n * n)).map { _ in rng.uniform() + 0.1 },
            emissions: GaussianEmissions(states: n, means: means, covariances: covariances, covarianceType: type))
    }

    /// Observations drawn from the model's own parameters, one state path per call.
    static func sample(_ model: HiddenMarkovModel<CategoricalEmissions>, count: Int, _ rng: inout Xoshiro256StarStar) -> [Double] {
        func draw(_ p: ArraySlice<Double>) -> Int {
            var u = rng.uniform(), i = p.startIndex
            while i < p.endIndex - 1 { u -= p[i]; if u < 0 { break }; i += 1 }
            return i - p.startIndex
        }
        let n = model.states, m = model.emissions.symbols
        var xs: [Double] = [], z = draw(model.start[...])
        for t in 0..<count {
            if t > 0 { z = draw(model.transitions[(z * n)..<((z + 1) * n)]) }
            xs.append(Double(draw(model.emissions.probabilities[(z * m)..<((z + 1) * m)])))
        }
        return xs
    }

    static func gaussianData(_ model: HiddenMarkovModel<GaussianEmissions>, count: Int, _ rng: inout Xoshiro256StarStar) -> [Double] {
        // Not from the model: exactness does not depend on where y comes from.
        let d = model.emissions.observationWidth
        return (0..<(count * d)).map { i in Double((i / d / 7) % model.states) * 1.5 + rng.normal() }
    }

    static func flatten<S: EmissionStatistics>(_ s: HMMStatistics<S>) -> [Double] {
        s.start + s.transitions + s.emission.arrays.flatMap { $0 }
    }

    // MARK: The estimator under test, and a naive reference

    /// S after every step, from `recursiveUpdate` fed by `forwardStep`.
    static func recursive<E>(_ model: HiddenMarkovModel<E>, _ xs: [Double], etas: [Double], initial: HMMStatistics<E.Statistics>,
                             corrections: inout [[Double]]) -> [[Double]] {
        let n = model.states, w = model.emissions.observationWidth
        var stats = RecursiveHMMStatistics(initial)
        var correction = RecursiveCorrection()
        var workspace = RecursiveWorkspace()
        var previous = [Double](repeating: 0, count: n), alpha = previous
        var scratch = [Double](repeating: 0, count: model.stepScratchCount)
        var trace: [[Double]] = []
        for t in 0..<(xs.count / w) {
            xs.withUnsafeBufferPointer { p in
                let x = p.baseAddress! + t * w
                _ = model.forwardStep(x, previous: t == 0 ? nil : previous, into: &alpha, scratch: &scratch)
                model.recursiveUpdate(x, previous: t == 0 ? nil : previous, filtered: alpha, correction: &correction,
                                      statistics: &stats, step: etas[t], workspace: &workspace)
            }
            previous = alpha
            trace.append(stats.values)
            corrections.append(correction.values)
        }
        return trace
    }

    /// Cappé's recursion verbatim: ρ_t(k) as full vectors, S_t = Σ_k φ_t(k) ρ_t(k).
    /// The complete-data statistic comes from `accumulate` with one-hot γ and the
    /// flattening from `arrays`, so nothing is shared with the code under test
    /// but the filter.
    static func naive<E>(_ model: HiddenMarkovModel<E>, _ xs: [Double], etas: [Double], initial: HMMStatistics<E.Statistics>) -> [[Double]] {
        let n = model.states, w = model.emissions.observationWidth
        let filtered = model.filter(xs).filtered
        let s0 = flatten(initial), l = s0.count
        func s(_ from: Int?, _ to: Int, _ x: ArraySlice<Double>) -> [Double] {
            var one = HMMStatistics(states: n, emission: model.emissions.emptyStatistics())
            if let from { one.transitions[from * n + to] = 1 } else { one.start[to] = 1 }
            var gamma = [Double](repeating: 0, count: n)
            gamma[to] = 1
            var scratch = [Double](repeating: 0, count: model.emissions.scratchCount + 64)
            one.emission.accumulate(Array(x), gamma: gamma, scratch: &scratch)
            return flatten(one)
        }
        var rho = [[Double]](repeating: [], count: n), trace: [[Double]] = []
        for t in 0..<(xs.count / w) {
            let x = xs[(t * w)..<((t + 1) * w)], g = etas[t]
            var next = [[Double]](repeating: [Double](repeating: 0, count: l), count: n)
            for k in 0..<n {
                if t == 0 {
                    let s1 = s(nil, k, x)
                    for p in 0..<l { next[k][p] = g * s1[p] + (1 - g) * s0[p] }
                } else {
                    let phi = Array(filtered[((t - 1) * n)..<(t * n)])
                    let z = (0..<n).reduce(0.0) { $0 + phi[$1] * model.transitions[$1 * n + k] }
                    for i in 0..<n {
                        let r = phi[i] * model.transitions[i * n + k] / z
                        let si = s(i, k, x)
                        for p in 0..<l { next[k][p] += ((1 - g) * rho[i][p] + g * si[p]) * r }
                    }
                }
            }
            rho = next
            var total = [Double](repeating: 0, count: l)
            for k in 0..<n { for p in 0..<l { total[p] += filtered[t * n + k] * rho[k][p] } }
            trace.append(total)
        }
        return trace
    }

    static func checkExact<E>(_ model: HiddenMarkovModel<E>, _ xs: [Double], seed: UInt64) {
        var rng = Xoshiro256StarStar(seed: seed)
        let steps = xs.count / model.emissions.observationWidth
        let etas = (0..<steps).map { t in t == 0 ? 0.7 : 0.05 + 0.9 * rng.uniform() }
        // A non-zero S_0, so that (1 − η_1)·S_0 is exercised too.
        var initial = HMMStatistics(states: model.states, emission: model.emissions.emptyStatistics())
        var scratch = [Double](repeating: 0, count: model.emissions.scratchCount + 64)
        for t in 0..<3 {
            let gamma = (0..<model.states).map { _ in rng.uniform() }
            xs.withUnsafeBufferPointer { initial.emission.accumulate($0.baseAddress! + t * model.emissions.observationWidth, gamma: gamma, scratch: &scratch) }
        }
        for i in initial.start.indices { initial.start[i] = rng.uniform() }
        for i in initial.transitions.indices { initial.transitions[i] = rng.uniform() }
        var corrections: [[Double]] = []
        let got = recursive(model, xs, etas: etas, initial: initial, corrections: &corrections)
        let want = naive(model, xs, etas: etas, initial: initial)
        let filtered = model.filter(xs).filtered
        let n = model.states, l = got[0].count
        for t in 0..<steps {
            let scale = max(1, want[t].map(abs).max()!)
            #expect(maxAbsDifference(got[t], want[t]) <= 1e-12 * scale, "step \(t)")
            // The correction has zero φ-mean: S is the whole of the estimate's average.
            var mean = [Double](repeating: 0, count: l)
            for k in 0..<n { for p in 0..<l { mean[p] += filtered[t * n + k] * corrections[t][k * l + p] } }
            #expect(mean.allSatisfy { abs($0) <= 1e-12 * scale }, "step \(t)")
        }
    }

    // MARK: (a) exactness against Cappé's recursion

    /// N = 6 also takes the update's four-rows-at-a-time path and its remainder.
    @Test(arguments: [(3, 4), (6, 3)])
    func categoricalMatchesCappesRecursion(_ n: Int, _ m: Int) throws {
        var rng = Xoshiro256StarStar(seed: 1)
        let model = try Self.categorical(&rng, states: n, symbols: m)
        Self.checkExact(model, (0..<40).map { _ in Double(rng.next() % UInt64(m)) }, seed: 2)
    }

    @Test(arguments: [(CovarianceType.diag, 3, 2), (.diag, 5, 2), (.full, 2, 3), (.spherical, 3, 2), (.tied, 2, 2)])
    func gaussianMatchesCappesRecursion(_ type: CovarianceType, _ n: Int, _ d: Int) throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let model = try Self.gaussian(&rng, states: n, dimensions: d, type: type)
        Self.checkExact(model, Self.gaussianData(model, count: 50, &rng), seed: 4)
    }

    // MARK: (b) η_t = 1/t gives the smoothed counts of the whole sequence

    static func checkRunningAverage<E>(_ model: HiddenMarkovModel<E>, _ xs: [Double]) {
        let steps = xs.count / model.emissions.observationWidth
        var corrections: [[Double]] = []
        // η_1 = 1 erases S_0, whatever it was: start from zeros.
        let s = recursive(model, xs, etas: (0..<steps).map { 1 / Double($0 + 1) },
                          initial: HMMStatistics(states: model.states, emission: model.emissions.emptyStatistics()),
                          corrections: &corrections)
        for t in [0, 1, steps / 2, steps - 1] {
            let exact = flatten(model.expectedCounts([Array(xs[0..<((t + 1) * model.emissions.observationWidth)])]).statistics)
            let scaled = s[t].map { $0 * Double(t + 1) }
            #expect(maxAbsDifference(scaled, exact) <= 1e-9 * max(1, exact.map(abs).max()!), "T = \(t + 1)")
        }
    }

    @Test(arguments: [3, 5])
    func runningAverageEqualsForwardBackwardCountsCategorical(_ n: Int) throws {
        var rng = Xoshiro256StarStar(seed: 5)
        let model = try Self.categorical(&rng, states: n, symbols: 5)
        Self.checkRunningAverage(model, (0..<400).map { _ in Double(rng.next() % 5) })
    }

    @Test(arguments: [CovarianceType.diag, .full])
    func runningAverageEqualsForwardBackwardCountsGaussian(_ type: CovarianceType) throws {
        var rng = Xoshiro256StarStar(seed: 6)
        let model = try Self.gaussian(&rng, states: 3, dimensions: 2, type: type)
        Self.checkRunningAverage(model, Self.gaussianData(model, count: 300, &rng))
    }

    // MARK: Plumbing

    @Test func flatAccessMatchesArraysAndAccumulate() throws {
        var rng = Xoshiro256StarStar(seed: 7)
        let x = [0.3, -1.2, 2.5]
        var all: [any EmissionStatistics] = CovarianceType.allCases.map { MixtureStatistics(components: 3, dimensions: 3, covarianceType: $0) }
        all.append(SymbolCounts(states: 3, symbols: 4))
        for var stats in all {
            func check<S: EmissionStatistics>(_ stats: inout S) {
                let xs = stats is SymbolCounts ? [2.0] : x
                var scratch = [Double](repeating: 0, count: 16)
                stats.accumulate(xs, gamma: [0.2, 0.5, 0.3], scratch: &scratch)
                var flat = [Double](repeating: .nan, count: stats.flatCount)
                stats.copyFlat(into: &flat)
                #expect(flat == stats.arrays.flatMap { $0 })
                // addOneHot at k is accumulate with γ = w·e_k.
                for k in 0..<3 {
                    var expected = stats, gamma = [0.0, 0.0, 0.0]
                    gamma[k] = 1.7
                    expected.accumulate(xs, gamma: gamma, scratch: &scratch)
                    var added = flat
                    stats.addOneHot(xs, state: k, weight: 1.7, into: &added, scratch: &scratch)
                    #expect(maxAbsDifference(added, expected.arrays.flatMap { $0 }) < 1e-15)
                }
                var other = stats
                other.reset()
                let values = flat.map { _ in rng.uniform() }
                other.setFlat(from: values)
                #expect(other.arrays.flatMap { $0 } == values)
            }
            check(&stats)
        }
        // HMMStatistics → flat → HMMStatistics is the identity.
        let model = try Self.gaussian(&rng, states: 2, dimensions: 2, type: .full)
        let counts = model.expectedCounts([Self.gaussianData(model, count: 20, &rng)]).statistics
        #expect(RecursiveHMMStatistics(counts).statistics == counts)
        #expect(RecursiveHMMStatistics(counts).values == Self.flatten(counts))
    }

    @Test(arguments: [CovarianceType.diag, .full])
    func stepAllocatesNothing(_ type: CovarianceType) throws {
        var rng = Xoshiro256StarStar(seed: 8)
        let model = try Self.gaussian(&rng, states: 4, dimensions: 3, type: type)
        let xs = Self.gaussianData(model, count: 500, &rng)
        var stats = model.emptyRecursiveStatistics()
        var correction = RecursiveCorrection(), workspace = RecursiveWorkspace()
        var filtered = [Double](repeating: 0, count: 4), previous = filtered
        var scratch = [Double](repeating: 0, count: model.stepScratchCount)
        var before: UInt64 = 0
        xs.withUnsafeBufferPointer { p in
            filtered.withUnsafeMutableBufferPointer { f in
                previous.withUnsafeMutableBufferPointer { q in
                    scratch.withUnsafeMutableBufferPointer { s in
                        for t in 0..<500 {
                            if t == 1 { before = latentd_thread_allocations() }  // sized at t = 0
                            let x = p.baseAddress! + t * 3, prior: UnsafePointer<Double>? = t % 100 == 0 ? nil : UnsafePointer(q.baseAddress!)
                            _ = model.forwardStep(x, previous: prior, into: f.baseAddress!, scratch: s.baseAddress!)
                            model.recursiveUpdate(x, previous: prior, filtered: f.baseAddress!, correction: &correction,
                                                  statistics: &stats, step: 0.05, workspace: &workspace)
                            q.baseAddress!.update(from: f.baseAddress!, count: 4)
                        }
                    }
                }
            }
        }
        #expect(latentd_thread_allocations() == before)
        #expect(stats.values.allSatisfy { $0.isFinite })
    }

    // MARK: (c) learning a known HMM online

    @Test func onlineEMLearnsAKnownHMM() throws {
        let truth = try HiddenMarkovModel(
            start: [0.6, 0.4], transitions: [0.95, 0.05, 0.1, 0.9],
            emissions: CategoricalEmissions(states: 2, symbols: 6, probabilities: [
                0.4, 0.3, 0.15, 0.1, 0.03, 0.02,
                0.02, 0.03, 0.1, 0.15, 0.3, 0.4]))
        let initial = try HiddenMarkovModel(
            start: [0.5, 0.5], transitions: [0.6, 0.4, 0.45, 0.55],
            emissions: CategoricalEmissions(states: 2, symbols: 6, probabilities: [
                0.2, 0.2, 0.18, 0.16, 0.14, 0.12,
                0.14, 0.15, 0.16, 0.17, 0.18, 0.2]))
        var rng = Xoshiro256StarStar(seed: 2011)
        let training = (0..<100).map { _ in Self.sample(truth, count: 1_000, &rng) }
        let heldOut = (0..<10).map { _ in Self.sample(truth, count: 1_000, &rng) }
        func perObservation(_ m: HiddenMarkovModel<CategoricalEmissions>) -> Double {
            heldOut.reduce(0) { $0 + m.filter($1).logLikelihood } / 10_000
        }

        var model = initial
        var stats = model.emptyRecursiveStatistics()
        var workspace = RecursiveWorkspace()
        var filtered = [0.0, 0.0], previous = filtered, scratch = [Double](repeating: 0, count: model.stepScratchCount)
        var t = 0
        let burnIn = 100  // S settles before θ moves (Cappé's n_min)
        for xs in training {
            var correction = RecursiveCorrection()
            for i in xs.indices {
                xs.withUnsafeBufferPointer { p in
                    let x = p.baseAddress! + i
                    _ = model.forwardStep(x, previous: i == 0 ? nil : previous, into: &filtered, scratch: &scratch)
                    model.recursiveUpdate(x, previous: i == 0 ? nil : previous, filtered: filtered, correction: &correction,
                                          statistics: &stats, step: pow(Double(t + 2), -0.6), workspace: &workspace)
                }
                previous = filtered
                t += 1
                if t > burnIn && t % 16 == 0 {
                    model = try HiddenMarkovModel(statistics: stats.statistics, fallback: model)
                }
            }
        }
        let (before, after, best) = (perObservation(initial), perObservation(model), perObservation(truth))
        // Measured with this seed: initial −1.7820, learned −1.5905, truth −1.5883
        // nats per observation; over fifteen seeds the learned model stayed
        // 0.001–0.006 short of the truth, the noise floor of a step size ≈ 1/1000
        // at the end (Baum–Welch on the same data gets within 0.0003). 0.01 allows
        // for that and still fails a learner that stalls halfway.
        #expect((after - before) / (best - before) > 0.95, "\(before) → \(after), truth \(best)")
        #expect(abs(after - best) < 0.01, "learned \(after), truth \(best)")
        // States may come out in either order.
        let inOrder = model.emissions.probabilities[0] > model.emissions.probabilities[6]
        let stay = inOrder ? (model.transitions[0], model.transitions[3]) : (model.transitions[3], model.transitions[0])
        #expect(abs(stay.0 - 0.95) < 0.03 && abs(stay.1 - 0.9) < 0.03, "\(model.transitions)")
    }
}
