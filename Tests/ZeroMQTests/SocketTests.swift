import Testing
import ZeroMQ

@Suite struct SocketTests {
    @Test func versionIsTheLinkedLibzmq() {
        let version = ZeroMQ.version
        #expect(version.major == 4)
        #expect(version.minor >= 3)
        #expect(ZeroMQ.has("ipc"))
    }

    @Test func requestReplyRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let rep = try context.socket(.rep)
        try rep.bind(directory.ipc("rep"))
        let req = try context.socket(.req)
        try req.connect(directory.ipc("rep"))

        let message = Message()
        for round in 0..<20 {
            try req.send("ping \(round)")
            #expect(try rep.receive(into: message))
            #expect(message.string == "ping \(round)")
            #expect(!message.more)
            try rep.send(Array("pong \(round)".utf8))
            #expect(try req.receive(into: message))
            #expect(message.string == "pong \(round)")
        }
    }

    @Test func wildcardTCPBindReportsThePort() throws {
        let context = try Context()
        let rep = try context.socket(.rep)
        try rep.bind("tcp://127.0.0.1:*")
        let endpoint = try rep.lastEndpoint
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        let port = Int(endpoint.split(separator: ":").last ?? "")
        #expect((port ?? 0) > 0)

        let req = try context.socket(.req)
        try req.connect(endpoint)
        try req.send("hello")
        #expect(try receiveMultipart(rep, timeout: 5_000)?.strings == ["hello"])
        try rep.unbind(endpoint)
    }

    @Test func typedOptionsRoundTrip() throws {
        let context = try Context()
        let socket = try context.socket(.sub)
        #expect(try socket.get(.linger) == Socket.defaultLinger)
        try socket.set(.sendHighWaterMark, 123)
        try socket.set(.receiveHighWaterMark, 456)
        try socket.set(.linger, 0)
        try socket.set(.maxMessageSize, 5_000_000_000)
        try socket.set(.receiveTimeout, 250)
        try socket.set(.sendTimeout, 350)
        try socket.set(.immediate, true)
        try socket.set(.reconnectInterval, 20)
        try socket.set(.reconnectIntervalMax, 2_000)
        try socket.set(.handshakeInterval, 3_000)
        #expect(try socket.get(.sendHighWaterMark) == 123)
        #expect(try socket.get(.receiveHighWaterMark) == 456)
        #expect(try socket.get(.linger) == 0)
        #expect(try socket.get(.maxMessageSize) == 5_000_000_000)
        #expect(try socket.get(.receiveTimeout) == 250)
        #expect(try socket.get(.sendTimeout) == 350)
        #expect(try socket.get(.immediate) == true)
        #expect(try socket.get(.reconnectInterval) == 20)
        #expect(try socket.get(.reconnectIntervalMax) == 2_000)
        #expect(try socket.get(.handshakeInterval) == 3_000)
        #expect(try socket.fileDescriptor >= 0)
        #expect(try socket.events.isEmpty)
        #expect(try socket.hasMoreParts == false)
    }

    @Test func receiveTimeoutAndDontWaitReportNothingInsteadOfThrowing() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind(directory.ipc("pull"))
        let message = Message()
        #expect(try pull.receive(into: message, dontWait: true) == false)
        #expect(try pull.receiveMultipart(dontWait: true) == nil)
        try pull.set(.receiveTimeout, 10)
        #expect(try pull.receive(into: message) == false)

        // A PUSH without peers cannot queue: EAGAIN, reported as false.
        let push = try context.socket(.push)
        #expect(try push.send("nobody", dontWait: true) == false)
    }

    @Test func errorsCarryErrnoOperationAndLibzmqText() throws {
        let context = try Context()
        let socket = try context.socket(.rep)
        let bogus = #expect(throws: ZMQError.self) { try socket.bind("bogus://nowhere") }
        #expect(bogus?.operation == "zmq_bind(bogus://nowhere)")
        #expect(bogus?.description.contains("not supported") == true)

        // REP must receive before it replies: EFSM, libzmq's own errno.
        let wrongState = #expect(throws: ZMQError.self) { try socket.send("too early") }
        #expect(wrongState?.isWrongState == true)
        #expect(wrongState?.message == "Operation cannot be accomplished in current state")

        let notConnected = #expect(throws: ZMQError.self) { try socket.disconnect("tcp://127.0.0.1:1") }
        #expect(notConnected?.isNoSuchEndpoint == true)
    }

    @Test func closedSocketThrowsInsteadOfCrashing() throws {
        let context = try Context()
        let socket = try context.socket(.pub)
        socket.close()
        socket.close()
        #expect(socket.isClosed)
        let error = #expect(throws: ZMQError.self) { try socket.bind("tcp://127.0.0.1:*") }
        #expect(error?.description.hasPrefix("zmq_bind(tcp://127.0.0.1:*):") == true)
    }

    @Test func contextShutdownWakesBlockedCallsWithETERM() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        context.shutdown()
        let error = #expect(throws: ZMQError.self) { _ = try pull.receive(into: Message()) }
        #expect(error?.isTerminated == true)
        pull.close()
    }

    @Test func socketTypeMapping() {
        for type in SocketType.allCases {
            #expect(SocketType(zmqValue: type.zmqValue) == type)
        }
        #expect(SocketType.pub.description == "PUB")
    }
}
