import CZeroMQ

/// A libzmq socket.
///
/// Not `Sendable`, on purpose: libzmq sockets are not thread-safe and must be
/// used by one thread at a time (libzmq allows migrating a socket between
/// threads only with a full memory barrier, which Swift's region-based
/// isolation provides when a socket is *transferred* — e.g. created in one
/// place and moved into the thread that owns it — but never when it is
/// shared). The unavailable `Sendable` conformance below makes accidental
/// sharing a compile error rather than a data race.
///
/// Lifetime: `close()` closes the socket early; otherwise `deinit` does.
/// Using a closed socket throws `ENOTSOCK`. The socket keeps its `Context`
/// alive, so contexts are never terminated under a live socket.
///
/// Linger: set to `Socket.defaultLinger` (100 ms) at creation instead of
/// libzmq's default of "forever", so closing the daemon with an unreachable
/// peer and queued messages cannot hang `zmq_ctx_term`.
public final class Socket {
    /// The linger (ms) every new socket gets: long enough to flush a final
    /// message to a live local peer, short enough to never stall shutdown.
    public static let defaultLinger: Int32 = 100

    /// The context the socket was created in (kept alive by the socket).
    public let context: Context
    /// The socket's pattern.
    public let type: SocketType
    /// The raw `void *` handle, nil once closed.
    private(set) var handle: UnsafeMutableRawPointer?

    /// Creates a socket and sets its linger to `linger` milliseconds
    /// (`-1` = wait forever, libzmq's default; `0` = drop pending messages).
    public init(context: Context, type: SocketType, linger: Int32 = Socket.defaultLinger) throws {
        guard let handle = zmq_socket(context.handle, type.zmqValue) else {
            throw ZMQError.last("zmq_socket(\(type))")
        }
        self.context = context
        self.type = type
        self.handle = handle
        try set(.linger, linger)
    }

    deinit {
        if let handle {
            zmq_close(handle)
        }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket now (`zmq_close`). Idempotent. Pending outgoing
    /// messages are still sent in the background for up to the linger time.
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    /// The live handle, or `ENOTSOCK` naming `operation` if closed.
    func liveHandle(_ operation: @autoclosure () -> String) throws -> UnsafeMutableRawPointer {
        guard let handle else {
            throw ZMQError(errno: ZMQErrorCode.notSocket, operation: operation())
        }
        return handle
    }

    // MARK: Endpoints

    /// Binds to `endpoint`, e.g. `tcp://127.0.0.1:5555`, `tcp://127.0.0.1:*`
    /// (any free port; read it back with `lastEndpoint`) or `ipc:///path`.
    public func bind(_ endpoint: String) throws {
        let handle = try liveHandle("zmq_bind(\(endpoint))")
        guard zmq_bind(handle, endpoint) == 0 else {
            throw ZMQError.last("zmq_bind(\(endpoint))")
        }
    }

    /// Stops listening on `endpoint` (must be the string returned by
    /// `lastEndpoint` for wildcard binds). Throws `ENOENT` if not bound.
    public func unbind(_ endpoint: String) throws {
        let handle = try liveHandle("zmq_unbind(\(endpoint))")
        guard zmq_unbind(handle, endpoint) == 0 else {
            throw ZMQError.last("zmq_unbind(\(endpoint))")
        }
    }

    /// Starts connecting to `endpoint`. Returns at once: libzmq connects (and
    /// reconnects after connection errors) in the background.
    public func connect(_ endpoint: String) throws {
        let handle = try liveHandle("zmq_connect(\(endpoint))")
        guard zmq_connect(handle, endpoint) == 0 else {
            throw ZMQError.last("zmq_connect(\(endpoint))")
        }
    }

    /// Drops the connection to `endpoint` and stops reconnecting to it.
    /// Throws `ENOENT` if it was never connected.
    ///
    /// Also the way to revive a connection that libzmq gave up on (after a
    /// protocol error such as an oversized message, libzmq 4.3 does not
    /// reconnect): `disconnect` then `connect` again.
    public func disconnect(_ endpoint: String) throws {
        let handle = try liveHandle("zmq_disconnect(\(endpoint))")
        guard zmq_disconnect(handle, endpoint) == 0 else {
            throw ZMQError.last("zmq_disconnect(\(endpoint))")
        }
    }

    // MARK: Subscriptions (SUB / XSUB)

    /// Receives messages whose first frame starts with `prefix` (an empty
    /// prefix matches everything). Subscriptions add up.
    public func subscribe(_ prefix: [UInt8]) throws {
        try setBytes(ZMQ_SUBSCRIBE, prefix, "zmq_setsockopt(ZMQ_SUBSCRIBE)")
    }

    /// Receives messages whose first frame starts with the UTF-8 of `prefix`.
    public func subscribe(_ prefix: String) throws {
        try subscribe(Array(prefix.utf8))
    }

    /// Removes one earlier `subscribe` of exactly `prefix`.
    public func unsubscribe(_ prefix: [UInt8]) throws {
        try setBytes(ZMQ_UNSUBSCRIBE, prefix, "zmq_setsockopt(ZMQ_UNSUBSCRIBE)")
    }

    /// Removes one earlier `subscribe` of exactly the UTF-8 of `prefix`.
    public func unsubscribe(_ prefix: String) throws {
        try unsubscribe(Array(prefix.utf8))
    }

    private func setBytes(_ option: Int32, _ bytes: [UInt8], _ operation: String) throws {
        let handle = try liveHandle(operation)
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last(operation) }
    }
}

@available(*, unavailable, message: "libzmq sockets are not thread-safe; keep each socket on one thread")
extension Socket: Sendable {}
