import CZeroMQ

/// Sending. All variants copy the bytes into libzmq before returning, so the
/// caller's buffer can be reused at once.
///
/// They return `false` when libzmq answers `EAGAIN`: with `dontWait`, or after
/// `sendTimeout`, or on a socket in mute state (e.g. a PUSH with no peer or at
/// its high-water mark). PUB sockets never block: at the high-water mark they
/// drop the message and still return `true`. `EINTR` is retried.
extension Socket {
    /// Sends one frame. `more: true` announces that further frames of the
    /// same multipart message follow.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        let handle = try liveHandle("zmq_send")
        var flags: Int32 = 0
        if more { flags |= ZMQ_SNDMORE }
        if dontWait { flags |= ZMQ_DONTWAIT }
        while true {
            if zmq_send(handle, bytes.baseAddress, bytes.count, flags) >= 0 {
                return true
            }
            switch zmq_errno() {
            case ZMQErrorCode.interrupted: continue
            case ZMQErrorCode.wouldBlock: return false
            case let errno: throw ZMQError(errno: errno, operation: "zmq_send")
            }
        }
    }

    /// Sends one frame holding `bytes`.
    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false, dontWait: Bool = false) throws -> Bool {
        try bytes.withUnsafeBytes { try send($0, more: more, dontWait: dontWait) }
    }

    /// Sends one frame holding the UTF-8 of `string` (no NUL terminator).
    @discardableResult
    public func send(_ string: String, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        var string = string
        return try string.withUTF8 { try send(UnsafeRawBufferPointer($0), more: more, dontWait: dontWait) }
    }

    /// Sends a multipart message. Returns `false` (nothing sent) if the first
    /// frame would block under `dontWait`.
    ///
    /// Only the first frame honours `dontWait`: libzmq admits a multipart
    /// message as a whole once its first frame is queued, so the later frames
    /// do not block — and sending them without `dontWait` guarantees the peer
    /// never sees a truncated message.
    @discardableResult
    public func send(parts: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        for (index, part) in parts.enumerated() {
            let isFirst = index == 0
            let sent = try send(part, more: index < parts.count - 1, dontWait: isFirst && dontWait)
            if !sent {
                guard isFirst else {
                    // Not expected from libzmq; thrown rather than trapped so
                    // a daemon survives it.
                    throw ZMQError(errno: ZMQErrorCode.wouldBlock, operation: "zmq_send(frame \(index) of \(parts.count))")
                }
                return false
            }
        }
        return true
    }

    /// Sends a multipart message of UTF-8 frames, e.g. `[topic, json]`.
    @discardableResult
    public func send(parts: [String], dontWait: Bool = false) throws -> Bool {
        try send(parts: parts.map { Array($0.utf8) }, dontWait: dontWait)
    }
}
