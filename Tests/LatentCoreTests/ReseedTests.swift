import CAllocationCounter
import Testing
@testable import LatentCore

/// Re-seeding a dead component (`MixtureLearner.reseedDeadComponent`) happens inside
/// learning, so it must not allocate, and it must give what it gave when it built
/// the average covariance as a D×D array.
@Suite struct ReseedTests {
    /// K = 3 in D = 4; component 2 sits far from every observation, so learning
    /// starves it until it is re-seeded.
    static func learner(_ type: CovarianceType) throws -> (MixtureLearner, [Double]) {
        let k = 3, d = 4
        var means = [Double](repeating: 0, count: k * d)
        for i in 0..<d { means[d + i] = 4; means[2 * d + i] = 1_000 }
        let covariances: [Double]
        switch type {
        case .full: covariances = (0..<k).flatMap { j in (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1 + Double(j) * 0.25 : 0.1 } }
        case .tied: covariances = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.5 : 0.2 }
        case .diag: covariances = (0..<(k * d)).map { 0.5 + Double($0 % 5) * 0.3 }
        case .spherical: covariances = [1, 2, 3]
        }
        let initial = try GaussianMixture(weights: [1, 1, 1], means: means, covariances: covariances, covarianceType: type)
        var settings = LearnerSettings(components: k, dimensions: d, covarianceType: type)
        settings.batch = 8
        var rng = Xoshiro256StarStar(seed: 5)
        let data = (0..<(4_000 * d)).map { i in ((i / d) % 2 == 0 ? 0 : 4) + rng.normal() }
        return (MixtureLearner(settings: settings, initial: initial), data)
    }

    @Test(arguments: CovarianceType.allCases)
    func reseedingAllocatesNothing(_ type: CovarianceType) throws {
        var (learner, data) = try Self.learner(type)
        var resp = [Double](repeating: 0, count: 3)
        var allocations = 0
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                for row in 0..<(data.count / 4) {
                    let start = latentd_thread_allocations()
                    _ = learner.observe(xs.baseAddress! + row * 4, learn: true, responsibilities: r.baseAddress!)
                    // From the second update on (the first creates the M-step's spare).
                    if row >= 16 { allocations += Int(latentd_thread_allocations() - start) }
                }
            }
        }
        #expect(learner.reseeds > 0, "no component was re-seeded")
        #expect(allocations == 0)
    }

    /// The packed average covariance against the D×D `averageCovariance()`, bit for bit.
    @Test(arguments: CovarianceType.allCases)
    func packedAverageCovarianceIsTheAverageCovariance(_ type: CovarianceType) throws {
        let (learner, _) = try Self.learner(type)
        let model = learner.model!, d = 4
        let matrix = model.averageCovariance()
        var packed = [Double](repeating: .nan, count: d * (d + 1) / 2)
        packed.withUnsafeMutableBufferPointer { model.packedAverageCovariance(into: $0.baseAddress!) }
        var p = 0
        for r in 0..<d {
            for c in 0...r {
                #expect(packed[p].bitPattern == matrix[r * d + c].bitPattern, "(\(r), \(c))")
                p += 1
            }
        }
    }

    /// A re-seed from the same state gives the statistics the D×D version gave.
    @Test(arguments: CovarianceType.allCases)
    func reseedMatchesTheMatrixFormula(_ type: CovarianceType) throws {
        var (learner, data) = try Self.learner(type)
        var resp = [Double](repeating: 0, count: 3)
        // Past a few updates, then into the next mini-batch so a worst row exists.
        data.withUnsafeBufferPointer { xs in
            for row in 0..<43 { _ = learner.observe(xs.baseAddress! + row * 4, learn: true, responsibilities: &resp) }
        }
        learner.statistics.counts[2] = 1e-9 * learner.statistics.total  // dead
        var expected = learner
        learner.reseedDeadComponent()
        Self.reseedWithTheAverageCovarianceMatrix(&expected)
        #expect(learner.reseeds == expected.reseeds && learner.reseeds > 0)
        #expect(learner.statistics == expected.statistics)
    }

    /// `reseedDeadComponent` as it was before it stopped allocating.
    static func reseedWithTheAverageCovarianceMatrix(_ learner: inout MixtureLearner) {
        let k = learner.settings.components, d = learner.settings.dimensions
        guard let current = learner.iterate, learner.worstLogLikelihood.isFinite else { return }
        let total = learner.statistics.total
        var dead = 0
        for j in 1..<k where learner.statistics.counts[j] < learner.statistics.counts[dead] { dead = j }
        guard learner.statistics.counts[dead] < 0.01 / Double(k) * total else { return }
        let mass = total / Double(k)
        learner.statistics.scale(by: (total - mass) / max(total - learner.statistics.counts[dead], .leastNormalMagnitude))
        learner.statistics.counts[dead] = mass
        for i in 0..<d { learner.statistics.sums[dead * d + i] = mass * learner.worst[i] }
        var second = current.averageCovariance()
        for r in 0..<d { for c in 0..<d { second[r * d + c] += learner.worst[r] * learner.worst[c] } }
        let packed = d * (d + 1) / 2
        switch learner.settings.covarianceType {
        case .full:
            var p = 0
            for r in 0..<d { for c in 0...r { learner.statistics.secondMoments[dead * packed + p] = mass * second[r * d + c]; p += 1 } }
        case .tied:
            var p = 0
            for r in 0..<d { for c in 0...r { learner.statistics.secondMoments[p] += mass * second[r * d + c]; p += 1 } }
        case .diag:
            for i in 0..<d { learner.statistics.secondMoments[dead * d + i] = mass * second[i * d + i] }
        case .spherical:
            var trace = 0.0
            for i in 0..<d { trace += second[i * d + i] }
            learner.statistics.secondMoments[dead] = mass * trace
        }
        learner.reseeds += 1
    }
}

extension GaussianMixture {
    /// Σ_k w_k Σ_k as a dense D×D matrix, the way `reseedDeadComponent` built it before
    /// it stopped allocating: the reference for the packed version.
    func averageCovariance() -> [Double] {
        var avg = [Double](repeating: 0, count: dimensions * dimensions)
        for j in 0..<components {
            let m = covarianceMatrix(j)
            for i in avg.indices { avg[i] += weights[j] * m[i] }
        }
        return avg
    }
}
