import CZeroMQ

/// Readiness flags for `Poller` items and `Socket.events`.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// A message can be received / the fd is readable (`ZMQ_POLLIN`).
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent / the fd is writable (`ZMQ_POLLOUT`).
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// An error condition on a plain fd (`ZMQ_POLLERR`; never set for sockets).
    public static let error = PollEvents(rawValue: Int16(ZMQ_POLLERR))
}
