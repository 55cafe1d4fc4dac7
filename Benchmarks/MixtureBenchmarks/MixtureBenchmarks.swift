// GMM hot path: E-step + statistics update per observation, the whole learner per
// observation (mini-batch M-steps amortized), and the M-step alone.
import Benchmark
import BenchmarkFixtures
import LatentCore

/// A mixture the in-place M-step benchmark rewrites.
final class MixtureState {
    var mixture: GaussianMixture
    init(_ mixture: GaussianMixture) { self.mixture = mixture }
    func update(_ stats: MixtureStatistics) -> Double {
        try! mixture.update(statistics: stats, options: MStepOptions())
        return mixture.weights[0]
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
    // and every `batch` (16) observations the stepwise blend and an M-step, with
    // the occasional re-seed of a dead component (full K=16 D=32 re-seeds): none
    // of it may allocate.
    for (type, k, d) in [(CovarianceType.diag, 4, 8), (.diag, 16, 8), (.full, 16, 32)] {
        let state = LearnerState(type, k: k, d: d)
        Benchmark("GMM learner observe \(type) K=\(k) D=\(d)",
                  configuration: Bench.perObservation()) { benchmark in
            blackHole(state.run(benchmark.scaledIterations))
        }
    }

    // M-step: parameters from statistics, as a new GaussianMixture per call and in place
    // (`update(statistics:options:)`, what the learner runs each mini-batch: no allocation).
    for (type, k, d) in [(CovarianceType.diag, 4, 8), (.diag, 16, 8), (.full, 16, 32)] {
        let model = MixtureFixture.model(type, components: k, dimensions: d)
        let stats = MixtureFixture.statistics(model, data: MixtureFixture.data(components: k, dimensions: d))
        Benchmark("GMM M-step \(type) K=\(k) D=\(d)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! GaussianMixture(statistics: stats)) }
        }
        let target = MixtureState(model)
        Benchmark("GMM M-step in place \(type) K=\(k) D=\(d)", configuration: Bench.perCall(allocationFree: true)) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(target.update(stats)) }
        }
    }
}
