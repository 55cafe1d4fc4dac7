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
    /// Only the socket thread touches the sink, and no two accesses overlap: the
    /// dynamic exclusivity checks on these cost about 130 instructions per message
    /// (callgrind), more than the copy they guard.
    @exclusivity(unchecked) private(set) var sent = 0
    @exclusivity(unchecked) private(set) var dropped = 0
    @exclusivity(unchecked) private var holding = false
    /// Held messages' topic and body bytes back to back, `heldBytes` of `heldCapacity`,
    /// and their lengths. Raw memory, grown by doubling and kept: appending to an
    /// `Array` went through its generic path, at about twice a `memcpy`'s cost.
    @exclusivity(unchecked) private var held: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var heldBytes = 0
    @exclusivity(unchecked) private var heldCapacity: Int
    @exclusivity(unchecked) private var heldLengths: [(topic: Int, body: Int)] = []
    static let heldMessages = 32
    /// Larger bodies (batch posteriors) are not copied: they flush what is held and go at once.
    static let heldBodyBytes = 4096

    init(socket: Socket) {
        self.socket = socket
        heldCapacity = 16 * 1024
        held = .allocate(byteCount: heldCapacity, alignment: 16)
        heldLengths.reserveCapacity(Self.heldMessages)
    }

    deinit { held.deallocate() }

    func publish(topic: [UInt8], body: UnsafeRawBufferPointer) {
        guard holding, body.count <= Self.heldBodyBytes else {
            sendHeld()
            topic.withUnsafeBytes { send(topic: $0, body: body) }
            return
        }
        let needed = heldBytes + topic.count + body.count
        if needed > heldCapacity {
            heldCapacity = max(needed, 2 * heldCapacity)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: heldCapacity, alignment: 16)
            grown.copyMemory(from: held, byteCount: heldBytes)
            held.deallocate()
            held = grown
        }
        topic.withUnsafeBytes { (held + heldBytes).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        if let source = body.baseAddress { (held + heldBytes + topic.count).copyMemory(from: source, byteCount: body.count) }
        heldBytes = needed
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
        var at = 0
        for (topic, body) in heldLengths {
            send(topic: UnsafeRawBufferPointer(start: held + at, count: topic),
                 body: UnsafeRawBufferPointer(start: held + at + topic, count: body))
            at += topic + body
        }
        heldBytes = 0
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
