#if os(Linux)
import Glibc
import Foundation
import Testing
@testable import LatentDaemon

/// A datagram socket playing systemd's side: bound to a path or an abstract
/// name, it receives what the notifier sends.
private final class NotifyReceiver {
    let fd: Int32
    let address: String
    private let path: String?

    init(address: String) throws {
        self.address = address
        path = address.hasPrefix("/") ? address : nil
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var (addr, length) = try unixSocketAddress(address)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(bound == 0, "bind \(address): \(String(cString: strerror(errno)))")
        // Never hang a test run: a missing datagram fails after 5 s.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram as text, or nil on timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}

private func temporaryDirectory() throws -> String {
    // Short on purpose: a socket path must fit in sun_path (108 bytes).
    let path = "/tmp/latentd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

@Suite struct NotifierTests {
    /// Each of the convenience calls, checked datagram by datagram.
    private func exercise(_ receiver: NotifyReceiver) throws {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        #expect(notifier.isEnabled)
        try notifier.ready()
        #expect(receiver.receive() == "READY=1")
        try notifier.ready(status: "2 models, 0 obs")
        #expect(receiver.receive() == "READY=1\nSTATUS=2 models, 0 obs")
        try notifier.watchdog()
        #expect(receiver.receive() == "WATCHDOG=1")
        try notifier.status("learning\nroom1")
        #expect(receiver.receive() == "STATUS=learning room1")
        try notifier.stopping()
        #expect(receiver.receive() == "STOPPING=1")
        try notifier.notify("ERRNO=5\nEXTEND_TIMEOUT_USEC=1000000")
        #expect(receiver.receive() == "ERRNO=5\nEXTEND_TIMEOUT_USEC=1000000")
        try notifier.reloading()
        let reloading = try #require(receiver.receive())
        let lines = reloading.split(separator: "\n")
        #expect(lines.count == 2 && lines[0] == "RELOADING=1")
        #expect(lines.last.map { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)) != nil } == true)
    }

    @Test func sendsToAPathSocket() throws {
        let dir = try temporaryDirectory()
        defer { rmdir(dir) }
        do {
            let receiver = try NotifyReceiver(address: dir + "/notify")
            try exercise(receiver)
        }
    }

    @Test func sendsToAnAbstractSocket() throws {
        let receiver = try NotifyReceiver(address: "@latentd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try exercise(receiver)
    }

    @Test func isANoOpOutsideSystemd() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(notifier.watchdogInterval == nil)
        try notifier.ready()
        try notifier.watchdog()
    }

    @Test func refusesUnusableAddresses() {
        #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).ready()
        }
        #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]).ready()
        }
        // Nobody listening: the send fails and says so instead of vanishing.
        #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/latentd/notify"]).ready()
        }
    }

    @Test func watchdogIntervalIsHalfTheTimeoutAndOnlyForUs() {
        let env = ["NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000"]
        #expect(SystemdNotifier(environment: env, pid: 42).watchdogInterval == .seconds(15))
        var ours = env
        ours["WATCHDOG_PID"] = "42"
        #expect(SystemdNotifier(environment: ours, pid: 42).watchdogInterval == .seconds(15))
        var theirs = env
        theirs["WATCHDOG_PID"] = "43"
        #expect(SystemdNotifier(environment: theirs, pid: 42).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
    }

    @Test func abstractAddressesHaveExactLength() throws {
        let (_, abstractLength) = try unixSocketAddress("@abc")
        let (_, pathLength) = try unixSocketAddress("/abc")
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        #expect(Int(abstractLength) == offset + 4)  // NUL + "abc", no terminator
        #expect(Int(pathLength) == offset + 5)      // "/abc" + NUL
    }
}
#endif
