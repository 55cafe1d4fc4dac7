import CZeroMQ

/// What happened to a monitored socket's connections (`ZMQ_EVENT_*`).
public enum MonitorEventKind: Sendable, Hashable, CustomStringConvertible {
    /// A connect() succeeded at the TCP/IPC level (value: fd).
    case connected
    /// A connect() is in progress (value: errno).
    case connectDelayed
    /// A reconnect was scheduled (value: reconnect interval, ms).
    case connectRetried
    /// A bind() is listening (value: fd).
    case listening
    /// A bind() failed (value: errno).
    case bindFailed
    /// A peer connected to a bound endpoint (value: fd).
    case accepted
    /// Accepting a peer failed (value: errno).
    case acceptFailed
    /// A listening or connection fd was closed (value: fd).
    case closed
    /// Closing an fd failed (value: errno).
    case closeFailed
    /// A session's connection ended, for any reason including a protocol
    /// error such as an oversized message (value: fd).
    case disconnected
    /// The monitor was stopped; no further events follow.
    case monitorStopped
    /// The ZMTP handshake failed without a protocol reason (value: errno).
    case handshakeFailedNoDetail
    /// The ZMTP handshake completed; the peer can exchange messages now.
    case handshakeSucceeded
    /// The handshake failed on a protocol error (value: `ZMQ_PROTOCOL_ERROR_*`).
    case handshakeFailedProtocol
    /// The handshake failed authentication (value: ZAP status code).
    case handshakeFailedAuth
    /// An event this wrapper does not name (e.g. draft events).
    case other(UInt16)

    private static let table: [(MonitorEventKind, Int32)] = [
        (.connected, ZMQ_EVENT_CONNECTED),
        (.connectDelayed, ZMQ_EVENT_CONNECT_DELAYED),
        (.connectRetried, ZMQ_EVENT_CONNECT_RETRIED),
        (.listening, ZMQ_EVENT_LISTENING),
        (.bindFailed, ZMQ_EVENT_BIND_FAILED),
        (.accepted, ZMQ_EVENT_ACCEPTED),
        (.acceptFailed, ZMQ_EVENT_ACCEPT_FAILED),
        (.closed, ZMQ_EVENT_CLOSED),
        (.closeFailed, ZMQ_EVENT_CLOSE_FAILED),
        (.disconnected, ZMQ_EVENT_DISCONNECTED),
        (.monitorStopped, ZMQ_EVENT_MONITOR_STOPPED),
        (.handshakeFailedNoDetail, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL),
        (.handshakeSucceeded, ZMQ_EVENT_HANDSHAKE_SUCCEEDED),
        (.handshakeFailedProtocol, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL),
        (.handshakeFailedAuth, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH),
    ]

    /// The kind for a 16-bit event id from a monitor frame.
    public init(rawValue: UInt16) {
        self = Self.table.first { UInt16($0.1) == rawValue }?.0 ?? .other(rawValue)
    }

    /// The 16-bit `ZMQ_EVENT_*` id.
    public var rawValue: UInt16 {
        if case .other(let raw) = self { return raw }
        return UInt16(Self.table.first { $0.0 == self }!.1)
    }

    public var description: String {
        switch self {
        case .connected: "connected"
        case .connectDelayed: "connectDelayed"
        case .connectRetried: "connectRetried"
        case .listening: "listening"
        case .bindFailed: "bindFailed"
        case .accepted: "accepted"
        case .acceptFailed: "acceptFailed"
        case .closed: "closed"
        case .closeFailed: "closeFailed"
        case .disconnected: "disconnected"
        case .monitorStopped: "monitorStopped"
        case .handshakeFailedNoDetail: "handshakeFailedNoDetail"
        case .handshakeSucceeded: "handshakeSucceeded"
        case .handshakeFailedProtocol: "handshakeFailedProtocol"
        case .handshakeFailedAuth: "handshakeFailedAuth"
        case .other(let raw): "other(0x\(String(raw, radix: 16)))"
        }
    }
}

/// Which events a monitor reports (the `events` bit mask of `zmq_socket_monitor`).
public struct MonitorEventMask: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The mask holding exactly `kinds`.
    public init(_ kinds: MonitorEventKind...) {
        self.init(rawValue: kinds.reduce(0) { $0 | Int32($1.rawValue) })
    }

    /// Every event libzmq 4.3 defines in its stable API (`ZMQ_EVENT_ALL`).
    public static let all = MonitorEventMask(rawValue: ZMQ_EVENT_ALL)
    /// The events that tell a daemon whether a peer is usable: connected,
    /// handshake outcome, disconnected, reconnect scheduling.
    public static let connectionState = MonitorEventMask(
        .connected, .connectRetried, .accepted, .disconnected, .closed,
        .handshakeSucceeded, .handshakeFailedNoDetail, .handshakeFailedProtocol, .handshakeFailedAuth
    )
}

/// One decoded monitor notification.
public struct MonitorEvent: Sendable, Hashable, CustomStringConvertible {
    public var event: MonitorEventKind
    /// The event's value: an fd, errno, interval or protocol error code,
    /// depending on `event` (see `MonitorEventKind`).
    public var value: Int32
    /// The endpoint concerned, e.g. `tcp://127.0.0.1:5555`.
    public var endpoint: String

    public init(event: MonitorEventKind, value: Int32, endpoint: String) {
        self.event = event
        self.value = value
        self.endpoint = endpoint
    }

    /// Decodes the libzmq 4.x (version 1) format: frame 1 is 6 bytes — a
    /// 16-bit event id then a 32-bit value, both in native byte order —
    /// and frame 2 is the endpoint. Returns nil if frame 1 has another size.
    public init?(header: UnsafeRawBufferPointer, endpoint: UnsafeRawBufferPointer) {
        guard header.count == 6 else { return nil }
        let id = header.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
        let value = header.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        self.init(
            event: MonitorEventKind(rawValue: id),
            value: Int32(bitPattern: value),
            endpoint: String(decoding: endpoint, as: UTF8.self)
        )
    }

    public var description: String { "\(event)(\(value)) \(endpoint)" }
}

extension Socket {
    /// Starts publishing this socket's `events` on a PAIR socket that libzmq
    /// binds at `endpoint` (must be `inproc://`, unique in the context;
    /// `zmq_socket_monitor`). Read them with a `SocketMonitor` connected there.
    ///
    /// Why: libzmq reconnects silently, and gives up silently after protocol
    /// errors; the monitor is the only way to see either.
    public func monitor(endpoint: String, events: MonitorEventMask = .all) throws {
        let handle = try liveHandle("zmq_socket_monitor(\(endpoint))")
        guard zmq_socket_monitor(handle, endpoint, events.rawValue) == 0 else {
            throw ZMQError.last("zmq_socket_monitor(\(endpoint))")
        }
    }

    /// Stops the monitor started by `monitor(endpoint:events:)`; its reader
    /// gets `.monitorStopped`.
    public func stopMonitor() throws {
        let handle = try liveHandle("zmq_socket_monitor(NULL)")
        guard zmq_socket_monitor(handle, nil, 0) == 0 else {
            throw ZMQError.last("zmq_socket_monitor(NULL)")
        }
    }

    /// Starts a monitor at `endpoint` and returns a reader connected to it.
    /// Both live in this socket's context and on the caller's thread.
    public func openMonitor(endpoint: String, events: MonitorEventMask = .all) throws -> SocketMonitor {
        try monitor(endpoint: endpoint, events: events)
        return try SocketMonitor(context: context, endpoint: endpoint)
    }
}

/// Reads the events a monitored socket publishes: a PAIR socket connected to
/// the monitor endpoint plus two reused frames, so reading events does not
/// allocate beyond the endpoint string.
///
/// Add `socket` to the daemon's `Poller` and call `receive(dontWait: true)`
/// when it is readable.
public final class SocketMonitor {
    /// The PAIR socket to poll.
    public let socket: Socket
    /// The `inproc://` endpoint it is connected to.
    public let endpoint: String
    private let header = Message()
    private let address = Message()
    private let poller = Poller()

    /// Connects a reader to the monitor endpoint `endpoint` in `context`
    /// (inproc allows connecting before or after the monitor starts).
    public init(context: Context, endpoint: String) throws {
        socket = try Socket(context: context, type: .pair, linger: 0)
        self.endpoint = endpoint
        try socket.connect(endpoint)
        try poller.add(socket)
    }

    /// The next event, or nil if none is queued (with `dontWait`). Throws
    /// `EPROTO` if the frames are not in the libzmq 4.x format.
    public func receive(dontWait: Bool = false) throws -> MonitorEvent? {
        guard try socket.receive(into: header, dontWait: dontWait) else { return nil }
        guard header.more, try socket.receive(into: address) else {
            throw ZMQError(errno: ZMQErrorCode.protocolError, operation: "monitor event: missing endpoint frame")
        }
        try socket.skipRemainingParts(using: address)
        let event = header.withUnsafeBytes { header in
            address.withUnsafeBytes { MonitorEvent(header: header, endpoint: $0) }
        }
        guard let event else {
            throw ZMQError(
                errno: ZMQErrorCode.protocolError,
                operation: "monitor event: \(header.count)-byte header, expected 6"
            )
        }
        return event
    }

    /// The next event, waiting at most `timeout` ms (`-1` = forever); nil on
    /// timeout or when interrupted by a signal.
    public func receive(timeout: Int) throws -> MonitorEvent? {
        guard try poller.poll(timeout: timeout) > 0 else { return nil }
        return try receive(dontWait: true)
    }

    /// Closes the reader (the monitored socket keeps publishing into the
    /// void until `stopMonitor` or its own close).
    public func close() {
        socket.close()
    }
}

@available(*, unavailable, message: "a SocketMonitor owns a socket, which is not thread-safe")
extension SocketMonitor: Sendable {}
