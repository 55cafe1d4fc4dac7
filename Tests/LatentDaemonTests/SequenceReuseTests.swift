import CAllocationCounter
@testable import LatentCore
import Testing
@testable import LatentDaemon

/// A sink that only counts what the host publishes (no socket, no copy).
final class CountingSink: OutputSink {
    var published = 0
    func publish(topic: [UInt8], body: UnsafeRawBufferPointer) { published += 1 }
}

/// New HMM sequences start in the storage of finished ones (`SequenceTable`): a
/// stream of short sequences allocated a new sequence's arrays, and regrew its window
/// and Viterbi back-pointers, for every one of them.
@Suite struct SequenceReuseTests {
    static let config = """
        models:
          - name: a
            topic: a
            kind: hmm
            states: 3
            emission: gaussian
            dimensions: 2
            covariance: diag
            lag: 2
            window: 8
            learning: {batch: 8, warmup: 30}
        """

    /// Eight-observation sequences, four interleaved: once the table has seen as many,
    /// the message that starts a sequence allocates no more than any other message
    /// inside a sequence (nothing in a release build; debug builds allocate in the
    /// parser). Before slots kept their storage it allocated about six arrays more.
    @Test func startingASequenceAllocatesNoMoreThanContinuingOne() throws {
        let host = try HMMHost<GaussianEmissions>(config: try DaemonConfig.parse(yaml: Self.config).models[0])
        let sink = CountingSink()
        let topic: [UInt8] = Array("a".utf8)
        var rng = Xoshiro256StarStar(seed: 4)
        // Payloads built before counting: sequence s's observation t.
        func payload(_ s: Int, _ t: Int) -> [UInt8] {
            let x = [Double(s % 3) * 3 + rng.normal(), rng.normal()]
            return Array(#"{"seq":"s\#(s % 4)","x":[\#(x[0]),\#(x[1])]\#(t == 7 ? #","end":true"# : "")}"#.utf8)
        }
        let rounds = 40
        let messages = (0..<rounds).flatMap { r in (0..<8).flatMap { t in (0..<4).map { k in (t, payload(4 * r + k, t)) } } }
        var starting: [Int] = [], running: [Int] = []
        for (i, (t, bytes)) in messages.enumerated() {
            let before = latentd_thread_allocations()
            bytes.withUnsafeBytes { p in
                topic.withUnsafeBytes { host.handle(topic: $0, payload: p, sink: sink, now: 0) }
            }
            let count = Int(latentd_thread_allocations() - before)
            guard i >= messages.count / 2 else { continue }  // the first half: warm-up, table growth
            if t == 0 { starting.append(count) } else if t < 7 { running.append(count) }
        }
        #expect(host.rejected == 0)
        #expect(host.ended == 4 * rounds)
        #expect(sink.published > messages.count)
        let perMessage = running.min() ?? -1
        #expect(running.allSatisfy { $0 == perMessage }, "messages inside a sequence allocated \(Set(running).sorted())")
        #expect(starting.allSatisfy { $0 == perMessage },
                "messages that start a sequence allocated \(Set(starting).sorted()), others \(perMessage)")
    }

    /// A finished sequence holding more than `retainedBytes` gives its slot the
    /// placeholder, so the next new sequence is a fresh one; a small one is reset in place.
    @Test func longSequencesReleaseTheirStorage() {
        var table = SequenceTable()
        let placeholder = HMMSequence(states: 3, lag: 0)
        var freshCalls = 0
        func fresh() -> HMMSequence { freshCalls += 1; return HMMSequence(states: 3, lag: 2) }

        var slot = table.insertNew("long", now: 0, fresh: fresh)
        table.states[slot].viterbi.reserveCapacity(steps: SequenceTable.retainedBytes)  // 4·3 bytes per step
        #expect(table.states[slot].heapBytes > SequenceTable.retainedBytes)
        table.remove(slot, placeholder: placeholder)
        #expect(table.states[slot] == placeholder)
        slot = table.insertNew("next", now: 0, fresh: fresh)
        #expect(freshCalls == 2)

        table.states[slot].viterbi.reserveCapacity(steps: 100)
        table.remove(slot, placeholder: placeholder)
        let reused = table.insertNew("after", now: 0, fresh: fresh)
        #expect(reused == slot && freshCalls == 2, "a small finished sequence's storage starts the next one")
        #expect(table.states[reused] == HMMSequence(states: 3, lag: 2))
        #expect(table.states[reused].viterbi.backPointers.capacity >= 300)
        #expect(table.slot(of: "after") == reused && table.slot(of: "next") == nil && table.count == 1)
    }

    /// `status` takes both memory figures from one pass over the slots: the live
    /// sequences' (`sequence_bytes`) and every slot's, a finished sequence's kept
    /// storage included (part of `heap_bytes`). Checked against sums over the
    /// recency list and over all slots.
    @Test func sequenceBytesSplitsLiveFromKeptStorage() throws {
        let host = try HMMHost<GaussianEmissions>(config: try DaemonConfig.parse(yaml: Self.config).models[0])
        let sink = CountingSink()
        let topic: [UInt8] = Array("a".utf8)
        for t in 0..<3 {
            for s in 0..<3 {
                let end = t == 2 && s == 1 ? #","end":true"# : ""
                let bytes = Array(#"{"seq":"s\#(s)","x":[\#(s),\#(t)]\#(end)}"#.utf8)
                bytes.withUnsafeBytes { p in topic.withUnsafeBytes { host.handle(topic: $0, payload: p, sink: sink, now: 0) } }
            }
        }
        #expect(host.rejected == 0 && host.ended == 1 && host.table.count == 2)
        let (live, all) = host.table.sequenceBytes()
        #expect(live == host.table.slotsOldestFirst.reduce(0) { $0 + host.table.states[$1].heapBytes })
        #expect(all == host.table.states.reduce(0) { $0 + $1.heapBytes })
        #expect(all > live, "the finished sequence's slot keeps its storage")
    }
}
