import Testing
import LatentCore

/// EM's defining property (Dempster, Laird & Rubin 1977): with maximum-likelihood
/// M-steps, no iteration lowers the log-likelihood. The property is checked while
/// the fit is regular: once a component holds fewer than D + 1 points' worth of
/// responsibility it can collapse onto them, the likelihood is unbounded there
/// and its covariance is rounding noise (the case `reg_covar` exists for).
@Suite struct EMTheoremTests {
    @Test(arguments: CovarianceType.allCases)
    func batchEMNeverDecreasesTheLogLikelihood(_ type: CovarianceType) throws {
        var iterationsChecked = 0
        for seed in UInt64(1)...25 {
            var rng = Xoshiro256StarStar(seed: seed)
            let k = 2 + Int(rng.next() % 4), d = 1 + Int(rng.next() % 4), n = 150
            // Data from a random mixture; the start is random data points.
            var data: [Double] = []
            let centers = (0..<(k * d)).map { _ in 6 * rng.uniform() }
            for _ in 0..<n {
                let c = Int(rng.next() % UInt64(k))
                for i in 0..<d { data.append(centers[c * d + i] + rng.normal() * (0.5 + rng.uniform())) }
            }
            let starts = (0..<k).map { _ in Int(rng.next() % UInt64(n)) }
            let means = starts.flatMap { Array(data[($0 * d)..<(($0 + 1) * d)]) }
            let cov: [Double]
            switch type {
            case .full: cov = (0..<k).flatMap { _ in (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0.0 } }
            case .tied: cov = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0.0 }
            case .diag: cov = [Double](repeating: 1, count: k * d)
            case .spherical: cov = [Double](repeating: 1, count: k)
            }
            let initial = try GaussianMixture(
                weights: [Double](repeating: 1, count: k), means: means, covariances: cov, covarianceType: type)
            // reg_covar = 0: the regularized M-step is not the exact maximizer.
            var model = initial
            var previous = -Double.infinity
            var iteration = 0
            while iteration < 200 {
                let (stats, total) = BatchEM.expectedStatistics(data, under: model)
                let ll = total / Double(n)
                #expect(ll >= previous - 1e-12 * abs(previous),
                        "seed \(seed) \(type) K=\(k) D=\(d): iteration \(iteration) went from \(previous) to \(ll)")
                if stats.counts.contains(where: { $0 < Double(d + 1) }) { break }
                previous = ll
                model = try GaussianMixture(statistics: stats, options: MStepOptions(regCovar: 0))
                iteration += 1
            }
            iterationsChecked += iteration
        }
        // Most runs must stay regular for the whole sweep, or the test proves little.
        #expect(iterationsChecked > 25 * 200 * 3 / 4)
    }
}
