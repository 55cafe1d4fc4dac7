import Foundation
import Testing
import ZeroMQ

/// A fresh directory for `ipc://` endpoints, removed when the test ends, so
/// parallel tests never collide on socket paths.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/latentd-zmq-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        path = String(cString: result)
    }

    /// `ipc://<dir>/<name>`.
    func ipc(_ name: String) -> String { "ipc://\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A time bound for loops that wait for something to happen on the network;
/// generous, because the test machine is shared.
struct Deadline {
    let end: ContinuousClock.Instant

    init(seconds: Int = 10) { end = .now + .seconds(seconds) }

    var hasPassed: Bool { ContinuousClock.now >= end }
}

/// Receives one multipart message, waiting up to `timeout` ms.
func receiveMultipart(_ socket: Socket, timeout: Int) throws -> [[UInt8]]? {
    let poller = Poller()
    try poller.add(socket)
    guard try poller.poll(timeout: timeout) > 0 else { return nil }
    return try socket.receiveMultipart(dontWait: true)
}

/// Works around the PUB/SUB slow joiner: publishes `parts` every 10 ms until
/// the subscriber receives a message (returned), or the deadline passes (nil).
func publishUntilReceived(
    _ parts: [String], from publisher: Socket, to subscriber: Socket, deadline: Deadline = Deadline()
) throws -> [[UInt8]]? {
    while !deadline.hasPassed {
        try publisher.send(parts: parts)
        if let received = try receiveMultipart(subscriber, timeout: 10) {
            return received
        }
    }
    return nil
}

/// Drains every message already queued on `socket`.
func drain(_ socket: Socket) throws -> [[[UInt8]]] {
    var all: [[[UInt8]]] = []
    while let parts = try socket.receiveMultipart(dontWait: true) {
        all.append(parts)
    }
    return all
}

/// Collects monitor events until one of `kind` arrives (included) or `timeout` ms pass.
func events(
    from monitor: SocketMonitor, until kind: MonitorEventKind, timeout: Int = 10_000
) throws -> [MonitorEvent] {
    let deadline = ContinuousClock.now + .milliseconds(timeout)
    var seen: [MonitorEvent] = []
    while ContinuousClock.now < deadline {
        guard let event = try monitor.receive(timeout: 50) else { continue }
        seen.append(event)
        if event.event == kind { break }
    }
    return seen
}

/// Every monitor event already queued.
func pendingEvents(from monitor: SocketMonitor) throws -> [MonitorEvent] {
    var seen: [MonitorEvent] = []
    while let event = try monitor.receive(dontWait: true) {
        seen.append(event)
    }
    return seen
}

extension Array where Element == [UInt8] {
    var strings: [String] { map { String(decoding: $0, as: UTF8.self) } }
}
