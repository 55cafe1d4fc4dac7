import ZeroMQ

/// Where hosts send their output messages: `[topic, JSON payload]`.
///
/// The daemon's sink is its PUB socket; a host never owns a socket, so the
/// one-owner-per-socket rule stays with the daemon's loop.
protocol OutputSink: AnyObject {
    func publish(topic: [UInt8], body: UnsafeRawBufferPointer)
}

/// The PUB socket as a sink. PUB drops at its high-water mark instead of
/// blocking; we count what libzmq refused so `status` can show it.
final class PublisherSink: OutputSink {
    let socket: Socket
    private(set) var sent = 0
    private(set) var dropped = 0

    init(socket: Socket) { self.socket = socket }

    func publish(topic: [UInt8], body: UnsafeRawBufferPointer) {
        do {
            let ok = try topic.withUnsafeBytes { try socket.send($0, more: true, dontWait: true) }
            if ok, try socket.send(body, more: false, dontWait: true) { sent += 1 } else { dropped += 1 }
        } catch {
            dropped += 1
        }
    }
}
