@testable import LatentCore
@testable import LatentDaemon
import Testing

/// What a host publishes, in order.
final class RecordingSink: OutputSink {
    var messages: [String] = []
    func publish(topic: [UInt8], body: UnsafeRawBufferPointer) {
        messages.append(String(decoding: topic, as: UTF8.self) + " " + String(decoding: body, as: UTF8.self))
    }
}

/// The GMM host holds one-observation messages and learns them together as a segment
/// (`MixtureHost.holdsRows`). Nothing may show it: not the learner's state, not the
/// posteriors (their bytes, ids and counts), not the parameters published, not their
/// order among the errors.
@Suite struct HeldRowsTests {
    static func host(covariance: String, posteriors: Bool) throws -> MixtureHost {
        let yaml = """
            models:
              - {name: g, topic: g, kind: gmm, dimensions: 3, components: 4, covariance: \(covariance), seed: 3,
                 learning: {batch: 16, warmup: 40}, publish: {posteriors: \(posteriors), params_every: 50}}
            """
        return try MixtureHost(config: try DaemonConfig.parse(yaml: yaml).models[0])
    }

    /// One-observation messages with what interrupts holding in between (batches,
    /// `learn: false`, rejected messages, drains ending at random points), learned by
    /// a host that holds rows and by one that learns every message at once: the same
    /// state to the bit and the same output in the same order.
    @Test(arguments: ["diag", "full", "spherical"], [false, true])
    func holdingChangesNothing(covariance: String, posteriors: Bool) throws {
        let holder = try Self.host(covariance: covariance, posteriors: posteriors)
        let reference = try Self.host(covariance: covariance, posteriors: posteriors)
        reference.holdsRows = false
        #expect(holder.holdsRows)
        let holderSink = RecordingSink(), referenceSink = RecordingSink()
        var rng = Xoshiro256StarStar(seed: 11)
        let centres: [[Double]] = [[0, 0, 0], [5, 5, 0], [-4, 3, 2], [2, -6, 1]]
        func row() -> String {
            let c = centres[Int(rng.uniform() * 4) % 4]
            return "[" + c.map { "\($0 + rng.normal())" }.joined(separator: ",") + "]"
        }
        let topic = Array("g".utf8)
        var held = 0
        for i in 0..<1500 {
            let payload: String
            switch i % 97 {
            case 13: payload = #"{"xs":[\#(row()),\#(row()),\#(row())]}"#
            case 29: payload = #"{"x":\#(row()),"learn":false}"#
            case 41: payload = #"{"x":[1,2]}"#  // wrong dimension: rejected
            case 67: payload = ""
            case 71: payload = #"{"xs":[\#(row())]}"#  // a batch of one: answered with arrays
            default:
                // Ids of every kind, echoed verbatim from bytes the host must keep.
                switch i % 5 {
                case 1: payload = #"{"x":\#(row()),"id":\#(i)}"#
                case 2: payload = #"{"id":["s\u00e9q",\#(i),{"k":null}],"x":\#(row())}"#
                default: payload = #"{"x":\#(row())}"#
                }
            }
            for (host, sink) in [(holder, holderSink), (reference, referenceSink)] {
                topic.withUnsafeBytes { t in
                    if payload.isEmpty {
                        host.reject("empty payload", topic: t, sink: sink, now: 1)
                    } else {
                        Array(payload.utf8).withUnsafeBytes { host.handle(topic: t, payload: $0, sink: sink, now: 1) }
                    }
                }
            }
            if holder.observations != reference.observations { held += 1 }
            if rng.uniform() < 0.05 {  // a drain ends
                holder.flush(sink: holderSink)
                reference.flush(sink: referenceSink)
                #expect(holder.observations == reference.observations)
            }
        }
        holder.flush(sink: holderSink)
        reference.flush(sink: referenceSink)
        #expect(holder.snapshot() == reference.snapshot())
        #expect(holder.version == reference.version && holder.version > 50)
        #expect(holderSink.messages == referenceSink.messages)
        #expect(holderSink.messages.filter { $0.hasPrefix("params/") }.count > 20)
        let answered = (0..<1500).filter { $0 % 97 != 41 && $0 % 97 != 67 }.count  // all but the rejected
        #expect(holderSink.messages.filter { $0.hasPrefix("posterior/") }.count == (posteriors ? answered : 0))
        // Rows were held (never for spherical covariances, which have no segment kernels).
        #expect((held > 0) == (covariance != "spherical"), "\(held)")
    }
}
