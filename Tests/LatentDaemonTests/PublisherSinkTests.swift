import Foundation
import Testing
import ZeroMQ
@testable import LatentDaemon

/// The daemon's PUB sink holds small messages during a drain of the input and
/// sends them at its end (or 32 at a time), over a real inproc PUB/SUB pair: what is
/// held is not sent yet, and what leaves keeps the order it was published in, also
/// when a large body or a full hold sends early.
@Suite struct PublisherSinkTests {
    /// A PUB and a SUB that already sees what the PUB sends (past the slow joiner).
    final class Pair {
        let context: Context
        let pub: Socket
        let sub: Socket

        init() throws {
            context = try Context()
            let endpoint = "inproc://sink-\(UUID().uuidString)"
            pub = try context.socket(.pub)
            try pub.set(.sendHighWaterMark, Int32(0))
            try pub.bind(endpoint)
            sub = try context.socket(.sub)
            try sub.set(.receiveHighWaterMark, Int32(0))
            try sub.set(.receiveTimeout, Int32(5_000))
            try sub.subscribe("")
            try sub.connect(endpoint)
            let probe = Message()
            for _ in 0..<5_000 {
                _ = try pub.send("sync")
                if try sub.receive(into: probe, dontWait: true) { break }
                usleep(1_000)
            }
            // inproc: whatever was sent is in the pipe already.
            while try sub.receive(into: probe, dontWait: true) {}
        }

        deinit {
            sub.close()
            pub.close()
        }

        /// The bodies of the next `count` messages, as strings.
        func receive(_ count: Int) throws -> [String] {
            let message = Message()
            return try (0..<count).map { _ in
                guard try sub.receive(into: message), message.more, try sub.receive(into: message) else { return "<none>" }
                return String(decoding: message.bytes, as: UTF8.self)
            }
        }

        var nothingWaiting: Bool { (try? sub.receive(into: Message(), dontWait: true)) == false }
    }

    func publish(_ sink: PublisherSink, _ body: String) {
        Array(body.utf8).withUnsafeBytes { sink.publish(topic: Array("posterior/m".utf8), body: $0) }
    }

    @Test func heldMessagesLeaveInOrderAtRelease() throws {
        let pair = try Pair()
        let sink = PublisherSink(socket: pair.pub)
        sink.hold()
        for i in 0..<3 { publish(sink, "m\(i)") }
        #expect(sink.sent == 0 && pair.nothingWaiting, "held messages were sent")
        sink.release()
        #expect(sink.sent == 3)
        #expect(try pair.receive(3) == ["m0", "m1", "m2"])
        publish(sink, "after")
        #expect(sink.sent == 4, "not holding: sent at once")
        #expect(try pair.receive(1) == ["after"])
    }

    @Test func aFullHoldAndALargeBodyLeaveEarlyInOrder() throws {
        let pair = try Pair()
        let sink = PublisherSink(socket: pair.pub)
        sink.hold()
        for i in 0..<(PublisherSink.heldMessages - 1) { publish(sink, "m\(i)") }
        #expect(sink.sent == 0)
        publish(sink, "m\(PublisherSink.heldMessages - 1)")
        #expect(sink.sent == PublisherSink.heldMessages, "a full hold is sent")
        publish(sink, "small")
        let large = String(repeating: "x", count: PublisherSink.heldBodyBytes + 1)
        publish(sink, large)
        #expect(sink.sent == PublisherSink.heldMessages + 2, "a large body sends what is held, then itself")
        publish(sink, "last")
        sink.release()
        #expect(sink.sent == PublisherSink.heldMessages + 3)
        let expected = (0..<PublisherSink.heldMessages).map { "m\($0)" } + ["small", large, "last"]
        #expect(try pair.receive(expected.count) == expected)
        #expect(pair.nothingWaiting)
    }

    /// Bodies just under the copy limit fill more than the buffer starts with, so it
    /// grows while holding: every held byte must survive the move, in order.
    @Test func heldBytesSurviveTheBufferGrowing() throws {
        let pair = try Pair()
        let sink = PublisherSink(socket: pair.pub)
        let bodies = (0..<(PublisherSink.heldMessages - 1)).map { i in
            String(repeating: String(UnicodeScalar(UInt8(ascii: "a") + UInt8(i % 26))), count: PublisherSink.heldBodyBytes - i)
        }
        sink.hold()
        for body in bodies { publish(sink, body) }
        #expect(sink.sent == 0, "still holding")
        sink.release()
        #expect(try pair.receive(bodies.count) == bodies)
    }
}
