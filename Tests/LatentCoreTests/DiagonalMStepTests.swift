import Foundation
import Testing
@testable import LatentCore

/// The fused diagonal M-step (`updateDiagonal`) must give the general M-step's bits in
/// every stored array: parameters, precisions, log-normalizers and the E-step's lanes.
struct DiagonalMStepTests {
    /// Every stored array as bit patterns (NaN and −0 compare as bits, not as values).
    static func bits(_ m: GaussianMixture) -> [[UInt64]] {
        [m.weights, m.means, m.covariances, m.precisionFactors, m.logNormalizers].map { $0.map(\.bitPattern) }
            + [m.diagonalBlocks.flatMap { v in (0..<4).map { v[$0].bitPattern } }]
    }

    /// Random statistics of K components in D dimensions, scaled like a learner's
    /// normalized ones. `spread` moves the variances over many orders of magnitude,
    /// so that some products √Π σ² leave the normal range (a log per variance) and
    /// some variances come out negative (the floor).
    static func statistics(k: Int, d: Int, seed: UInt64, spread: Double) -> MixtureStatistics {
        var s = MixtureStatistics(components: k, dimensions: d, covarianceType: .diag)
        var rng = Xoshiro256StarStar(seed: seed)
        for j in 0..<k {
            let count = (0.05 + rng.uniform()) / Double(k)
            s.counts[j] = count
            for i in 0..<d {
                let mean = 10 * rng.normal()
                let variance = Foundation.pow(10, spread * rng.normal()) * (rng.uniform() < 0.1 ? -1 : 1)
                s.sums[j * d + i] = count * mean
                s.secondMoments[j * d + i] = count * (variance + mean * mean)
            }
        }
        return s
    }

    static let options = [
        MStepOptions(),
        MStepOptions(regCovar: 1e-3, weightConcentration: 1.5, covariancePriorScale: 0.5, covariancePriorWeight: 0.1),
        MStepOptions(regCovar: 0, weightConcentration: 0.2),
    ]

    @Test(arguments: [(1, 1), (3, 2), (4, 4), (5, 7), (8, 8), (9, 9), (16, 32)])
    func fusedEqualsGeneralBitForBit(_ shape: (k: Int, d: Int)) throws {
        var fusedRuns = 0
        for seed in 0..<40 as Range<UInt64> {
            for (o, options) in Self.options.enumerated() {
                let s = Self.statistics(k: shape.k, d: shape.d, seed: seed, spread: seed % 2 == 0 ? 1 : 40)
                var general = GaussianMixture(storageFor: shape.k, dimensions: shape.d, covarianceType: .diag)
                var fused = general
                let generalError: MixtureError?
                do { try general.updateGeneral(statistics: s, options: options); generalError = nil } catch { generalError = error }
                let took: Bool
                do {
                    took = try fused.updateDiagonal(statistics: s, options: options)
                    #expect(generalError == nil, "seed \(seed), options \(o): general threw \(generalError!), fused did not")
                } catch {
                    #expect(error == generalError, "seed \(seed), options \(o)")
                    continue
                }
                #expect(took)
                if took { fusedRuns += 1 }
                #expect(Self.bits(fused) == Self.bits(general), "seed \(seed), options \(o)")
            }
        }
        #expect(fusedRuns == 120)
    }

    /// The paths the fast one must treat as the general one does.
    @Test func emptyComponentsAndInvalidStatistics() throws {
        var s = Self.statistics(k: 4, d: 8, seed: 1, spread: 1)
        var m = GaussianMixture(storageFor: 4, dimensions: 8, covarianceType: .diag)
        let before = Self.bits(m)
        s.counts[2] = 0  // empty: the pooled moments are the general path's
        #expect(try m.updateDiagonal(statistics: s, options: MStepOptions()) == false)
        #expect(Self.bits(m) == before, "declining must write nothing")
        var general = m
        try m.update(statistics: s, options: MStepOptions())
        try general.updateGeneral(statistics: s, options: MStepOptions())
        #expect(Self.bits(m) == Self.bits(general))

        var infinite = Self.statistics(k: 4, d: 8, seed: 2, spread: 1)
        infinite.sums[5] = .infinity
        #expect(throws: MixtureError.invalidWeights("parameters must be finite and weights non-negative")) {
            _ = try m.updateDiagonal(statistics: infinite, options: MStepOptions())
        }
        #expect(throws: MixtureError.invalidWeights("statistics hold no observations")) {
            _ = try m.updateDiagonal(statistics: MixtureStatistics(components: 4, dimensions: 8, covarianceType: .diag),
                                     options: MStepOptions())
        }
    }

    /// Both log-normalizer paths were exercised: a product outside the normal range
    /// (a log per variance) and floored variances.
    @Test func randomStatisticsReachTheRarePaths() throws {
        var perVariance = 0, floored = 0
        for seed in 0..<40 as Range<UInt64> {
            let s = Self.statistics(k: 8, d: 8, seed: seed, spread: 40)
            var m = GaussianMixture(storageFor: 8, dimensions: 8, covarianceType: .diag)
            guard (try? m.updateDiagonal(statistics: s, options: MStepOptions())) == true else { continue }
            for j in 0..<8 {
                let product = m.covariances[(j * 8)..<(j * 8 + 8)].reduce(1, *)
                if !product.isNormal || !(m.weights[j] / product.squareRoot()).isNormal { perVariance += 1 }
            }
            floored += m.covariances.filter { $0 == 1e-6 }.count
        }
        #expect(perVariance > 0 && floored > 0, "per-variance logs \(perVariance), floored variances \(floored)")
    }
}
