import LatentCore

/// `latentd bench`: the cost of the per-observation hot path (E-step +
/// statistics update) on synthetic data, in ns/observation.
/// scripts/compare_sklearn.py runs it next to scikit-learn on the same sizes.
public enum MixtureBenchmark {
    public struct Result: Sendable {
        public var covariance: CovarianceType
        public var components: Int
        public var dimensions: Int
        public var observations: Int
        public var nanosecondsPerObservation: Double
        /// full and diag: the same work over 16-row segments, as the learner runs it on the
        /// rows of a batch message (`segmentResponsibilities` + `accumulateSegment`).
        public var segmentNanosecondsPerObservation: Double?
        /// With `learner`: the whole learner on 100-row messages, batch 16 (what the
        /// daemon runs on batch messages: segments plus a stepwise M-step every 16 rows).
        public var learnerNanosecondsPerObservation: Double?
        public var checksum: Double
    }

    /// The benchmark's mixture: means near j·(1, …, 1), equal weights, covariances
    /// 1.5 on the diagonal and 0.1 off it (full, tied) or 1.2 (diag, spherical).
    /// The Benchmarks package builds its fixtures with it too.
    public static func model(_ type: CovarianceType, components k: Int, dimensions d: Int,
                             rng: inout Xoshiro256StarStar) -> GaussianMixture {
        let means = (0..<(k * d)).map { Double($0 / d) + 0.1 * rng.normal() }
        let cov: [Double]
        switch type {
        case .full: cov = (0..<k).flatMap { _ in (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.5 : 0.1 } }
        case .tied: cov = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.5 : 0.1 }
        case .diag: cov = [Double](repeating: 1.2, count: k * d)
        case .spherical: cov = [Double](repeating: 1.2, count: k)
        }
        return try! GaussianMixture(weights: [Double](repeating: 1, count: k), means: means, covariances: cov, covarianceType: type)
    }

    public static func run(_ type: CovarianceType, components k: Int, dimensions d: Int, observations n: Int, repeats: Int,
                           learner timeLearner: Bool = false) -> Result {
        var rng = Xoshiro256StarStar(seed: 11)
        var data = [Double](repeating: 0, count: n * d)
        for i in data.indices { data[i] = Double((i / d) % k) + rng.normal() }
        let model = Self.model(type, components: k, dimensions: d, rng: &rng)
        var stats = MixtureStatistics(components: k, dimensions: d, covarianceType: type)
        var resp = [Double](repeating: 0, count: k)
        var scratch = [Double](repeating: 0, count: max(d, d * (d + 1) / 2))
        var checksum = 0.0
        let best = fastest(repeats, observations: n) {
            stats.reset()
            data.withUnsafeBufferPointer { xs in
                resp.withUnsafeMutableBufferPointer { r in
                    scratch.withUnsafeMutableBufferPointer { s in
                        for row in 0..<n {
                            let x = xs.baseAddress! + row * d
                            checksum += model.responsibilities(x, into: r.baseAddress!, scratch: s.baseAddress!)
                            stats.accumulate(x, gamma: r.baseAddress!, scratch: s.baseAddress!)
                        }
                    }
                }
            }
        }
        var segmentBest: Double?
        if type == .full || type == .diag {
            // The rows in 16-row segments; the buffers are the segment kernels' own.
            let rows = 16
            let segmentResp = UnsafeMutableBufferPointer<Double>.allocate(capacity: rows * k)
            let logLikelihoods = UnsafeMutableBufferPointer<Double>.allocate(capacity: rows)
            let eScratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: model.segmentScratchCount)
            let sScratch = UnsafeMutableBufferPointer<Double>.allocate(
                capacity: MixtureStatistics.segmentScratchCount(rows: rows, dimensions: d))
            defer { for b in [segmentResp, logLikelihoods, eScratch, sScratch] { b.deallocate() } }
            segmentBest = fastest(repeats, observations: n) {
                stats.reset()
                data.withUnsafeBufferPointer { xs in
                    var row = 0
                    while row < n {
                        let m = min(rows, n - row), x = xs.baseAddress! + row * d
                        model.segmentResponsibilities(x, rows: m, into: segmentResp.baseAddress!,
                                                      logLikelihoods: logLikelihoods.baseAddress!,
                                                      scratch: eScratch.baseAddress!)
                        stats.accumulateSegment(x, rows: m, gamma: segmentResp.baseAddress!, scratch: sScratch.baseAddress!)
                        for i in 0..<m { checksum += logLikelihoods[i] }
                        row += m
                    }
                }
            }
        }
        var learnerBest: Double?
        if timeLearner {
            var settings = LearnerSettings(components: k, dimensions: d, covarianceType: type)
            settings.batch = 16
            // Learning from the benchmark's mixture, so the timing has no warm-up.
            let fresh = MixtureLearner(settings: settings, initial: model)
            var learner = fresh
            let rows = 100
            var learnerResp = [Double](repeating: 0, count: rows * k)
            var outcomes = [MixtureObservation](
                repeating: .init(scored: false, logLikelihood: 0, label: 0, parametersChanged: false), count: rows)
            learnerBest = fastest(repeats, observations: n) {
                learner = fresh
                data.withUnsafeBufferPointer { xs in
                    var row = 0
                    while row < n {
                        let m = min(rows, n - row)
                        _ = learner.observe(xs.baseAddress! + row * d, count: m, learn: true,
                                            responsibilities: &learnerResp, outcomes: &outcomes)
                        row += m
                    }
                }
            }
            checksum += Double(learner.version)
        }
        return Result(covariance: type, components: k, dimensions: d, observations: n,
                      nanosecondsPerObservation: best, segmentNanosecondsPerObservation: segmentBest,
                      learnerNanosecondsPerObservation: learnerBest, checksum: checksum + stats.total)
    }

    /// The fastest of `repeats` runs of `body` over `n` observations, in ns per observation.
    static func fastest(_ repeats: Int, observations n: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = monotonicSeconds()
            body()
            best = min(best, (monotonicSeconds() - start) / Double(n) * 1e9)
        }
        return best
    }
}
