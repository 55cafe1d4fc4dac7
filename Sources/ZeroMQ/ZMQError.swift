import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: the `errno` libzmq reported and the operation that
/// failed, so a log line says both *what* was attempted and *why* it failed.
///
/// `EAGAIN` is normally not surfaced as an error: the send/receive calls
/// return `false` instead, because "nothing to do right now" is the common
/// case in a poll loop, not a failure.
///
/// `EINTR` (a signal arrived during a blocking call) is never surfaced either:
/// send/receive retry the call, `Poller.poll` returns as if it had timed out
/// (zero ready items) so that the caller's loop comes round and sees its
/// signal self-pipe. Contexts retry `zmq_ctx_term`.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The errno value (POSIX, or libzmq's own such as `ETERM`/`EFSM`).
    public let errno: Int32
    /// The libzmq call and, where useful, its argument, e.g. `zmq_bind(tcp://x:1)`.
    public let operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// The error for the calling thread's current `zmq_errno()`.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(errno: zmq_errno(), operation: operation)
    }

    /// libzmq's text for `errno` (`zmq_strerror`), which also knows the
    /// libzmq-specific codes that `strerror` does not.
    public var message: String {
        String(cString: zmq_strerror(errno))
    }

    public var description: String {
        "\(operation): \(message) (errno \(errno))"
    }

    /// The context was terminated or shut down (`ETERM`): stop using the socket.
    public var isTerminated: Bool { errno == ZMQErrorCode.terminated }
    /// The operation would have blocked (`EAGAIN`).
    public var isWouldBlock: Bool { errno == ZMQErrorCode.wouldBlock }
    /// The socket is in the wrong state for the operation (`EFSM`), e.g. a REP
    /// socket asked to receive twice without replying.
    public var isWrongState: Bool { errno == ZMQErrorCode.wrongState }
    /// The endpoint was not bound/connected (`ENOENT` from unbind/disconnect).
    public var isNoSuchEndpoint: Bool { errno == ZMQErrorCode.noSuchEndpoint }
}

/// The errno values the wrapper needs to tell apart, in one place so the other
/// files do not each import the platform C library.
enum ZMQErrorCode {
    static let wouldBlock: Int32 = EAGAIN
    static let interrupted: Int32 = EINTR
    static let terminated: Int32 = ETERM
    static let wrongState: Int32 = EFSM
    static let noSuchEndpoint: Int32 = ENOENT
    static let notSocket: Int32 = ENOTSOCK
    static let protocolError: Int32 = EPROTO
}
