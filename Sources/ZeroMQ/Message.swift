import CZeroMQ

/// A reusable receive buffer: one heap-allocated `zmq_msg_t`.
///
/// Why a class over a pointer: `zmq_msg_t` must not move in memory while
/// libzmq owns it, so it cannot live in a Swift struct or array; and reusing
/// one `Message` for every `Socket.receive(into:)` means the hot receive path
/// allocates nothing in Swift (libzmq stores small frames inline and
/// reference-counts large ones; `zmq_msg_recv` releases the previous content
/// before filling the message again).
///
/// Not `Sendable`: it is mutated by every receive on its owner's thread.
public final class Message {
    /// The message, initialised (empty) for the whole lifetime of `self`.
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// An empty message.
    public init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)  // cannot fail
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// Size of the frame in bytes.
    public var count: Int { zmq_msg_size(pointer) }

    /// Whether more frames of the same multipart message follow this one
    /// (`zmq_msg_more`, the per-message form of `ZMQ_RCVMORE`).
    public var more: Bool { zmq_msg_more(pointer) != 0 }

    /// Calls `body` with the frame's bytes, without copying. The buffer is
    /// only valid inside `body` (the next receive reuses the memory).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: zmq_msg_size(pointer)))
    }

    /// A copy of the frame's bytes (allocates; for non-hot paths).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The frame decoded as UTF-8, invalid sequences replaced (allocates).
    public var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    /// Whether the frame starts with `prefix`, checked in place — the same
    /// test a SUB socket applies to topics, without copying the frame.
    public func hasPrefix(_ prefix: some Collection<UInt8>) -> Bool {
        withUnsafeBytes { bytes in
            bytes.count >= prefix.count && zip(bytes, prefix).allSatisfy { $0 == $1 }
        }
    }

    /// Whether the frame starts with the UTF-8 of `prefix`, checked in place.
    public func hasPrefix(_ prefix: String) -> Bool {
        hasPrefix(prefix.utf8)
    }
}

@available(*, unavailable, message: "a Message is mutated by each receive; keep it on its socket's thread")
extension Message: Sendable {}
