import CAllocationCounter
import Foundation
import Testing
import LatentCore

/// Stepwise EM on the seeded streams of scripts/fixtures/stream_reference.py.
@Suite struct StepwiseLearnerTests {
    static func stream(_ name: String) throws -> [String: Any] {
        try Fixture.load("stream_reference.json")[name] as! [String: Any]
    }

    /// Feeds row-major observations through `observe`.
    static func feed(_ learner: inout MixtureLearner, _ data: [Double]) {
        let d = learner.settings.dimensions
        var resp = [Double](repeating: 0, count: learner.settings.components)
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                for row in 0..<(data.count / d) {
                    _ = learner.observe(xs.baseAddress! + row * d, learn: true, responsibilities: r.baseAddress!)
                }
            }
        }
    }

    @Test func onePassMatchesScikitLearnBatchFit() throws {
        let s = try Self.stream("stationary")
        var generator = MixtureStream(seed: 42, parameters: s["true"] as! [String: Any])
        let train = generator.take(100_000), test = generator.take(20_000)
        var settings = LearnerSettings(components: 5, dimensions: 2, covarianceType: .full)
        settings.averaging = true
        var learner = MixtureLearner(settings: settings)
        Self.feed(&learner, train)
        let ours = learner.model!.meanLogLikelihood(test)
        let sklearn = (s["sklearn_heldout_mean_loglik"] as! NSNumber).doubleValue
        #expect(ours > sklearn - 0.005, "held-out mean log-likelihood \(ours) vs scikit-learn's \(sklearn)")
    }

    @Test func halfLifeFollowsDrift() throws {
        let s = try Self.stream("drift")
        var before = MixtureStream(seed: 7, parameters: s["pre_drift"] as! [String: Any])
        let pre = before.take(30_000)
        var after = MixtureStream(seed: 7, parameters: s["post_drift"] as! [String: Any])
        after.rng = before.rng  // one generator, as in the script: the parameters switch mid-stream
        let post = after.take(30_000), test = after.take(5_000)
        var settings = LearnerSettings(components: 3, dimensions: 2, covarianceType: .full)
        settings.minStep = 1 - pow(0.5, Double(settings.batch) / 2_000)  // half_life: 2000 observations
        var learner = MixtureLearner(settings: settings)
        Self.feed(&learner, pre)
        let stale = learner.model!
        Self.feed(&learner, post)
        let sklearn = (s["sklearn_heldout_mean_loglik"] as! NSNumber).doubleValue
        let adapted = learner.model!.meanLogLikelihood(test)
        #expect(stale.meanLogLikelihood(test) < sklearn - 3, "the drift must matter for this test to mean anything")
        #expect(adapted > sklearn - 0.05, "after the drift: \(adapted) vs scikit-learn on post-drift data \(sklearn)")
    }

    @Test(arguments: CovarianceType.allCases, [LearnerSettings.Estimator.soft, .hard])
    func restoredStateContinuesBitForBit(_ type: CovarianceType, _ estimator: LearnerSettings.Estimator) throws {
        let s = try Self.stream("stationary")
        var generator = MixtureStream(seed: 42, parameters: s["true"] as! [String: Any])
        let first = generator.take(1_237), second = generator.take(3_001)  // cuts mid-batch
        var settings = LearnerSettings(components: 5, dimensions: 2, covarianceType: type)
        settings.estimator = estimator
        settings.averaging = type == .full
        var uninterrupted = MixtureLearner(settings: settings)
        Self.feed(&uninterrupted, first)
        var reader = ByteReader(uninterrupted.encoded())
        var restored = try MixtureLearner(settings: settings, decoding: &reader)
        #expect(reader.isAtEnd)
        #expect(restored.encoded() == uninterrupted.encoded())
        Self.feed(&uninterrupted, second)
        Self.feed(&restored, second)
        #expect(restored.encoded() == uninterrupted.encoded())
        #expect(restored.model == uninterrupted.model)
    }

    @Test func truncatedStateIsRefused() throws {
        let settings = LearnerSettings(components: 2, dimensions: 2, covarianceType: .diag)
        var learner = MixtureLearner(settings: settings)
        Self.feed(&learner, (0..<1000).map { Double($0 % 7) + Double($0 % 3) * 0.1 })
        let bytes = learner.encoded()
        for cut in [0, 10, bytes.count / 2, bytes.count - 1] {
            var r = ByteReader(Array(bytes[0..<cut]))
            #expect(throws: DecodingFailure.self) { try MixtureLearner(settings: settings, decoding: &r) }
        }
        var other = ByteReader(bytes)
        #expect(throws: DecodingFailure.self) {
            try MixtureLearner(settings: LearnerSettings(components: 3, dimensions: 2, covarianceType: .diag), decoding: &other)
        }
    }

    @Test(arguments: CovarianceType.allCases, [false, true])
    func hotPathAllocatesNothing(_ type: CovarianceType, _ averaging: Bool) throws {
        var settings = LearnerSettings(components: 8, dimensions: 8, covarianceType: type)
        settings.warmup = 200
        settings.averaging = averaging
        var learner = MixtureLearner(settings: settings)
        var rng = Xoshiro256StarStar(seed: 3)
        var data = [Double](repeating: 0, count: 8 * 4_000)
        for i in data.indices {
            let cluster = Double((i / 8) % 8)
            data[i] = cluster + 0.1 * Double(i % 8) + rng.normal()
        }
        Self.feed(&learner, Array(data[0..<(8 * 400)]))  // past the warm-up
        let model = learner.model!
        var resp = [Double](repeating: 0, count: 8)
        var scratch = [Double](repeating: 0, count: packedCount(8))
        var stats = MixtureStatistics(components: 8, dimensions: 8, covarianceType: type)
        let before = latentd_thread_allocations()
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { sc in
                    for row in 400..<4_000 {
                        let x = xs.baseAddress! + row * 8
                        _ = model.responsibilities(x, into: r.baseAddress!, scratch: sc.baseAddress!)
                        stats.accumulate(x, gamma: r.baseAddress!, scratch: sc.baseAddress!)
                    }
                }
            }
        }
        #expect(latentd_thread_allocations() == before, "E-step + statistics allocated")
        // The whole learner, mini-batch M-steps and re-seeds of dead components
        // included: it double-buffers the mixture and updates it in place. Counted over
        // the second half, once the spare exists and the runtime's one-time caches are
        // filled. (`ReseedTests` re-seeds on purpose; here it is rare.)
        var allocatingObservations = 0, updates = 0
        let reseedsBefore = learner.reseeds
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                for row in 400..<4_000 {
                    let start = latentd_thread_allocations()
                    let o = learner.observe(xs.baseAddress! + row * 8, learn: true, responsibilities: r.baseAddress!)
                    guard row >= 2_200 else { continue }
                    if o.parametersChanged { updates += 1 }
                    if latentd_thread_allocations() != start { allocatingObservations += 1 }
                }
            }
        }
        #expect(updates == 1_800 / settings.batch)
        #expect(learner.reseeds - reseedsBefore < updates / 10)
        #expect(allocatingObservations == 0)
    }
}

private func packedCount(_ d: Int) -> Int { d * (d + 1) / 2 }

@Test func allocationCounterSeesAllocations() {
    let before = latentd_thread_allocations()
    let array = [Double](repeating: 1, count: Int.random(in: 100...200))
    #expect(latentd_thread_allocations() > before)
    #expect(array.count >= 100)
}
