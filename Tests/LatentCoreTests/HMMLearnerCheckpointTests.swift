import CAllocationCounter
import Foundation
import Testing
@testable import LatentCore

/// HMMLearnerTests, continued: bit-exact checkpoints and no allocation per
/// observation (split from HMMLearnerTests.swift by concept).
extension HMMLearnerTests {
    // MARK: 5. Checkpoints

    /// Observation t of every live sequence (sequence `unlearned` not learned
    /// from), finishing the warm-up as soon as the learner says it is ready.
    static func round<E>(_ learner: inout HMMLearner<E>, _ live: inout [HMMSequence], _ data: [[Double]], _ t: Int,
                         unlearned: Int? = nil) -> [HMMLearnerStep] {
        var steps: [HMMLearnerStep] = []
        for k in live.indices {
            let step = learner.feed(data[k], t, &live[k], learn: k != unlearned)
            steps.append(step)
            if step.o.warmupReady {
                let finished = learner.finishWarmup(sequences: &live)
                #expect(finished)
            }
        }
        return steps
    }

    static func encoded<E>(_ learner: HMMLearner<E>, _ live: [HMMSequence]) -> [UInt8] {
        var writer = ByteWriter()
        learner.encode(into: &writer)
        for s in live { learner.encode(s, into: &writer) }
        return writer.bytes
    }

    /// Checkpoints mid-stream (or mid-warm-up), restores, and feeds the same
    /// continuation to both: every output, the final model and the final state
    /// are bit-identical. One observation of the continuation is not learned
    /// from; it comes after the warm-up, because one that is not learned from
    /// during the warm-up is not buffered, hence not replayed, and the
    /// sequence's Viterbi path then misses it (not what this test is about).
    func checkRoundTrip<E: SeedableEmissions>(_ settings: HMMLearnerSettings, initial: HiddenMarkovModel<E>?,
                                              live data: [[Double]], ended: [Double], cut: Int) throws {
        let w = settings.shape.observationWidth, length = data[0].count / w
        var original = HMMLearner(settings: settings, initial: initial)
        var endedSequence = original.newSequence()
        for t in 0..<(ended.count / w) { _ = original.feed(ended, t, &endedSequence) }
        _ = original.end(&endedSequence, learn: true)
        var live = data.map { _ in original.newSequence() }
        for t in 0..<cut { _ = Self.round(&original, &live, data, t) }
        // Something in flight everywhere.
        if initial == nil {
            #expect(original.model == nil && !original.warmupSegments.isEmpty && original.warmupCount > 0)
        } else {
            #expect(original.version > 1 && original.pendingCount > 0)
        }
        #expect(live.allSatisfy { !$0.window.isEmpty && $0.t == cut })
        let bytes = Self.encoded(original, live)
        var reader = ByteReader(bytes)
        var restored = try HMMLearner<E>(settings: settings, decoding: &reader)
        var restoredLive: [HMMSequence] = []
        for _ in live { restoredLive.append(try restored.decodeSequence(from: &reader)) }
        #expect(reader.isAtEnd)
        #expect(restoredLive == live)
        #expect(restored.model == original.model && restored.statistics == original.statistics
                && restored.pending == original.pending && restored.rng == original.rng)
        #expect(Self.encoded(restored, restoredLive) == bytes)
        let version = original.version
        for t in cut..<length {
            let unlearned = t == cut + 15 ? 1 : nil
            if unlearned != nil { #expect(original.model != nil) }
            let a = Self.round(&original, &live, data, t, unlearned: unlearned)
            let b = Self.round(&restored, &restoredLive, data, t, unlearned: unlearned)
            #expect(a == b, "t=\(t)")
        }
        for k in live.indices {
            let a = original.end(&live[k], learn: true), b = restored.end(&restoredLive[k], learn: true)
            #expect(a == b && a.path?.count == length)
        }
        #expect(original.version > max(version, 1) && restored.version == original.version)
        #expect(restored.model == original.model && original.model != nil)
        #expect(Self.encoded(restored, restoredLive) == Self.encoded(original, live))
    }

    /// Short windows, batches and warm-up, so that a 3 × 120 stream crosses several
    /// M-steps on both sides of the cut.
    static func roundTripSettings(_ base: HMMLearnerSettings, hard: Bool) -> HMMLearnerSettings {
        var settings = base
        settings.lag = 3
        settings.window = 16
        settings.batch = 24
        settings.warmup = 150
        settings.hard = hard
        return settings
    }

    @Test(arguments: zip([false, true, false], [false, false, true]))
    func gaussianFullCheckpointContinuesBitForBit(fromWarmup: Bool, hard: Bool) throws {
        let truth = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 51)
        let data = (0..<3).map { _ in hmmTestSample(truth, 120, &rng) }
        let ended = hmmTestSample(truth, 30, &rng)
        let settings = Self.roundTripSettings(Self.stickySettings(.full), hard: hard)
        let initial = try HiddenMarkovModel(
            start: [1, 1, 1], transitions: [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8],
            emissions: GaussianEmissions(states: 3, means: [0.5, 0, 2.5, 0.5, 0, 2.5],
                                         covariances: [1, 0.2, 0.2, 1, 1, 0, 0, 1, 1, -0.1, -0.1, 1], covarianceType: .full))
        try checkRoundTrip(settings, initial: fromWarmup ? nil : initial, live: data, ended: ended, cut: fromWarmup ? 30 : 50)
    }

    @Test(arguments: zip([false, true, false], [false, false, true]))
    func categoricalCheckpointContinuesBitForBit(fromWarmup: Bool, hard: Bool) throws {
        let truth = try Self.casino()
        var rng = Xoshiro256StarStar(seed: 52)
        let data = (0..<3).map { _ in hmmTestSample(truth, 120, &rng) }
        let ended = hmmTestSample(truth, 30, &rng)
        let settings = Self.roundTripSettings(Self.casinoSettings(), hard: hard)
        try checkRoundTrip(settings, initial: fromWarmup ? nil : try Self.worseCasino(), live: data, ended: ended,
                           cut: fromWarmup ? 30 : 50)
    }

    /// A categorical learner mid-stream (hard, so a decoded state is kept) and its sequence.
    static func midStream() throws -> (HMMLearner<CategoricalEmissions>, HMMSequence) {
        let truth = try casino()
        var rng = Xoshiro256StarStar(seed: 53)
        let xs = hmmTestSample(truth, 100, &rng)
        var settings = casinoSettings()
        settings.lag = 2
        settings.window = 16
        settings.batch = 24
        settings.hard = true
        var learner = HMMLearner(settings: settings, initial: try worseCasino())
        var s = learner.newSequence()
        for t in 0..<90 { _ = learner.feed(xs, t, &s) }
        #expect(!s.window.isEmpty && s.lastHardState >= 0 && learner.version > 1)
        return (learner, s)
    }

    @Test func truncatedOrCorruptStateIsRefused() throws {
        let (learner, s) = try Self.midStream()
        let settings = learner.settings
        var w = ByteWriter()
        learner.encode(into: &w)
        let learnerBytes = w.bytes
        w = ByteWriter()
        learner.encode(s, into: &w)
        let sequenceBytes = w.bytes
        func decodeLearner(_ bytes: [UInt8], _ settings: HMMLearnerSettings = settings) throws {
            var r = ByteReader(bytes)
            _ = try HMMLearner<CategoricalEmissions>(settings: settings, decoding: &r)
        }
        func decodeSequence(_ bytes: [UInt8]) throws {
            var r = ByteReader(bytes)
            _ = try learner.decodeSequence(from: &r)
        }
        try decodeLearner(learnerBytes)
        try decodeSequence(sequenceBytes)
        // Every truncation.
        for cut in 0..<learnerBytes.count {
            #expect(throws: DecodingFailure.self, "cut \(cut)") { try decodeLearner(Array(learnerBytes[0..<cut])) }
        }
        for cut in 0..<sequenceBytes.count {
            #expect(throws: DecodingFailure.self, "cut \(cut)") { try decodeSequence(Array(sequenceBytes[0..<cut])) }
        }
        // Another model's state.
        var other = settings
        other.shape = .categorical(symbols: 5)
        #expect(throws: DecodingFailure.self) { try decodeLearner(learnerBytes, other) }
        other = settings
        other.states = 3
        #expect(throws: DecodingFailure.self) { try decodeLearner(learnerBytes, other) }
        // Noise.
        var rng = Xoshiro256StarStar(seed: 54)
        for length in [1, 8, 17, 100, 1_000] {
            let noise = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: DecodingFailure.self) { try decodeLearner(noise) }
            #expect(throws: DecodingFailure.self) { try decodeSequence(noise) }
        }
        // Well-formed bytes holding values the learner would trip over later.
        func encoded(_ s: HMMSequence) -> [UInt8] {
            var w = ByteWriter()
            learner.encode(s, into: &w)
            return w.bytes
        }
        var bad = s
        bad.lastHardState = 2
        #expect(throws: DecodingFailure.self) { try decodeSequence(encoded(bad)) }
        bad = s
        bad.smoother!.steps = -1
        #expect(throws: DecodingFailure.self) { try decodeSequence(encoded(bad)) }
        bad = s
        bad.viterbi = OnlineViterbi(states: 2, delta: s.viterbi.delta, backPointers: [], steps: -3)
        #expect(throws: DecodingFailure.self) { try decodeSequence(encoded(bad)) }
        for symbol in [6.0, -1, 2.5, .nan, 1e300] {
            bad = s
            bad.window[0] = symbol
            #expect(throws: DecodingFailure.self, "symbol \(symbol)") { try decodeSequence(encoded(bad)) }
            var badLearner = learner
            badLearner.warmupSegments = [[0, symbol]]
            var w = ByteWriter()
            badLearner.encode(into: &w)
            #expect(throws: DecodingFailure.self, "symbol \(symbol)") { try decodeLearner(w.bytes) }
        }
        var badLearner = learner
        badLearner.step = -1
        w = ByteWriter()
        badLearner.encode(into: &w)
        #expect(throws: DecodingFailure.self) { try decodeLearner(w.bytes) }
    }

    // MARK: 6. No allocation per observation

    /// Once its buffers have grown (the window, the forward–backward and Viterbi
    /// workspaces), observing an existing sequence allocates nothing, window
    /// flushes and stepwise updates included (the M-step writes into a spare model
    /// and swaps it in; the first update copies the model into that spare), except
    /// the sequence's Viterbi back-pointers, an array that grows by N per
    /// observation (the path is emitted at the end, so they must be kept):
    /// amortized doubling, one allocation each time its capacity grows.
    @Test(arguments: zip([0, 3, 0], [false, false, true]))
    func steadyStateObservationsAllocateNothing(lag: Int, hard: Bool) throws {
        let model = try Self.sticky()
        var rng = Xoshiro256StarStar(seed: 61)
        let warm = 4 * 64, length = warm + 2_000
        let xs = hmmTestSample(model, length, &rng)
        var settings = Self.stickySettings()
        settings.lag = lag
        settings.window = 64
        settings.hard = hard
        for batch in [1_000_000, 64] {
            settings.batch = batch
            var learner = HMMLearner(settings: settings, initial: model)
            var s = learner.newSequence()
            var filtered = [Double](repeating: 0, count: 3), smoothed = filtered
            var allocating: [Int] = [], growths = 0, growthAllocations = 0, updates = 0, flushes = 0
            var warmCapacity = 0
            xs.withUnsafeBufferPointer { p in
                filtered.withUnsafeMutableBufferPointer { f in
                    smoothed.withUnsafeMutableBufferPointer { sm in
                        for t in 0..<length {
                            let capacity = s.viterbi.backPointers.capacity
                            let before = latentd_thread_allocations()
                            let o = learner.observe(p.baseAddress! + 2 * t, sequence: &s, learn: true,
                                                    filtered: f.baseAddress!, smoothed: sm.baseAddress!)
                            let count = latentd_thread_allocations() - before
                            guard t >= warm else { warmCapacity = s.viterbi.backPointers.capacity; continue }
                            if s.window.isEmpty { flushes += 1 }
                            if o.parametersChanged { updates += 1 }
                            let grew = s.viterbi.backPointers.capacity != capacity
                            if o.parametersChanged && updates == 1 { continue }  // fills the spare
                            if grew {
                                growths += 1
                                growthAllocations += Int(count)
                            } else if count != 0 {
                                allocating.append(t)
                            }
                        }
                    }
                }
            }
            #expect(allocating.isEmpty, "batch \(batch): observations \(allocating.prefix(10)) allocated")
            // Capacity at least doubles each time, so it grows at most ⌈log₂(final count / capacity after warming up)⌉ times.
            let doublings = Int(log2(Double(s.viterbi.backPointers.count) / Double(warmCapacity)).rounded(.up))
            #expect(growths >= 1 && growths <= doublings && growthAllocations <= growths,
                    "batch \(batch): \(growths) growths (≤ \(doublings)), \(growthAllocations) allocations")
            #expect(flushes == 2_000 / 64 && updates == (batch == 64 ? flushes : 0), "batch \(batch)")
        }
    }
}
