import CZeroMQ

/// Namespace for facts about the libzmq library this process actually loaded.
///
/// The wrapper is deliberately thin: one Swift type per libzmq concept
/// (`Context`, `Socket`, `Message`, `Poller`, socket monitors), errors as
/// `ZMQError`, and no global mutable state, so it can be used from Swift 6
/// strict-concurrency code without escape hatches other than `Context`
/// (which libzmq documents as thread-safe).
public enum ZeroMQ {
    /// The run-time version of libzmq (`zmq_version`), not the header version.
    ///
    /// Worth logging at start-up: the monitor-event wire format and the
    /// behaviour on oversized messages (ZMQ_MAXMSGSIZE) depend on it.
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether libzmq was built with a capability such as `"ipc"`, `"curve"`
    /// or `"draft"` (`zmq_has`). Lets callers fail early with a clear message
    /// instead of an opaque `EPROTONOSUPPORT` at bind time.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }
}
