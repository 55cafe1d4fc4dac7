import Testing
import ZeroMQ

@Suite struct MonitorTests {
    @Test func decodesTheLibzmq43FrameFormat() throws {
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt16(0x0200)) { header += $0 }
        withUnsafeBytes(of: UInt32(bitPattern: -7)) { header += $0 }
        let endpoint = Array("tcp://127.0.0.1:9".utf8)
        let event = header.withUnsafeBytes { header in
            endpoint.withUnsafeBytes { MonitorEvent(header: header, endpoint: $0) }
        }
        #expect(event == MonitorEvent(event: .disconnected, value: -7, endpoint: "tcp://127.0.0.1:9"))
        let short = header.dropLast().withUnsafeBytes { header in
            endpoint.withUnsafeBytes { MonitorEvent(header: header, endpoint: $0) }
        }
        #expect(short == nil)
    }

    @Test func eventKindsMapToTheirIds() {
        let named: [MonitorEventKind] = [
            .connected, .connectDelayed, .connectRetried, .listening, .bindFailed, .accepted,
            .acceptFailed, .closed, .closeFailed, .disconnected, .monitorStopped,
            .handshakeFailedNoDetail, .handshakeSucceeded, .handshakeFailedProtocol, .handshakeFailedAuth,
        ]
        for (bit, kind) in named.enumerated() {
            #expect(kind.rawValue == UInt16(1) << bit)
            #expect(MonitorEventKind(rawValue: kind.rawValue) == kind)
        }
        #expect(MonitorEventKind(rawValue: 0x8000) == .other(0x8000))
        #expect(MonitorEventMask(.connected, .disconnected).rawValue == 0x0201)
    }

    @Test func reportsListenConnectHandshakeAndStop() throws {
        let directory = try TemporaryDirectory()
        let endpoint = directory.ipc("rep")
        let context = try Context()
        let rep = try context.socket(.rep)
        let repMonitor = try rep.openMonitor(endpoint: "inproc://monitor-rep")
        try rep.bind(endpoint)
        let req = try context.socket(.req)
        let reqMonitor = try req.openMonitor(endpoint: "inproc://monitor-req", events: .connectionState)
        try req.connect(endpoint)

        let repEvents = try events(from: repMonitor, until: .handshakeSucceeded)
        #expect(repEvents.map(\.event) == [.listening, .accepted, .handshakeSucceeded])
        #expect(repEvents.allSatisfy { $0.endpoint == endpoint })
        #expect(repEvents[0].value >= 0)  // the listening fd

        let reqEvents = try events(from: reqMonitor, until: .handshakeSucceeded)
        #expect(reqEvents.map(\.event) == [.connected, .handshakeSucceeded])

        try rep.stopMonitor()
        #expect(try events(from: repMonitor, until: .monitorStopped).last?.event == .monitorStopped)
        repMonitor.close()
    }

    @Test func reportsDisconnectAndRetryWhenThePeerGoesAway() throws {
        let directory = try TemporaryDirectory()
        let endpoint = directory.ipc("pull")
        let context = try Context()
        var pull: Socket? = try context.socket(.pull)
        try pull?.bind(endpoint)
        let push = try context.socket(.push)
        try push.set(.reconnectInterval, 20)
        let monitor = try push.openMonitor(endpoint: "inproc://monitor-push")
        try push.connect(endpoint)
        _ = try events(from: monitor, until: .handshakeSucceeded)

        pull?.close()
        pull = nil
        let after = try events(from: monitor, until: .connectRetried)
        #expect(after.map(\.event) == [.disconnected, .connectRetried])
    }
}
