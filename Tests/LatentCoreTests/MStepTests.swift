import Foundation
import Testing
@testable import LatentCore

/// The in-place M-step (`update(statistics:options:)`, what the learner runs every
/// mini-batch) must give exactly what a fresh `init(statistics:)` gives, whatever
/// the mixture held before, on the regular path and on each repair path.
struct MStepTests {
    /// Statistics of 300 points from K=3 clusters in D=4. `indefinite` spoils
    /// component 0's second moments (full/tied: an indefinite covariance that needs
    /// jitter; diag/spherical: a negative variance that is floored), `kill`
    /// empties component 1 (it borrows the pooled moments).
    static func statistics(_ type: CovarianceType, seed: UInt64, indefinite: Bool = false, kill: Bool = false) -> MixtureStatistics {
        let k = 3, d = 4
        var s = MixtureStatistics(components: k, dimensions: d, covarianceType: type)
        var rng = Xoshiro256StarStar(seed: seed)
        var gamma = [Double](repeating: 0, count: k)
        var scratch = [Double](repeating: 0, count: d * (d + 1) / 2)
        for n in 0..<300 {
            let j = n % k
            let x = (0..<d).map { _ in Double(j) * 3 + rng.normal() }
            for c in 0..<k { gamma[c] = c == j ? 0.9 : 0.05 }
            if kill { gamma[0] += gamma[1]; gamma[1] = 0 }
            x.withUnsafeBufferPointer { xp in
                gamma.withUnsafeBufferPointer { g in
                    scratch.withUnsafeMutableBufferPointer { sc in
                        s.accumulate(xp.baseAddress!, gamma: g.baseAddress!, scratch: sc.baseAddress!)
                    }
                }
            }
        }
        s.scale(by: 1.0 / 300)
        if indefinite {
            // full/tied: packed entry (1, 0), far beyond what the variances allow;
            // diag/spherical: E[x²] = −50, a variance no prior can bring back above 0.
            s.secondMoments[type == .full || type == .tied ? 1 : 0] = type == .full || type == .tied ? 50 : -50
        }
        return s
    }

    @Test(arguments: CovarianceType.allCases, [(false, false), (true, false), (false, true)])
    func inPlaceUpdateEqualsAFreshMStep(_ type: CovarianceType, _ path: (indefinite: Bool, kill: Bool)) throws {
        let options = MStepOptions(regCovar: 1e-6, weightConcentration: 1.5, covariancePriorScale: 0.5, covariancePriorWeight: 0.1)
        let target = Self.statistics(type, seed: 7, indefinite: path.indefinite, kill: path.kill)
        let fresh = try GaussianMixture(statistics: target, options: options)
        // Start from a different mixture of the same shape, then update it in place.
        var reused = try GaussianMixture(statistics: Self.statistics(type, seed: 99), options: options)
        #expect(reused != fresh)
        try reused.update(statistics: target, options: options)
        #expect(reused == fresh)  // every stored array, factors and normalizers included, bit for bit
        if path.indefinite {
            // The repair ran: jitter on the first block's diagonal (far above the ML
            // variance plus reg_covar), or the floor for the spoiled variance.
            let mlVariance = (type == .tied ? target.secondMoments[0] : target.secondMoments[0] / target.counts[0])
                - (target.sums[0] / target.counts[0]) * (target.sums[0] / target.counts[0])
            switch type {
            case .full, .tied: #expect(fresh.covariances[0] > mlVariance + 1)
            case .diag, .spherical: #expect(fresh.covariances[0] == options.regCovar)  // the floor
            }
        }
        if path.kill {  // the empty component took the pooled mean
            for i in 0..<4 {
                var pooled = 0.0
                for j in 0..<3 { pooled += target.sums[j * 4 + i] }
                #expect(fresh.means[4 + i] == pooled / target.total)
            }
        }
    }

    /// Diagonal normalizers take one log of w/√Πσ² when that stays in the normal
    /// range; here Πσ² under- and overflows (D=40, σ² = 1e-10 and 1e10), so they must
    /// fall back to a log per variance and still be right.
    @Test func diagonalNormalizersOutsideTheNormalRange() throws {
        let d = 40
        let variances = [Double](repeating: 1e-10, count: d) + [Double](repeating: 1e10, count: d)
        let m = try GaussianMixture(weights: [1, 3], means: [Double](repeating: 0, count: 2 * d),
                                    covariances: variances, covarianceType: .diag)
        let log2Pi = Foundation.log(2 * Double.pi)
        let terms = [0.25, 0.75].enumerated().map { j, w in
            Foundation.log(w) - 0.5 * Double(d) * log2Pi - 0.5 * Double(d) * Foundation.log(variances[j * d])
        }
        let top = terms.max()!
        let expected = top + Foundation.log(terms.map { Foundation.exp($0 - top) }.reduce(0, +))
        let ll = m.responsibilities([Double](repeating: 0, count: d)).logLikelihood
        #expect(abs(ll - expected) < 1e-9 * abs(expected), "\(ll) vs \(expected)")
    }

    @Test func emptyStatisticsAreRefusedAndNamed() throws {
        var m = try GaussianMixture(statistics: Self.statistics(.diag, seed: 1))
        let empty = MixtureStatistics(components: 3, dimensions: 4, covarianceType: .diag)
        #expect(throws: MixtureError.invalidWeights("statistics hold no observations")) {
            try m.update(statistics: empty, options: MStepOptions())
        }
    }
}
