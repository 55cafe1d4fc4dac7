import CZeroMQ

/// A libzmq context: the I/O threads and the namespace for `inproc://`
/// endpoints (monitors live there).
///
/// This is the only `Sendable` type in the module: libzmq documents contexts
/// as thread-safe, so one context may be shared by every thread of the daemon,
/// each creating its own sockets from it. Hence `@unchecked Sendable`: the
/// only stored state is an immutable handle whose thread safety libzmq
/// guarantees.
///
/// Lifetime: every `Socket` keeps a strong reference to its context, so the
/// context is terminated (`zmq_ctx_term`, in `deinit`) only after all its
/// sockets are closed. Termination waits for pending outgoing messages up to
/// each socket's linger, which `Socket` sets to a short default so that
/// shutdown cannot hang on an absent peer.
public final class Context: @unchecked Sendable {
    /// The raw `void *` context handle; valid for the lifetime of `self`.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` background I/O threads. One is
    /// plenty for a daemon moving below ~1 GB/s.
    public init(ioThreads: Int = 1) throws {
        guard let handle = zmq_ctx_new() else {
            throw ZMQError.last("zmq_ctx_new")
        }
        self.handle = handle
        if ioThreads != 1 {
            // On failure `deinit` still runs (every stored property is
            // set), and terminates the context.
            guard zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) == 0 else {
                throw ZMQError.last("zmq_ctx_set(ZMQ_IO_THREADS, \(ioThreads))")
            }
        }
    }

    /// Creates a socket of `type` in this context. See `Socket.init`.
    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(context: self, type: type)
    }

    /// Makes every blocking call on every socket of this context (in any
    /// thread) fail with `ETERM` from now on (`zmq_ctx_shutdown`).
    ///
    /// This is how another thread is told to stop when it may be blocked in
    /// `receive`/`poll`: it sees `ZMQError.isTerminated`, closes its sockets,
    /// and the context can then be terminated.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        // zmq_ctx_term may be interrupted by a signal; the documented remedy
        // is to call it again.
        while zmq_ctx_term(handle) != 0, zmq_errno() == ZMQErrorCode.interrupted {}
    }
}
