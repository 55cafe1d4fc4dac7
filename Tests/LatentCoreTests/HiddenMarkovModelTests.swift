import Foundation
import Testing
import LatentCore

@Suite struct HiddenMarkovModelTests {
    /// Wikipedia's rainy/sunny example: states Rainy, Sunny; symbols walk, shop, clean.
    static func weather() throws -> HiddenMarkovModel<CategoricalEmissions> {
        try HiddenMarkovModel(
            start: [0.6, 0.4], transitions: [0.7, 0.3, 0.4, 0.6],
            emissions: CategoricalEmissions(states: 2, symbols: 3, probabilities: [0.1, 0.4, 0.5, 0.6, 0.3, 0.1]))
    }

    @Test func textbookViterbiPath() throws {
        let (path, logP) = try Self.weather().viterbi([0, 1, 2])  // walk, shop, clean
        #expect(path == [1, 0, 0])  // Sunny, Rainy, Rainy
        #expect(abs(exp(logP) - 0.01344) < 1e-12)
    }

    @Test func forwardFilterMatchesBruteForceEnumeration() throws {
        let model = try Self.weather()
        let xs: [Double] = [0, 1, 2, 2, 0]
        // p(x) by summing over all 2^5 paths.
        var total = 0.0
        for code in 0..<(1 << xs.count) {
            var p = 1.0, previous = -1
            for (t, x) in xs.enumerated() {
                let z = (code >> t) & 1
                p *= (t == 0 ? model.start[z] : model.transitions[previous * 2 + z])
                p *= model.emissions.probabilities[z * 3 + Int(x)]
                previous = z
            }
            total += p
        }
        let (ll, _, predictive) = model.filter(xs)
        #expect(abs(ll - log(total)) < 1e-12)
        #expect(abs(predictive.reduce(0, +) - ll) < 1e-12)
    }

    /// The Gaussian forward filter at sizes whose scaled likelihoods go through the SIMD
    /// exp (blocks of four states) and libm (the one to three left), against the textbook
    /// recursion in log space with libm's exp and log and the densities written out.
    @Test(arguments: [4, 5, 8, 11, 29])
    func gaussianForwardFilterMatchesLogSpaceRecursion(_ n: Int) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(40 + n))
        let d = 2
        let means = (0..<(n * d)).map { _ in rng.normal() * 2 }
        let variances = (0..<(n * d)).map { _ in 0.3 + rng.uniform() }
        var transitions = (0..<(n * n)).map { _ in 0.05 + rng.uniform() }
        for i in 0..<n {
            transitions[i * n + i] += 4
            let total = transitions[(i * n)..<(i * n + n)].reduce(0, +)
            for j in 0..<n { transitions[i * n + j] /= total }
        }
        let start = [Double](repeating: 1 / Double(n), count: n)
        let model = try HiddenMarkovModel(
            start: start, transitions: transitions,
            emissions: GaussianEmissions(states: n, means: means, covariances: variances, covarianceType: .diag))
        let xs = (0..<(200 * d)).map { _ in rng.normal() * 3 }
        func logDensity(_ t: Int, _ j: Int) -> Double {
            var s = 0.0
            for i in 0..<d {
                let v = variances[j * d + i], z = xs[t * d + i] - means[j * d + i]
                s += log(2 * Double.pi * v) + z * z / v
            }
            return -0.5 * s
        }
        func logSumExp(_ v: [Double]) -> Double {
            let m = v.max()!
            return m + log(v.reduce(0) { $0 + exp($1 - m) })
        }
        var logAlpha = (0..<n).map { log(start[$0]) + logDensity(0, $0) }
        for t in 1..<200 {
            logAlpha = (0..<n).map { j in
                logSumExp((0..<n).map { logAlpha[$0] + log(transitions[$0 * n + j]) }) + logDensity(t, j)
            }
        }
        let want = logSumExp(logAlpha)
        let (ll, filtered, _) = model.filter(xs)
        #expect(abs(ll - want) <= 1e-10 * abs(want), "log-likelihood \(ll), log-space recursion \(want)")
        let last = Array(filtered.suffix(n))
        for j in 0..<n { #expect(abs(last[j] - exp(logAlpha[j] - want)) <= 1e-10, "state \(j)") }
    }

    /// Smoothed posteriors of forward–backward against the textbook recursions in log
    /// space, at sizes whose matrix–vector products (prediction forward, Aβ backward)
    /// take every path of `combineRows`: blocks of 16, 8 and 4 columns and the rest.
    @Test(arguments: [3, 6, 12, 29])
    func categoricalPosteriorsMatchLogSpaceForwardBackward(_ n: Int) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(70 + n))
        let m = 5, steps = 40
        func stochastic(_ rows: Int, _ cols: Int) -> [Double] {
            var p = (0..<(rows * cols)).map { _ in 0.05 + rng.uniform() }
            for r in 0..<rows {
                let total = p[(r * cols)..<(r * cols + cols)].reduce(0, +)
                for c in 0..<cols { p[r * cols + c] /= total }
            }
            return p
        }
        let a = stochastic(n, n), b = stochastic(n, m), start = stochastic(1, n)
        let model = try HiddenMarkovModel(
            start: start, transitions: a, emissions: CategoricalEmissions(states: n, symbols: m, probabilities: b))
        let xs = (0..<steps).map { _ in Double(rng.next() % UInt64(m)) }
        func logSumExp(_ v: [Double]) -> Double {
            let top = v.max()!
            return top + log(v.reduce(0) { $0 + exp($1 - top) })
        }
        func logB(_ t: Int, _ j: Int) -> Double { log(b[j * m + Int(xs[t])]) }
        var logAlpha = [[Double]](repeating: [], count: steps), logBeta = logAlpha
        logAlpha[0] = (0..<n).map { log(start[$0]) + logB(0, $0) }
        for t in 1..<steps {
            logAlpha[t] = (0..<n).map { j in
                logSumExp((0..<n).map { logAlpha[t - 1][$0] + log(a[$0 * n + j]) }) + logB(t, j)
            }
        }
        logBeta[steps - 1] = [Double](repeating: 0, count: n)
        for t in stride(from: steps - 2, through: 0, by: -1) {
            logBeta[t] = (0..<n).map { i in
                logSumExp((0..<n).map { log(a[i * n + $0]) + logB(t + 1, $0) + logBeta[t + 1][$0] })
            }
        }
        let gamma = model.expectedCounts([xs]).posteriors[0]
        for t in 0..<steps {
            let joint = (0..<n).map { logAlpha[t][$0] + logBeta[t][$0] }, total = logSumExp(joint)
            for j in 0..<n {
                let want = exp(joint[j] - total)
                #expect(abs(gamma[t * n + j] - want) <= 1e-10, "t=\(t) state \(j)")
            }
        }
    }

    @Test func millionStepSequenceDoesNotUnderflow() throws {
        let model = try Self.weather()
        var rng = Xoshiro256StarStar(seed: 9)
        let xs = (0..<1_000_000).map { _ in Double(rng.next() % 3) }
        let (ll, filtered, _) = model.filter(xs)
        #expect(ll.isFinite && ll < -500_000)
        let last = Array(filtered.suffix(2))
        #expect(last.allSatisfy(\.isFinite) && abs(last.reduce(0, +) - 1) < 1e-12)
        let (path, logP) = model.viterbi(xs)
        #expect(path.count == 1_000_000 && logP.isFinite && logP <= ll)
    }

    @Test func windowedCountsEqualWholeSequenceCountsAtTheirSum() throws {
        // Chaining windows through the filtered distribution counts every
        // transition exactly once: the totals are those of the whole sequence.
        let model = try Self.weather()
        var rng = Xoshiro256StarStar(seed: 4)
        let xs = (0..<200).map { _ in Double(rng.next() % 3) }
        let whole = model.expectedCounts([xs]).statistics
        var windowed = HMMStatistics(states: 2, emission: model.emissions.emptyStatistics())
        var workspace = HMMWorkspace()
        var previous: [Double]? = nil
        let (_, filtered, _) = model.filter(xs)
        var logLikelihood = 0.0
        for start in stride(from: 0, to: 200, by: 64) {
            let count = min(64, 200 - start)
            logLikelihood += xs.withUnsafeBufferPointer { p in
                if let prev = previous {
                    return prev.withUnsafeBufferPointer { model.forwardBackward(p.baseAddress! + start, count: count, previous: $0.baseAddress!, statistics: &windowed, workspace: &workspace) }
                }
                return model.forwardBackward(p.baseAddress! + start, count: count, previous: nil, statistics: &windowed, workspace: &workspace)
            }
            previous = Array(filtered[((start + count - 1) * 2)..<((start + count) * 2)])
        }
        #expect(abs(logLikelihood - model.filter(xs).logLikelihood) < 1e-9)
        #expect(abs(windowed.transitions.reduce(0, +) - 199) < 1e-9)
        #expect(abs(whole.transitions.reduce(0, +) - 199) < 1e-9)
        #expect(abs(windowed.emission.counts.reduce(0, +) - 200) < 1e-9)
        // γ_0 given the first 64 observations against given all 200: this chain forgets
        // its start long before 64 steps, so they agree to rounding (not bit for bit:
        // the two backward passes round differently).
        for j in 0..<2 { #expect(abs(windowed.start[j] - whole.start[j]) <= 1e-15, "state \(j)") }
    }

    @Test func baumWelchNeverDecreasesTheLogLikelihood() throws {
        for seed in UInt64(1)...15 {
            var rng = Xoshiro256StarStar(seed: seed)
            let sequences = (0..<5).map { _ in (0..<80).map { _ in Double(rng.next() % 3) } }
            let noisy = try HiddenMarkovModel(
                start: [rng.uniform() + 0.1, rng.uniform() + 0.1],
                transitions: (0..<4).map { _ in rng.uniform() + 0.05 },
                emissions: CategoricalEmissions(states: 2, symbols: 3, probabilities: (0..<6).map { _ in rng.uniform() + 0.05 }))
            let (_, trace) = noisy.baumWelch(sequences, iterations: 100)
            for i in 1..<trace.count {
                #expect(trace[i] >= trace[i - 1] - 1e-9 * abs(trace[i - 1]), "seed \(seed) iteration \(i): \(trace[i - 1]) → \(trace[i])")
            }
        }
    }
}

@Test func fixedLagSmoothingEqualsForwardBackwardOnThePrefix() throws {
    let model = try HiddenMarkovModelTests.weather()
    var rng = Xoshiro256StarStar(seed: 12)
    let xs = (0..<60).map { _ in Double(rng.next() % 3) }
    let lag = 5
    var smoother = FixedLagSmoother(lag: lag, states: 2)
    var alpha = [Double](repeating: 0, count: 2), previous = alpha
    var ratios = alpha, smoothed = alpha
    var scratch = [Double](repeating: 0, count: 8)
    for t in 0..<xs.count {
        _ = xs.withUnsafeBufferPointer { p in
            model.forwardStep(p.baseAddress! + t, previous: t == 0 ? nil : previous, into: &alpha, scratch: &scratch, ratios: &ratios)
        }
        previous = alpha
        if smoother.push(alpha: alpha, ratios: ratios, model: model, smoothed: &smoothed, scratch: &scratch) {
            // Reference: forward–backward on x_1..t, posterior at t − lag.
            let gamma = model.expectedCounts([Array(xs[0...t])]).posteriors[0]
            let expected = Array(gamma[((t - lag) * 2)..<((t - lag) * 2 + 2)])
            #expect(abs(smoothed[0] - expected[0]) < 1e-12 && abs(smoothed[1] - expected[1]) < 1e-12, "t=\(t)")
        }
    }
    #expect(smoother.steps == 60)
}
