import CZeroMQ

/// A value type that can be stored in a libzmq socket option: says how it is
/// laid out in memory for `zmq_setsockopt` / `zmq_getsockopt`.
public protocol SocketOptionValue: Sendable {
    /// Buffer size needed to read the option back.
    static var optionCapacity: Int { get }
    /// Decodes the bytes `zmq_getsockopt` wrote.
    init(optionBytes: UnsafeRawBufferPointer)
    /// Calls `body` with the bytes to pass to `zmq_setsockopt`.
    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Int32: SocketOptionValue {
    public static var optionCapacity: Int { MemoryLayout<Int32>.size }
    public init(optionBytes: UnsafeRawBufferPointer) {
        self = optionBytes.loadUnaligned(as: Int32.self)
    }
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self, body)
    }
}

extension Int64: SocketOptionValue {
    public static var optionCapacity: Int { MemoryLayout<Int64>.size }
    public init(optionBytes: UnsafeRawBufferPointer) {
        self = optionBytes.loadUnaligned(as: Int64.self)
    }
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self, body)
    }
}

/// libzmq's boolean options are C `int`s holding 0 or 1.
extension Bool: SocketOptionValue {
    public static var optionCapacity: Int { MemoryLayout<Int32>.size }
    public init(optionBytes: UnsafeRawBufferPointer) {
        self = optionBytes.loadUnaligned(as: Int32.self) != 0
    }
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Int32(self ? 1 : 0).withOptionBytes(body)
    }
}

/// libzmq's string options are NUL-terminated when read and length-delimited
/// when written.
extension String: SocketOptionValue {
    /// Enough for any endpoint (`ipc://` paths are limited to ~108 bytes).
    public static var optionCapacity: Int { 1024 }
    public init(optionBytes: UnsafeRawBufferPointer) {
        let end = optionBytes.firstIndex(of: 0) ?? optionBytes.endIndex
        self = String(decoding: optionBytes[..<end], as: UTF8.self)
    }
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Array(utf8).withUnsafeBytes(body)
    }
}

/// A writable socket option with its Swift value type, so that
/// `socket.set(.maxMessageSize, 1000)` cannot pass an `Int32` where libzmq
/// reads an `int64_t` (which would silently set garbage).
public struct SocketOption<Value: SocketOptionValue>: Sendable, Hashable {
    /// The `ZMQ_*` option number.
    public let code: Int32
    /// The `ZMQ_*` name, for error messages.
    public let name: String

    public init(code: Int32, name: String) {
        self.code = code
        self.name = name
    }
}

extension SocketOption where Value == Int32 {
    /// `ZMQ_SNDHWM`: messages queued per peer before send blocks/drops (PUB drops).
    public static var sendHighWaterMark: Self { .init(code: ZMQ_SNDHWM, name: "ZMQ_SNDHWM") }
    /// `ZMQ_RCVHWM`: messages queued per peer on the receiving side.
    public static var receiveHighWaterMark: Self { .init(code: ZMQ_RCVHWM, name: "ZMQ_RCVHWM") }
    /// `ZMQ_LINGER` (ms): how long close/terminate keeps trying to send.
    public static var linger: Self { .init(code: ZMQ_LINGER, name: "ZMQ_LINGER") }
    /// `ZMQ_RCVTIMEO` (ms, -1 = forever): blocking receive returns `false` after it.
    public static var receiveTimeout: Self { .init(code: ZMQ_RCVTIMEO, name: "ZMQ_RCVTIMEO") }
    /// `ZMQ_SNDTIMEO` (ms, -1 = forever): blocking send returns `false` after it.
    public static var sendTimeout: Self { .init(code: ZMQ_SNDTIMEO, name: "ZMQ_SNDTIMEO") }
    /// `ZMQ_RECONNECT_IVL` (ms): first delay before reconnecting after a connection error.
    public static var reconnectInterval: Self { .init(code: ZMQ_RECONNECT_IVL, name: "ZMQ_RECONNECT_IVL") }
    /// `ZMQ_RECONNECT_IVL_MAX` (ms, 0 = no backoff): cap of the exponential reconnect backoff.
    public static var reconnectIntervalMax: Self {
        .init(code: ZMQ_RECONNECT_IVL_MAX, name: "ZMQ_RECONNECT_IVL_MAX")
    }
    /// `ZMQ_HANDSHAKE_IVL` (ms, 0 = none): drop peers that do not finish the ZMTP handshake in time.
    public static var handshakeInterval: Self { .init(code: ZMQ_HANDSHAKE_IVL, name: "ZMQ_HANDSHAKE_IVL") }
}

extension SocketOption where Value == Int64 {
    /// `ZMQ_MAXMSGSIZE` (bytes, -1 = unlimited): a peer sending a larger
    /// message is disconnected as a protocol error; the message is never
    /// delivered. (A connecting socket then does not reconnect to that peer in
    /// libzmq 4.3; see `Socket.disconnect`.)
    public static var maxMessageSize: Self { .init(code: ZMQ_MAXMSGSIZE, name: "ZMQ_MAXMSGSIZE") }
}

extension SocketOption where Value == Bool {
    /// `ZMQ_IMMEDIATE`: queue outgoing messages only to completed connections,
    /// instead of to every connect()ed endpoint whether it is up or not.
    public static var immediate: Self { .init(code: ZMQ_IMMEDIATE, name: "ZMQ_IMMEDIATE") }
    /// `ZMQ_CONFLATE`: keep only the last message (single-part only).
    public static var conflate: Self { .init(code: ZMQ_CONFLATE, name: "ZMQ_CONFLATE") }
}

extension Socket {
    /// Sets a typed option (`zmq_setsockopt`).
    public func set<Value>(_ option: SocketOption<Value>, _ value: Value) throws {
        let operation = "zmq_setsockopt(\(option.name))"
        let handle = try liveHandle(operation)
        let rc = value.withOptionBytes { zmq_setsockopt(handle, option.code, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last(operation) }
    }

    /// Reads a typed option (`zmq_getsockopt`).
    public func get<Value>(_ option: SocketOption<Value>) throws -> Value {
        try getOption(option.code, name: option.name, as: Value.self)
    }

    /// The endpoint of the last bind/connect (`ZMQ_LAST_ENDPOINT`), with the
    /// real port after binding `tcp://127.0.0.1:*`.
    public var lastEndpoint: String {
        get throws { try getOption(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT", as: String.self) }
    }

    /// The socket's signalling file descriptor (`ZMQ_FD`), for embedding in a
    /// foreign event loop. Edge-triggered: after it fires, read `events`
    /// until it no longer reports `.readable`.
    public var fileDescriptor: Int32 {
        get throws { try getOption(ZMQ_FD, name: "ZMQ_FD", as: Int32.self) }
    }

    /// What the socket can do now without blocking (`ZMQ_EVENTS`).
    public var events: PollEvents {
        get throws {
            PollEvents(rawValue: Int16(truncatingIfNeeded: try getOption(ZMQ_EVENTS, name: "ZMQ_EVENTS", as: Int32.self)))
        }
    }

    /// Whether the last received frame has more frames after it (`ZMQ_RCVMORE`).
    public var hasMoreParts: Bool {
        get throws { try getOption(ZMQ_RCVMORE, name: "ZMQ_RCVMORE", as: Bool.self) }
    }

    private func getOption<Value: SocketOptionValue>(_ code: Int32, name: String, as: Value.Type) throws -> Value {
        let operation = "zmq_getsockopt(\(name))"
        let handle = try liveHandle(operation)
        return try withUnsafeTemporaryAllocation(byteCount: Value.optionCapacity, alignment: 8) { buffer in
            var size = buffer.count
            guard zmq_getsockopt(handle, code, buffer.baseAddress, &size) == 0 else {
                throw ZMQError.last(operation)
            }
            return Value(optionBytes: UnsafeRawBufferPointer(rebasing: buffer[..<size]))
        }
    }
}
