import Testing
@testable import LatentCore

/// `HMMSequence.reset()`, which the daemon starts each new sequence in: whatever the
/// sequence went through, it becomes a new sequence (and runs as one), in the same storage.
struct HMMSequenceResetTests {
    @Test(arguments: [(0, false, false), (3, false, false), (3, true, false), (2, false, true)])
    func resetSequenceIsANewOneInTheSameStorage(lag: Int, hard: Bool, recursive: Bool) throws {
        let model = try HMMLearnerTests.sticky()
        var settings = HMMLearnerTests.stickySettings()
        settings.lag = lag
        settings.window = 16
        settings.hard = hard
        settings.recursive = recursive
        var learner = HMMLearner(settings: settings, initial: model)
        var rng = Xoshiro256StarStar(seed: 3)
        let xs = hmmTestSample(model, 300, &rng)
        var filtered = [Double](repeating: 0, count: 3), smoothed = filtered

        /// Observations [from, to) of `xs` into `s`: every output, in order.
        func feed(_ l: inout HMMLearner<GaussianEmissions>, _ s: inout HMMSequence, _ range: Range<Int>) -> [HMMObservation] {
            range.map { t in
                xs.withUnsafeBufferPointer { p in
                    l.observe(p.baseAddress! + 2 * t, sequence: &s, learn: true, filtered: &filtered, smoothed: &smoothed)
                }
            }
        }

        var used = learner.newSequence()
        _ = feed(&learner, &used, 0..<200)
        let capacity = used.viterbi.backPointers.capacity
        #expect(used != learner.newSequence())
        used.reset()
        #expect(used == learner.newSequence())
        #expect(used.viterbi.backPointers.capacity == capacity, "reset must keep the back-pointers' storage")

        // The reset one and a new one, each with its own copy of the learner, give the same bits.
        var other = learner
        var fresh = learner.newSequence()
        #expect(feed(&learner, &used, 200..<300) == feed(&other, &fresh, 200..<300))
        #expect(used == fresh)
        #expect(learner.end(&used, learn: true) == other.end(&fresh, learn: true))
        #expect(learner.model == other.model)
    }
}
