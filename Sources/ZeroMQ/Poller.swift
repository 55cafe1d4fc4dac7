import CZeroMQ

/// Waits on several sockets and plain file descriptors at once (`zmq_poll`).
///
/// Why fds too: the daemon wakes up for signals through a self-pipe, and the
/// pipe's read end must be polled in the same call as its sockets so that a
/// signal interrupts an otherwise idle wait.
///
/// Build it once, then call `poll` in the loop: the item array is kept and
/// polled in place, so polling allocates nothing. Items are identified by the
/// `Token` that `add` returns.
///
/// Not `Sendable` (it holds sockets). It keeps its sockets alive; closing a
/// socket that is still in a poller makes `poll` throw `ENOTSOCK`.
public final class Poller {
    /// Identifies one item of this poller (its position, in order of `add`).
    public struct Token: Hashable, Sendable {
        public let index: Int
    }

    private var items: [zmq_pollitem_t] = []
    /// Keeps the sockets behind `items[i].socket` alive.
    private var sockets: [Socket?] = []

    public init() {}

    /// Number of items.
    public var count: Int { items.count }

    /// Adds a socket, to be reported when any of `events` is possible.
    @discardableResult
    public func add(_ socket: Socket, events: PollEvents = .readable) throws -> Token {
        let handle = try socket.liveHandle("Poller.add")
        items.append(zmq_pollitem_t(socket: handle, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return Token(index: items.count - 1)
    }

    /// Adds a plain file descriptor (pipe, eventfd, TCP socket, ...). The
    /// poller does not own it and never closes it.
    @discardableResult
    public func add(fileDescriptor: Int32, events: PollEvents = .readable) -> Token {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return Token(index: items.count - 1)
    }

    /// Changes which events an item is polled for (e.g. add `.writable` only
    /// while output is pending).
    public func setEvents(_ events: PollEvents, for token: Token) {
        items[token.index].events = events.rawValue
    }

    /// Waits until at least one item is ready or `timeout` milliseconds pass
    /// (`0` = just check, `-1` = wait forever). Returns the number of ready
    /// items (0 on timeout); then ask `isReadable`/`events(for:)` per token.
    ///
    /// A signal arriving during the wait (`EINTR`) makes it return 0 with no
    /// item ready, like a timeout, so the caller's loop can look at whatever
    /// the signal handler recorded. Throws `ETERM` after `Context.shutdown`.
    public func poll(timeout: Int) throws -> Int {
        let rc = items.withUnsafeMutableBufferPointer { buffer in
            zmq_poll(buffer.baseAddress, Int32(buffer.count), timeout)
        }
        if rc >= 0 { return Int(rc) }
        let errno = zmq_errno()
        if errno == ZMQErrorCode.interrupted {
            for index in items.indices { items[index].revents = 0 }
            return 0
        }
        throw ZMQError(errno: errno, operation: "zmq_poll")
    }

    /// The events found ready for an item by the last `poll`.
    public func events(for token: Token) -> PollEvents {
        PollEvents(rawValue: items[token.index].revents)
    }

    /// Whether the item was readable at the last `poll`.
    public func isReadable(_ token: Token) -> Bool {
        events(for: token).contains(.readable)
    }

    /// Whether the item was writable at the last `poll`.
    public func isWritable(_ token: Token) -> Bool {
        events(for: token).contains(.writable)
    }

    /// Removes every item (and releases the sockets it kept alive).
    public func removeAll() {
        items.removeAll(keepingCapacity: true)
        sockets.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable, message: "a Poller holds sockets, which are not thread-safe")
extension Poller: Sendable {}
