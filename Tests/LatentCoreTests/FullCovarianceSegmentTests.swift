import Testing
@testable import LatentCore

/// The segment kernels against the per-observation ones they replace for full
/// covariances, and the learner that uses them.
struct FullCovarianceSegmentTests {
    static func mixture(k: Int, d: Int, seed: UInt64) -> GaussianMixture {
        var rng = Xoshiro256StarStar(seed: seed)
        var cov = [Double](repeating: 0, count: k * d * d)
        for j in 0..<k {
            let a = (0..<(d * d)).map { _ in rng.normal() }
            for r in 0..<d { for c in 0..<d {
                var s = 0.0
                for t in 0..<d { s += a[r * d + t] * a[c * d + t] }
                cov[j * d * d + r * d + c] = s / Double(d) + (r == c ? 0.5 : 0)
            } }
        }
        let means = (0..<(k * d)).map { _ in 2 * rng.normal() }
        let weights = (0..<k).map { _ in 1 + rng.uniform() }
        return try! GaussianMixture(weights: weights, means: means, covariances: cov, covarianceType: .full)
    }

    static func data(rows: Int, d: Int, seed: UInt64) -> [Double] {
        var rng = Xoshiro256StarStar(seed: seed)
        return (0..<(rows * d)).map { _ in 2 * rng.normal() }
    }

    /// Every K and D around the SIMD widths, segments of 1…9 rows (short groups of four).
    @Test(arguments: [(1, 1), (3, 5), (4, 8), (5, 13), (16, 32)])
    func segmentPosteriorsEqualPerObservationOnesAndIgnoreNeighbours(_ size: (k: Int, d: Int)) {
        let (k, d) = size
        let model = Self.mixture(k: k, d: d, seed: UInt64(k * 100 + d))
        let rows = 9
        let xs = Self.data(rows: rows, d: d, seed: 5)
        var scratch = [Double](repeating: 0, count: model.segmentScratchCount)
        var alone = [Double](repeating: 0, count: rows * k), aloneLL = [Double](repeating: 0, count: rows)
        var perRow = [Double](repeating: 0, count: k), perRowScratch = [Double](repeating: 0, count: d)
        xs.withUnsafeBufferPointer { x in
            alone.withUnsafeMutableBufferPointer { a in
                aloneLL.withUnsafeMutableBufferPointer { l in
                    for n in 0..<rows {  // each row as a segment of one
                        model.segmentResponsibilities(x.baseAddress! + n * d, rows: 1, into: a.baseAddress! + n * k,
                                                      logLikelihoods: l.baseAddress! + n, scratch: &scratch)
                    }
                }
            }
            for m in 1...rows {  // the first m rows as one segment: bit for bit the rows alone
                var together = [Double](repeating: 0, count: m * k), ll = [Double](repeating: 0, count: m)
                model.segmentResponsibilities(x.baseAddress!, rows: m, into: &together, logLikelihoods: &ll, scratch: &scratch)
                #expect(together == Array(alone[0..<(m * k)]))
                #expect(ll == Array(aloneLL[0..<m]))
            }
            for n in 0..<rows {  // and bit for bit the per-observation E-step (same panel kernel)
                let expected = model.responsibilities(x.baseAddress! + n * d, into: &perRow, scratch: &perRowScratch)
                #expect(aloneLL[n] == expected)
                #expect(Array(alone[(n * k)..<((n + 1) * k)]) == perRow)
            }
        }
    }

    /// `huge` puts 1e160 in one row, whose square overflows to +∞. The segment kernel
    /// then no longer pairs components: pairs add 0·x xᵀ for zero weights, a no-op only
    /// while every product is finite (0·∞ is NaN); a zero weight must still be skipped.
    @Test(arguments: [(1, 1), (3, 5), (4, 8), (5, 13), (16, 32)], [false, true])
    func segmentStatisticsMatchPerObservationOnesAndIgnoreTheSplit(_ size: (k: Int, d: Int), huge: Bool) {
        let (k, d) = size
        let rows = 23
        var xs = Self.data(rows: rows, d: d, seed: 9)
        if huge { xs[5 * d] = 1e160 }
        var rng = Xoshiro256StarStar(seed: 3)
        // Some weights exactly 0, as far components' responsibilities underflow to: skipped
        // by `accumulate`, so they must leave the segment's sums as they were.
        let gamma = (0..<(rows * k)).map { i in i % 7 == 0 ? 0 : rng.uniform() }
        var perRow = MixtureStatistics(components: k, dimensions: d, covarianceType: .full)
        var segments = perRow, segmentsOfOne = perRow
        var scratch = [Double](repeating: 0, count: max(d, d * (d + 1) / 2))
        var segmentScratch = [Double](repeating: 0, count: MixtureStatistics.segmentScratchCount(rows: 16, dimensions: d))
        xs.withUnsafeBufferPointer { x in
            gamma.withUnsafeBufferPointer { g in
                for n in 0..<rows { perRow.accumulate(x.baseAddress! + n * d, gamma: g.baseAddress! + n * k, scratch: &scratch) }
                var n = 0
                for m in [16, 1, 6] {  // segments of several sizes
                    segments.accumulateSegment(x.baseAddress! + n * d, rows: m, gamma: g.baseAddress! + n * k,
                                               scratch: &segmentScratch)
                    n += m
                }
                for n in 0..<rows {
                    segmentsOfOne.accumulateSegment(x.baseAddress! + n * d, rows: 1, gamma: g.baseAddress! + n * k,
                                                    scratch: &segmentScratch)
                }
            }
        }
        #expect(segments == segmentsOfOne, "the split into segments changed the sums' bits")
        // The same operations per entry as `accumulate`, in the same order: the same bits.
        #expect(perRow.counts == segments.counts)
        #expect(perRow.sums == segments.sums)
        #expect(perRow.secondMoments == segments.secondMoments)
    }

    /// What `observe` did for a full-covariance row before segments (and still does
    /// for the other covariance types): E-step and statistics per observation, and the
    /// posterior under the published model when it is not the iterate's.
    static func perObservation(
        _ learner: inout MixtureLearner, _ x: UnsafePointer<Double>, _ resp: UnsafeMutablePointer<Double>
    ) -> MixtureObservation {
        var ll = learner.learnFrom(x, responsibilities: resp)
        let changed = learner.pendingCount == 0
        if changed || learner.settings.averaging {
            var scratch = [Double](repeating: 0, count: learner.settings.dimensions)
            ll = learner.model!.responsibilities(x, into: resp, scratch: &scratch)
        }
        return MixtureObservation(scored: true, logLikelihood: ll, label: argmax(resp, learner.settings.components),
                                  parametersChanged: changed)
    }

    /// The learner over messages of many sizes (segments) against the per-observation
    /// path on the same rows: the same parameters and posteriors to rounding, for soft
    /// and hard, with and without averaging; and no allocation once learning.
    @Test(arguments: [LearnerSettings.Estimator.soft, .hard], [false, true])
    func learnerOnMessagesMatchesLearnerOnRows(_ estimator: LearnerSettings.Estimator, _ averaging: Bool) {
        let k = 3, d = 4
        let settings = LearnerOnMessages.settings(.full, k: k, d: d, estimator: estimator, averaging: averaging)
        let xs = LearnerOnMessages.rows(3_000, around: Self.mixture(k: k, d: d, seed: 42), seed: 8)
        var byRow = MixtureLearner(settings: settings), byMessage = byRow
        var resp = [Double](repeating: 0, count: k)
        var rowOutcomes: [MixtureObservation] = []
        xs.withUnsafeBufferPointer { x in
            for n in 0..<3_000 {
                let row = x.baseAddress! + n * d
                if case .none = byRow.model {  // the warm-up
                    rowOutcomes.append(byRow.observe(row, learn: true, responsibilities: &resp))
                } else {
                    rowOutcomes.append(Self.perObservation(&byRow, row, &resp))
                }
            }
        }
        let run = LearnerOnMessages.feed(&byMessage, xs)
        let (allocations, checkedMessages, messageOutcomes) = (run.allocations, run.checkedMessages, run.outcomes)
        // Another split of the same rows into messages: the same bits (what lets a
        // restart that regroups messages continue exactly).
        var regrouped = MixtureLearner(settings: settings)
        _ = LearnerOnMessages.feed(&regrouped, xs, sizes: (7, { $0 % 23 + 2 }))
        #expect(regrouped.model == byMessage.model && regrouped.statistics == byMessage.statistics)
        #expect(allocations == 0)
        #expect(checkedMessages > 50, "no re-seed-free messages were counted")
        #expect(byRow.version == byMessage.version && byRow.version > 100)
        let a = byRow.model!, b = byMessage.model!
        for (p, q) in [(a.weights, b.weights), (a.means, b.means), (a.covariances, b.covariances)] {
            for i in p.indices { #expect(abs(p[i] - q[i]) <= 1e-9 * max(1, abs(p[i]))) }
        }
        #expect(rowOutcomes.map(\.label) == messageOutcomes.map(\.label))
        for (r, m) in zip(rowOutcomes, messageOutcomes) {  // the posterior's model: averaged or iterate
            #expect(abs(r.logLikelihood - m.logLikelihood) <= 1e-9 * max(1, abs(r.logLikelihood)))
        }
        #expect(rowOutcomes.map(\.parametersChanged) == messageOutcomes.map(\.parametersChanged))
    }

    /// A mini-batch longer than the longest segment (batch 200, messages of 150 rows):
    /// the scratch stays bounded, and the rows learned in cut segments give the same
    /// bits as the same rows one message each.
    @Test func longMiniBatchesAreCutIntoBoundedSegments() {
        let k = 3, d = 4
        var settings = LearnerSettings(components: k, dimensions: d, covarianceType: .full)
        settings.batch = 200
        settings.warmup = 60
        let truth = Self.mixture(k: k, d: d, seed: 42)
        var rng = Xoshiro256StarStar(seed: 9)
        var xs: [Double] = []
        for n in 0..<1_260 {
            for i in 0..<d { xs.append(truth.means[(n % k) * d + i] + rng.normal()) }
        }
        var inMessages = MixtureLearner(settings: settings), oneByOne = inMessages
        var capped = settings
        capped.batch = MixtureLearner.maximumSegmentRows
        #expect(inMessages.segmentScratch.count == MixtureLearner.segmentScratchCount(capped),
                "the scratch is sized by the longest segment, not by the mini-batch")
        var resp = [Double](repeating: 0, count: 150 * k)
        var outcomes = [MixtureObservation](repeating: .init(scored: false, logLikelihood: 0, label: 0, parametersChanged: false), count: 150)
        xs.withUnsafeBufferPointer { x in
            var n = 0
            while n < 1_260 {
                let count = min(150, 1_260 - n)
                _ = inMessages.observe(x.baseAddress! + n * d, count: count, learn: true, responsibilities: &resp, outcomes: &outcomes)
                n += count
            }
            for n in 0..<1_260 {
                _ = oneByOne.observe(x.baseAddress! + n * d, learn: true, responsibilities: &resp)
            }
        }
        #expect(inMessages.version == 7)  // the warm-up (60 rows), then six mini-batches of 200
        #expect(inMessages.model == oneByOne.model && inMessages.statistics == oneByOne.statistics)
    }
}
