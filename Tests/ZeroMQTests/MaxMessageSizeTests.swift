import Testing
import ZeroMQ

/// What libzmq 4.3 does when a peer sends a frame larger than the receiver's
/// ZMQ_MAXMSGSIZE. The daemon relies on these observations to decide when it
/// must reconnect by itself; if a libzmq upgrade changes them, these tests say so.
///
/// Observed with libzmq 4.3.4 over tcp loopback:
/// - the oversized message is never delivered, not even its earlier frames;
/// - the receiver's monitor reports `disconnected` (value = fd) and nothing
///   else — no `handshakeFailedProtocol`, no `closed`;
/// - a *connecting* receiver (SUB connects, PUB binds) then never reconnects:
///   no `connectRetried`; a plain `connect` again is a silent no-op (libzmq
///   ignores a second connect of the same endpoint for SUB/PUB/DEALER/REQ
///   because the dead endpoint is still registered); `disconnect` + `connect`
///   restores delivery;
/// - a *binding* receiver (SUB binds, PUB connects) just drops that
///   connection; the connecting PUB sees `disconnected`, `connectRetried`,
///   and reconnects by itself after its reconnect interval.
@Suite struct MaxMessageSizeTests {
    static let limit: Int64 = 1000
    static let oversized: [[UInt8]] = [Array("t".utf8), [UInt8](repeating: 7, count: 2000)]

    @Test func theLimitAppliesPerFrameNotPerMessage() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.set(.maxMessageSize, Self.limit)
        try pull.bind(directory.ipc("pull"))
        let push = try context.socket(.push)
        try push.connect(directory.ipc("pull"))

        let frames = [[UInt8]](repeating: [UInt8](repeating: 1, count: 900), count: 3)
        try push.send(parts: frames)
        #expect(try receiveMultipart(pull, timeout: 5_000) == frames)
    }

    @Test func connectingSubscriberGivesUpOnAnOversizedMessageUntilReconnected() throws {
        let context = try Context()
        let pub = try context.socket(.pub)
        try pub.bind("tcp://127.0.0.1:*")
        let endpoint = try pub.lastEndpoint
        let sub = try context.socket(.sub)
        try sub.set(.maxMessageSize, Self.limit)
        try sub.set(.reconnectInterval, 20)
        let monitor = try sub.openMonitor(endpoint: "inproc://monitor-sub")
        try sub.subscribe("")
        try sub.connect(endpoint)

        #expect(try publishUntilReceived(["t", "before"], from: pub, to: sub)?.strings == ["t", "before"])
        let connecting = try pendingEvents(from: monitor).map(\.event)
        #expect(connecting.contains(.connected) && connecting.contains(.handshakeSucceeded))
        _ = try drain(sub)

        try pub.send(parts: Self.oversized)
        let failure = try events(from: monitor, until: .disconnected)
        #expect(failure.map(\.event) == [.disconnected])
        #expect(failure.last?.endpoint == endpoint)

        // 50 reconnect intervals: libzmq neither retries nor delivers anything.
        let window = Deadline(seconds: 1)
        var deliveredWhileDown: [[String]] = []
        while !window.hasPassed {
            try pub.send(parts: ["t", "while down"])
            if let parts = try receiveMultipart(sub, timeout: 10) { deliveredWhileDown.append(parts.strings) }
        }
        #expect(deliveredWhileDown.isEmpty)
        #expect(try pendingEvents(from: monitor).isEmpty)

        // connect() alone does nothing: the dead endpoint is still registered.
        try sub.connect(endpoint)
        #expect(try publishUntilReceived(["t", "connect only"], from: pub, to: sub, deadline: Deadline(seconds: 1)) == nil)
        #expect(try pendingEvents(from: monitor).isEmpty)

        try sub.disconnect(endpoint)
        try sub.connect(endpoint)
        #expect(try publishUntilReceived(["t", "after"], from: pub, to: sub)?.strings == ["t", "after"])
        let reconnected = try pendingEvents(from: monitor).map(\.event)
        #expect(reconnected.contains(.connected) && reconnected.contains(.handshakeSucceeded))
        #expect(try drain(sub).allSatisfy { $0[1].count < Self.limit })
    }

    @Test func connectingPublisherReconnectsByItselfToABindingSubscriber() throws {
        let context = try Context()
        let sub = try context.socket(.sub)
        try sub.set(.maxMessageSize, Self.limit)
        try sub.subscribe("")
        try sub.bind("tcp://127.0.0.1:*")
        let endpoint = try sub.lastEndpoint
        let subMonitor = try sub.openMonitor(endpoint: "inproc://monitor-sub")
        let pub = try context.socket(.pub)
        try pub.set(.reconnectInterval, 20)
        let pubMonitor = try pub.openMonitor(endpoint: "inproc://monitor-pub")
        try pub.connect(endpoint)

        #expect(try publishUntilReceived(["t", "before"], from: pub, to: sub)?.strings == ["t", "before"])
        _ = try drain(sub)
        _ = try events(from: pubMonitor, until: .handshakeSucceeded)
        _ = try pendingEvents(from: subMonitor)

        try pub.send(parts: Self.oversized)
        #expect(try events(from: subMonitor, until: .disconnected).map(\.event) == [.disconnected])

        // No help from us: the PUB reconnects, and small messages flow again.
        let after = try publishUntilReceived(["t", "after"], from: pub, to: sub)
        #expect(after?.strings == ["t", "after"])
        #expect(try drain(sub).allSatisfy { $0[1].count < Self.limit })
        // (`connectDelayed` appears when the non-blocking TCP connect does not
        // complete at once; on loopback it may or may not.)
        #expect(
            try events(from: pubMonitor, until: .handshakeSucceeded).map(\.event).filter { $0 != .connectDelayed }
                == [.disconnected, .connectRetried, .connected, .handshakeSucceeded]
        )
        #expect(
            try events(from: subMonitor, until: .handshakeSucceeded).map(\.event)
                == [.accepted, .handshakeSucceeded]
        )
    }

    @Test func bindingPullerKeepsReceivingSmallMessagesAfterAnOversizedOne() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.set(.maxMessageSize, Self.limit)
        try pull.bind("tcp://127.0.0.1:*")
        let endpoint = try pull.lastEndpoint
        let push = try context.socket(.push)
        try push.set(.reconnectInterval, 20)
        try push.connect(endpoint)

        try push.send("small 1")
        #expect(try receiveMultipart(pull, timeout: 10_000)?.strings == ["small 1"])
        try push.send([UInt8](repeating: 7, count: 2000))

        // Messages written behind the oversized one on the same connection
        // are lost with it, so keep sending until one arrives.
        var received: [String] = []
        let deadline = Deadline()
        var sequence = 0
        while received.isEmpty && !deadline.hasPassed {
            sequence += 1
            try push.send("small \(sequence)", dontWait: true)
            if let parts = try receiveMultipart(pull, timeout: 10) { received = parts.strings }
        }
        #expect(received.first?.hasPrefix("small ") == true)
        #expect(try drain(pull).allSatisfy { $0[0].count < Self.limit })
    }
}
