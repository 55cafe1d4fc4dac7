#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The systemd notification protocol (`sd_notify(3)`), spoken directly so the
/// daemon needs no libsystemd: one datagram of `KEY=VALUE` lines sent to the
/// AF_UNIX socket named by `$NOTIFY_SOCKET`.
///
/// With `Type=notify` (SPEC §7) systemd waits for `READY=1` before it counts
/// the service as started, kills it if `WATCHDOG=1` stops arriving within
/// `WatchdogSec=`, and shows `STATUS=` in `systemctl status`. Outside systemd
/// `$NOTIFY_SOCKET` is unset and every call is a no-op, so the daemon code can
/// notify unconditionally.
///
/// Each call opens, sends and closes its own socket, as `sd_notify` does: a
/// handful of messages per minute do not justify shared mutable state, and the
/// struct stays trivially `Sendable`.
public struct SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET`: an absolute path, or `@name` for an abstract socket.
    /// Nil when not started by systemd with notify access.
    public let socketAddress: String?

    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, the margin
    /// `sd_watchdog_enabled(3)` recommends. Nil when the watchdog is off or is
    /// meant for another process (`$WATCHDOG_PID` names a different pid).
    public let watchdogInterval: Duration?

    /// Reads the variables the way `sd_notify`/`sd_watchdog_enabled` do.
    /// `environment` and `pid` are parameters so tests need not touch the
    /// real process environment.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, pid: Int32 = getpid()) {
        let socket = environment["NOTIFY_SOCKET"] ?? ""
        socketAddress = socket.isEmpty ? nil : socket

        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
            if forUs { interval = .microseconds(Int64(clamping: usec / 2)) }
        }
        watchdogInterval = interval
    }

    /// True when notifications go somewhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// Sends `state` (one or more `KEY=VALUE` lines) as one datagram. No-op
    /// when `$NOTIFY_SOCKET` is unset.
    /// - Throws: `SystemdNotifyError` if the address is unusable or sending
    ///   fails; the daemon logs it and carries on, since systemd will then act
    ///   on the missing notification (start timeout, watchdog) by itself.
    public func notify(_ state: String) throws {
        guard let socketAddress else { return }
        #if os(Linux)
        try send(Array(state.utf8), to: socketAddress)
        #endif
    }

    /// `READY=1`: sockets are bound and checkpoints loaded (SPEC §7). Also sent
    /// after a reload has finished.
    public func ready(status: String? = nil) throws {
        try notify(withStatus("READY=1", status))
    }

    /// `STOPPING=1`: shutdown has begun (final checkpoint under way).
    public func stopping(status: String? = nil) throws {
        try notify(withStatus("STOPPING=1", status))
    }

    /// `WATCHDOG=1`: the main loop is alive. Call every `watchdogInterval`.
    public func watchdog() throws {
        try notify("WATCHDOG=1")
    }

    /// `STATUS=…`: a one-line summary shown by `systemctl status`.
    public func status(_ text: String) throws {
        try notify("STATUS=" + oneLine(text))
    }

    /// `RELOADING=1` on SIGHUP; send `ready()` when the reload is done.
    /// Carries `MONOTONIC_USEC=`, which systemd ≥ 253 requires for
    /// `Type=notify-reload` and older versions ignore, so either unit type works.
    public func reloading() throws {
        try notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())")
    }

    /// Removes the notification variables from this process's environment, as
    /// `sd_notify(unset_environment: 1)` does, so that child processes cannot
    /// notify on the daemon's behalf. Values already read stay in notifiers.
    public static func unsetEnvironment() {
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
    }

    private func withStatus(_ first: String, _ status: String?) -> String {
        guard let status else { return first }
        return first + "\nSTATUS=" + oneLine(status)
    }

    /// A newline inside STATUS would start a new assignment; replace it.
    private func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// Why a notification could not be sent.
public struct SystemdNotifyError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

private func monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
}

#if os(Linux)
/// An AF_UNIX address for `address`: a path (NUL-terminated), or `@name`
/// for the abstract namespace, where the `@` becomes a leading NUL byte and
/// the length covers exactly the name (no terminator: every byte counts).
func unixSocketAddress(_ address: String) throws -> (sockaddr_un, socklen_t) {
    var bytes = Array(address.utf8)
    let isAbstract = bytes.first == UInt8(ascii: "@")
    guard isAbstract || bytes.first == UInt8(ascii: "/") else {
        throw SystemdNotifyError(description: "NOTIFY_SOCKET=\(address): not an absolute path or @abstract name")
    }
    if isAbstract { bytes[0] = 0 }
    var addr = sockaddr_un()
    let capacity = MemoryLayout.size(ofValue: addr.sun_path)
    guard bytes.count + (isAbstract ? 0 : 1) <= capacity else {
        throw SystemdNotifyError(description: "NOTIFY_SOCKET=\(address): longer than \(capacity) bytes")
    }
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { path in
        path.copyBytes(from: bytes)  // the rest is already zero: the path's NUL
    }
    let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
    return (addr, socklen_t(offset + bytes.count + (isAbstract ? 0 : 1)))
}

private func send(_ datagram: [UInt8], to address: String) throws {
    var (addr, length) = try unixSocketAddress(address)
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw SystemdNotifyError(description: "socket(AF_UNIX): \(errnoText())") }
    defer { close(fd) }
    let sent = datagram.withUnsafeBytes { buffer in
        withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, length)
            }
        }
    }
    guard sent == datagram.count else {
        let reason = sent < 0 ? errnoText() : "sent \(sent) of \(datagram.count) bytes"
        throw SystemdNotifyError(description: "sending to NOTIFY_SOCKET=\(address): \(reason)")
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }
#endif
