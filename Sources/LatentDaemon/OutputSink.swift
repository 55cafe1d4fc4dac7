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
///
/// Between `hold()` and `release()` (one drain of the input) small messages wait in
/// a buffer and leave together, in order, when the drain ends or 32 have gathered.
/// Each send into an idle pipe wakes libzmq's I/O thread; with messages arriving a
/// few at a time, posteriors sent one by one as they were computed woke it for every
/// few, and a burst sent at once wakes it once (README, open-loop latency).
final class PublisherSink: OutputSink {
    let socket: Socket
    private(set) var sent = 0
    private(set) var dropped = 0
    private var holding = false
    /// Held messages' topic and body bytes back to back, and their lengths.
    private var held: [UInt8] = []
    private var heldLengths: [(topic: Int, body: Int)] = []
    static let heldMessages = 32
    /// Larger bodies (batch posteriors) are not copied: they flush what is held and go at once.
    static let heldBodyBytes = 4096

    init(socket: Socket) { self.socket = socket }

    func publish(topic: [UInt8], body: UnsafeRawBufferPointer) {
        guard holding, body.count <= Self.heldBodyBytes else {
            sendHeld()
            topic.withUnsafeBytes { send(topic: $0, body: body) }
            return
        }
        held.append(contentsOf: topic)
        held.append(contentsOf: body)
        heldLengths.append((topic.count, body.count))
        if heldLengths.count == Self.heldMessages { sendHeld() }
    }

    /// Holds messages from now until `release()`.
    func hold() { holding = true }

    /// Sends what is held and stops holding.
    func release() {
        sendHeld()
        holding = false
    }

    private func sendHeld() {
        guard !heldLengths.isEmpty else { return }
        held.withUnsafeBytes { bytes in
            var at = 0
            for (topic, body) in heldLengths {
                send(topic: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + topic)]),
                     body: UnsafeRawBufferPointer(rebasing: bytes[(at + topic)..<(at + topic + body)]))
                at += topic + body
            }
        }
        held.removeAll(keepingCapacity: true)
        heldLengths.removeAll(keepingCapacity: true)
    }

    private func send(topic: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        do {
            if try socket.send(topic, more: true, dontWait: true), try socket.send(body, more: false, dontWait: true) {
                sent += 1
            } else {
                dropped += 1
            }
        } catch {
            dropped += 1
        }
    }
}
