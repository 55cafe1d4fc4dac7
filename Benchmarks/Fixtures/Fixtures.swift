import Benchmark
import LatentCore
import LatentDaemon

/// Conventions shared by every benchmark target.
///
/// Per-observation benchmarks process `observationsPerIteration` observations per
/// iteration and run with `scalingFactor: .kilo`, so one iteration's wall clock in µs
/// is ns/observation and its malloc count divided by 1000 is allocations/observation.
public enum Bench {
    public static let observationsPerIteration = 1000

    /// Regression thresholds for `swift package benchmark baseline check`: p50 and p90
    /// wall clock (and throughput) may drift 10 %; the allocation count may not grow at
    /// all where the path must not allocate, and 5 % elsewhere.
    public static func thresholds(allocationFree: Bool) -> [BenchmarkMetric: BenchmarkThresholds] {
        let time = BenchmarkThresholds(relative: [.p50: 10, .p90: 10])
        let mallocs = allocationFree
            ? BenchmarkThresholds(absolute: [.p0: 0, .p50: 0, .p90: 0, .p100: 0])
            : BenchmarkThresholds(relative: [.p50: 5, .p90: 5])
        return [.wallClock: time, .throughput: time, .mallocCountTotal: mallocs]
    }

    /// 1000 observations per iteration.
    public static func perObservation(allocationFree: Bool = true) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal],
            warmupIterations: 3,
            scalingFactor: .kilo,
            maxDuration: .milliseconds(400),
            maxIterations: 1000,
            thresholds: thresholds(allocationFree: allocationFree))
    }

    /// One operation (an M-step, a checkpoint) per iteration.
    public static func perCall(allocationFree: Bool = false) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal],
            warmupIterations: 3,
            scalingFactor: .one,
            maxDuration: .milliseconds(400),
            maxIterations: 10_000,
            thresholds: thresholds(allocationFree: allocationFree))
    }
}

/// A mixture, data drawn near its means, and the E-step buffers, as `latentd bench`
/// (MixtureBenchmark.swift) builds them.
public enum MixtureFixture {
    public static func model(_ type: CovarianceType, components k: Int, dimensions d: Int, seed: UInt64 = 11)
        -> GaussianMixture
    {
        var rng = Xoshiro256StarStar(seed: seed)
        return MixtureBenchmark.model(type, components: k, dimensions: d, rng: &rng)
    }

    /// `n` observations, row-major, around the K means.
    public static func data(components k: Int, dimensions d: Int, count n: Int = Bench.observationsPerIteration,
                            seed: UInt64 = 12) -> [Double]
    {
        var rng = Xoshiro256StarStar(seed: seed)
        return (0..<(n * d)).map { Double(($0 / d) % k) + rng.normal() }
    }

    /// Statistics of `data` under `model` (what an M-step consumes).
    public static func statistics(_ model: GaussianMixture, data: [Double]) -> MixtureStatistics {
        let k = model.components, d = model.dimensions
        var stats = MixtureStatistics(components: k, dimensions: d, covarianceType: model.covarianceType)
        var resp = [Double](repeating: 0, count: k)
        var scratch = [Double](repeating: 0, count: max(d, d * (d + 1) / 2))
        data.withUnsafeBufferPointer { xs in
            for row in 0..<(xs.count / d) {
                let x = xs.baseAddress! + row * d
                _ = model.responsibilities(x, into: &resp, scratch: &scratch)
                stats.accumulate(x, gamma: resp, scratch: &scratch)
            }
        }
        return stats
    }

    /// A learner past its warm-up (started from `model`), that has learned from `data`.
    public static func learner(_ model: GaussianMixture, data: [Double]) -> MixtureLearner {
        let k = model.components, d = model.dimensions
        let settings = LearnerSettings(components: k, dimensions: d, covarianceType: model.covarianceType)
        var learner = MixtureLearner(settings: settings, initial: model)
        var resp = [Double](repeating: 0, count: k)
        data.withUnsafeBufferPointer { xs in
            for row in 0..<(xs.count / d) { _ = learner.observe(xs.baseAddress! + row * d, learn: true, responsibilities: &resp) }
        }
        return learner
    }
}

/// N-state Gaussian HMMs (D-dimensional diagonal emissions, sticky transitions) and
/// sequences sampled from them.
public enum HMMFixture {
    public static func model(states n: Int, dimensions d: Int = 8) -> HiddenMarkovModel<GaussianEmissions> {
        var means = [Double](repeating: 0, count: n * d)
        for j in 0..<n { for i in 0..<d { means[j * d + i] = Double((j + i) % n) * 1.5 } }
        let emissions = try! GaussianEmissions(
            states: n, means: means, covariances: [Double](repeating: 1, count: n * d), covarianceType: .diag)
        let stay = 0.9, move = n > 1 ? 0.1 / Double(n - 1) : 0
        var transitions = [Double](repeating: move, count: n * n)
        for j in 0..<n { transitions[j * n + j] = stay }
        return try! HiddenMarkovModel(
            start: [Double](repeating: 1 / Double(n), count: n), transitions: transitions, emissions: emissions)
    }

    public static func sequence(_ model: HiddenMarkovModel<GaussianEmissions>,
                                length: Int = Bench.observationsPerIteration, seed: UInt64 = 7) -> [Double]
    {
        var rng = Xoshiro256StarStar(seed: seed)
        return model.sample(length: length, rng: &rng).observations
    }

    /// A windowed learner (default settings: window 64, batch 16) started from `model`,
    /// that has learned from one pass over `data`.
    public static func learner(_ model: HiddenMarkovModel<GaussianEmissions>, data: [Double])
        -> HMMLearner<GaussianEmissions>
    {
        let n = model.states, d = model.emissions.observationWidth
        var learner = HMMLearner(
            settings: HMMLearnerSettings(states: n, shape: .gaussian(dimensions: d, covariance: .diag)), initial: model)
        var filtered = [Double](repeating: 0, count: n), smoothed = filtered
        var s = learner.newSequence()
        data.withUnsafeBufferPointer { xs in
            for row in 0..<(xs.count / d) {
                _ = learner.observe(xs.baseAddress! + row * d, sequence: &s, learn: true,
                                    filtered: &filtered, smoothed: &smoothed)
            }
        }
        _ = learner.end(&s, learn: true)
        return learner
    }
}

/// Buffers reused across iterations, so the measured loop allocates only what the
/// code under test allocates.
public final class EStepState {
    public let model: GaussianMixture
    let data: [Double]
    var stats: MixtureStatistics
    var resp: [Double]
    var scratch: [Double]

    public init(_ type: CovarianceType, k: Int, d: Int) {
        model = MixtureFixture.model(type, components: k, dimensions: d)
        data = MixtureFixture.data(components: k, dimensions: d)
        stats = MixtureStatistics(components: k, dimensions: d, covarianceType: type)
        resp = [Double](repeating: 0, count: k)
        scratch = [Double](repeating: 0, count: max(d, d * (d + 1) / 2))
    }

    /// What `latentd bench` times: responsibilities, then accumulate, per row.
    public func run(_ rows: Range<Int>) -> Double {
        let d = model.dimensions
        var checksum = 0.0
        stats.reset()
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { s in
                    for row in rows {
                        let x = xs.baseAddress! + row * d
                        checksum += model.responsibilities(x, into: r.baseAddress!, scratch: s.baseAddress!)
                        stats.accumulate(x, gamma: r.baseAddress!, scratch: s.baseAddress!)
                    }
                }
            }
        }
        return checksum + stats.total
    }
}
