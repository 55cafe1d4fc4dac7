// GMM hot path: E-step + statistics update per observation, the whole learner per
// observation (mini-batch M-steps amortized), and the M-step alone.
import Benchmark
import BenchmarkFixtures
import LatentCore

/// Buffers reused across iterations, so the measured loop allocates only what the
/// code under test allocates.
final class EStepState {
    let model: GaussianMixture
    let data: [Double]
    var stats: MixtureStatistics
    var resp: [Double]
    var scratch: [Double]

    init(_ type: CovarianceType, k: Int, d: Int) {
        model = MixtureFixture.model(type, components: k, dimensions: d)
        data = MixtureFixture.data(components: k, dimensions: d)
        stats = MixtureStatistics(components: k, dimensions: d, covarianceType: type)
        resp = [Double](repeating: 0, count: k)
        scratch = [Double](repeating: 0, count: max(d, d * (d + 1) / 2))
    }

    /// What `latentd bench` times: responsibilities, then accumulate, per row.
    func run(_ rows: Range<Int>) -> Double {
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

final class LearnerState {
    var learner: MixtureLearner
    let data: [Double]
    var resp: [Double]

    init(_ type: CovarianceType, k: Int, d: Int) {
        let model = MixtureFixture.model(type, components: k, dimensions: d)
        data = MixtureFixture.data(components: k, dimensions: d)
        learner = MixtureFixture.learner(model, data: data)
        resp = [Double](repeating: 0, count: k)
    }

    func run(_ rows: Range<Int>) -> Double {
        let d = learner.settings.dimensions
        var checksum = 0.0
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                for row in rows {
                    checksum += learner.observe(xs.baseAddress! + row * d, learn: true, responsibilities: r.baseAddress!)
                        .logLikelihood
                }
            }
        }
        return checksum
    }
}

let benchmarks: @Sendable () -> Void = {
    // scaledIterations is 0..<1000: the rows of the fixture's data, one observation each.
    // E-step + statistics update: the per-observation core (must not allocate).
    // Full covariances at K=16, D=32 are the slow end; the grid is complete.
    for type in [CovarianceType.diag, .full] {
        for k in [4, 8, 16] {
            for d in [2, 8, 32] {
                let state = EStepState(type, k: k, d: d)
                Benchmark("GMM E-step+stats \(type) K=\(k) D=\(d)", configuration: Bench.perObservation()) { benchmark in
                    blackHole(state.run(benchmark.scaledIterations))
                }
            }
        }
    }

    // The learner's observe(learn: true): E-step under the iterate, statistics,
    // and every `batch` (16) observations the stepwise blend and an M-step.
    for (type, k, d) in [(CovarianceType.diag, 4, 8), (.diag, 16, 8), (.full, 16, 32)] {
        let state = LearnerState(type, k: k, d: d)
        Benchmark("GMM learner observe \(type) K=\(k) D=\(d)",
                  configuration: Bench.perObservation(allocationFree: false)) { benchmark in
            blackHole(state.run(benchmark.scaledIterations))
        }
    }

    // M-step: parameters from statistics (one GaussianMixture per call).
    for (type, k, d) in [(CovarianceType.diag, 4, 8), (.diag, 16, 8), (.full, 16, 32)] {
        let model = MixtureFixture.model(type, components: k, dimensions: d)
        let stats = MixtureFixture.statistics(model, data: MixtureFixture.data(components: k, dimensions: d))
        Benchmark("GMM M-step \(type) K=\(k) D=\(d)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! GaussianMixture(statistics: stats)) }
        }
    }
}
