import Testing
import ZeroMQ

@Suite struct MessagingTests {
    @Test func pubSubMultipartWithTopicPrefixFiltering() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pub = try context.socket(.pub)
        try pub.bind(directory.ipc("pub"))
        let sub = try context.socket(.sub)
        try sub.subscribe("sensor/")
        try sub.connect(directory.ipc("pub"))

        let first = try publishUntilReceived(["sensor/sync", "{}"], from: pub, to: sub)
        #expect(first?.strings == ["sensor/sync", "{}"])

        // Ordering is preserved per publisher, so once "sensor/end" arrives
        // anything sent before it has arrived too, or was filtered out.
        try pub.send(parts: ["other/1", "must not arrive"])
        try pub.send(parts: ["sensorX", "must not arrive either"])
        try pub.send(parts: [Array("sensor/a".utf8), [0, 1, 2], [3]])
        try pub.send(parts: ["sensor/end", "done"])
        var received: [[String]] = []
        while received.last?.first != "sensor/end" {
            let parts = try #require(try receiveMultipart(sub, timeout: 5_000))
            if parts.strings.first != "sensor/sync" { received.append(parts.strings) }
        }
        #expect(received == [["sensor/a", "\u{0}\u{1}\u{2}", "\u{3}"], ["sensor/end", "done"]])

        // Unsubscribing stops delivery (checked the same way, with a second topic).
        try sub.subscribe("marker")
        try sub.unsubscribe("sensor/")
        try pub.send(parts: ["sensor/late", "x"])
        let marker = try publishUntilReceived(["marker", "m"], from: pub, to: sub)
        #expect(marker?.strings == ["marker", "m"])
    }

    @Test func oneMessageIsReusedAcrossManyReceives() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind(directory.ipc("pull"))
        let push = try context.socket(.push)
        try push.connect(directory.ipc("pull"))

        // Sizes cross libzmq's inline/heap boundary (33 bytes) both ways.
        let sizes = (0..<2_000).map { ($0 * 37) % 3_000 }
        for (index, size) in sizes.enumerated() {
            try push.send((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) })
        }
        let message = Message()
        for (index, size) in sizes.enumerated() {
            #expect(try pull.receive(into: message))
            #expect(message.count == size)
            #expect(!message.more)
            let intact = message.withUnsafeBytes { bytes in
                bytes.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset &+ index) }
            }
            #expect(intact, "message \(index) of \(size) bytes")
        }
        #expect(try pull.receive(into: message, dontWait: true) == false)
    }

    @Test func multipartFramesCarryTheMoreFlag() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind(directory.ipc("pull"))
        let push = try context.socket(.push)
        try push.connect(directory.ipc("pull"))

        let raw: [UInt8] = [9, 8, 7]
        try push.send("topic", more: true)
        _ = try raw.withUnsafeBytes { try push.send($0, more: true) }
        try push.send("", more: false)
        try push.send(parts: ["a", "b", "c", "d"])
        try push.send(parts: ["after"])

        let message = Message()
        #expect(try pull.receive(into: message))
        #expect(message.hasPrefix("top") && !message.hasPrefix("topics") && message.more)
        #expect(try pull.hasMoreParts)
        #expect(try pull.receive(into: message))
        #expect(message.bytes == raw && message.more)
        #expect(try pull.receive(into: message))
        #expect(message.count == 0 && !message.more)

        // Skipping the tail of an unwanted message leaves the next one intact.
        #expect(try pull.receive(into: message))
        #expect(message.string == "a")
        #expect(try pull.skipRemainingParts(using: message) == 3)
        #expect(try pull.receiveMultipart()?.strings == ["after"])
    }
}
