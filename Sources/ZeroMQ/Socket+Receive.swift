import CZeroMQ

/// Receiving. The hot path is `receive(into:)` with a `Message` the caller
/// keeps and reuses; `receiveMultipart` copies and is for low-rate sockets
/// (control requests, tests).
///
/// `EAGAIN` (nothing there with `dontWait`, or `receiveTimeout` elapsed) is
/// reported as `false`/`nil`, not thrown. `EINTR` is retried: a blocking
/// receive is therefore not interruptible by signals, which is why the daemon
/// waits in `Poller.poll` (which does return on signals) and then receives
/// with `dontWait`.
extension Socket {
    /// Receives one frame into `message`, replacing its previous content.
    /// Returns `false` if no frame was available (EAGAIN). Afterwards,
    /// `message.more` says whether another frame of the same message follows.
    public func receive(into message: Message, dontWait: Bool = false) throws -> Bool {
        let handle = try liveHandle("zmq_msg_recv")
        let flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        while true {
            if zmq_msg_recv(message.pointer, handle, flags) >= 0 {
                return true
            }
            switch zmq_errno() {
            case ZMQErrorCode.interrupted: continue
            case ZMQErrorCode.wouldBlock: return false
            case let errno: throw ZMQError(errno: errno, operation: "zmq_msg_recv")
            }
        }
    }

    /// Receives a whole multipart message as copied frames, or nil if none was
    /// available (EAGAIN). Only the first frame honours `dontWait`: libzmq
    /// delivers multipart messages atomically, so the rest are already there.
    public func receiveMultipart(dontWait: Bool = false) throws -> [[UInt8]]? {
        let message = Message()
        guard try receive(into: message, dontWait: dontWait) else { return nil }
        var parts = [message.bytes]
        while message.more {
            guard try receive(into: message) else { throw Self.truncated }
            parts.append(message.bytes)
        }
        return parts
    }

    /// Discards the remaining frames of the message whose last received frame
    /// is in `message` (call when `message.more` is true and the rest is not
    /// wanted, e.g. a malformed input). Returns how many frames were skipped.
    @discardableResult
    public func skipRemainingParts(using message: Message) throws -> Int {
        var skipped = 0
        while message.more {
            guard try receive(into: message) else { throw Self.truncated }
            skipped += 1
        }
        return skipped
    }

    /// A later frame of a multipart message was missing. libzmq delivers
    /// multipart messages atomically, so this is not expected; it is thrown
    /// rather than trapped so that a daemon survives it.
    private static var truncated: ZMQError {
        ZMQError(errno: ZMQErrorCode.wouldBlock, operation: "zmq_msg_recv(remaining frames of a multipart message)")
    }
}
