import Testing
@testable import LatentCore

/// The diagonal segment kernels against the per-observation E-step and statistics,
/// and the learner that runs batch messages through them. Unlike the full ones they
/// promise the per-observation bits exactly, so a row learned alone (one JSON
/// observation per message) and in a batch message gives the same model.
struct DiagonalSegmentTests {
    static func mixture(k: Int, d: Int, seed: UInt64) -> GaussianMixture {
        var rng = Xoshiro256StarStar(seed: seed)
        let means = (0..<(k * d)).map { _ in 2 * rng.normal() }
        let variances = (0..<(k * d)).map { _ in 0.3 + rng.uniform() }
        let weights = (0..<k).map { _ in 1 + rng.uniform() }
        return try! GaussianMixture(weights: weights, means: means, covariances: variances, covarianceType: .diag)
    }

    /// K and D around the SIMD widths (blocks of four components and of four and eight
    /// dimensions, and their tails); segments of 1…11 rows (groups of four and the
    /// rest). Row 6 holds 1e200, whose squares overflow: every component's density is
    /// then 0 and its group of four takes the one-row fallback.
    @Test(arguments: [(1, 1), (3, 5), (4, 8), (5, 13), (8, 8), (16, 32), (17, 3)])
    func segmentPosteriorsEqualPerObservationOnes(_ size: (k: Int, d: Int)) {
        let (k, d) = size
        let model = Self.mixture(k: k, d: d, seed: UInt64(k * 100 + d))
        let rows = 11
        var rng = Xoshiro256StarStar(seed: 5)
        var xs = (0..<(rows * d)).map { _ in 3 * rng.normal() }
        xs[6 * d] = 1e200
        var scratch = [Double](repeating: 0, count: model.segmentScratchCount)
        var perRow = [Double](repeating: 0, count: k), perRowScratch = [Double](repeating: 0, count: d)
        xs.withUnsafeBufferPointer { x in
            for m in 1...rows {  // the first m rows as one segment
                var together = [Double](repeating: 0, count: m * k), ll = [Double](repeating: 0, count: m)
                model.segmentResponsibilities(x.baseAddress!, rows: m, into: &together, logLikelihoods: &ll, scratch: &scratch)
                for n in 0..<m {  // bit for bit the per-observation E-step
                    let expected = model.responsibilities(x.baseAddress! + n * d, into: &perRow, scratch: &perRowScratch)
                    #expect(ll[n] == expected || (ll[n].isNaN && expected.isNaN), "rows \(m), row \(n)")
                    #expect(Array(together[(n * k)..<((n + 1) * k)]) == perRow, "rows \(m), row \(n)")
                }
            }
        }
    }

    @Test(arguments: [(1, 1), (3, 5), (4, 8), (5, 13), (8, 8), (7, 9), (16, 32), (2, 12)])
    func segmentStatisticsEqualPerObservationOnes(_ size: (k: Int, d: Int)) {
        let (k, d) = size
        let rows = 23
        var rng = Xoshiro256StarStar(seed: 9)
        let xs = (0..<(rows * d)).map { _ in 2 * rng.normal() }
        let gamma = (0..<(rows * k)).map { i in i % 7 == 0 ? 0 : rng.uniform() }
        var perRow = MixtureStatistics(components: k, dimensions: d, covarianceType: .diag)
        var segments = perRow
        var scratch = [Double](repeating: 0, count: d)
        xs.withUnsafeBufferPointer { x in
            gamma.withUnsafeBufferPointer { g in
                for n in 0..<rows { perRow.accumulate(x.baseAddress! + n * d, gamma: g.baseAddress! + n * k, scratch: &scratch) }
                var n = 0
                for m in [16, 1, 6] {
                    segments.accumulateSegment(x.baseAddress! + n * d, rows: m, gamma: g.baseAddress! + n * k, scratch: &scratch)
                    n += m
                }
            }
        }
        #expect(perRow.counts == segments.counts)
        #expect(perRow.sums == segments.sums)
        #expect(perRow.secondMoments == segments.secondMoments)
    }

    /// The learner fed one row at a time and fed messages of many sizes (segments):
    /// the same model, statistics and outcomes to the bit, for soft and hard, with
    /// and without averaging; no allocation once learning.
    @Test(arguments: [LearnerSettings.Estimator.soft, .hard], [false, true])
    func learnerOnMessagesEqualsLearnerOnRows(_ estimator: LearnerSettings.Estimator, _ averaging: Bool) {
        let k = 5, d = 6, total = 3_000
        let settings = LearnerOnMessages.settings(.diag, k: k, d: d, estimator: estimator, averaging: averaging)
        let xs = LearnerOnMessages.rows(total, around: Self.mixture(k: k, d: d, seed: 42), seed: 8)
        var byRow = MixtureLearner(settings: settings), byMessage = byRow
        var resp = [Double](repeating: 0, count: k)
        var rowOutcomes: [MixtureObservation] = [], rowPosteriors: [Double] = []
        xs.withUnsafeBufferPointer { x in
            for n in 0..<total {
                rowOutcomes.append(byRow.observe(x.baseAddress! + n * d, learn: true, responsibilities: &resp))
                rowPosteriors.append(contentsOf: resp)
            }
        }
        let run = LearnerOnMessages.feed(&byMessage, xs)
        let (allocations, checkedMessages) = (run.allocations, run.checkedMessages)
        let (messageOutcomes, messagePosteriors) = (run.outcomes, run.posteriors)
        #expect(allocations == 0)
        #expect(checkedMessages > 50, "no re-seed-free messages were counted")
        #expect(byRow.version == byMessage.version && byRow.version > 100)
        #expect(byRow.model == byMessage.model && byRow.statistics == byMessage.statistics)
        // Posteriors of the scored rows (warm-up rows write none).
        let scored = rowOutcomes.indices.filter { rowOutcomes[$0].scored }
        #expect(scored.count > total - 100 && scored.map { messageOutcomes[$0].scored }.allSatisfy { $0 })
        let differing = scored.filter { n in rowPosteriors[(n * k)..<(n * k + k)] != messagePosteriors[(n * k)..<(n * k + k)] }
        #expect(differing.isEmpty, "rows whose posteriors differ: \(differing.prefix(5))")
        #expect(rowOutcomes.map(\.logLikelihood) == messageOutcomes.map(\.logLikelihood))
        #expect(rowOutcomes.map(\.label) == messageOutcomes.map(\.label))
        #expect(rowOutcomes.map(\.parametersChanged) == messageOutcomes.map(\.parametersChanged))
    }
}
