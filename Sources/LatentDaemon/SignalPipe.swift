import Foundation

/// Turns SIGTERM/SIGINT/SIGHUP into bytes on a pipe that the daemon's poll loop
/// watches next to its sockets: the handler only calls write(2), which is
/// async-signal-safe, and all real work happens on the socket thread.
public final class SignalPipe: @unchecked Sendable {
    public enum Event: UInt8, Sendable {
        case stop = 0x54    // "T"
        case reload = 0x48  // "H"
    }

    /// The write end the C signal handler needs; a process has one signal pipe.
    nonisolated(unsafe) private static var handlerFD: Int32 = -1

    public let readFD: Int32
    let writeFD: Int32

    public init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw DaemonError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Routes the process's SIGTERM, SIGINT and SIGHUP to this pipe, and ignores
    /// SIGPIPE (a vanished peer must not kill the daemon).
    /// The signals are also unblocked: a process inherits its parent's signal
    /// mask, and launchers (Foundation's Process among them) may start us with
    /// SIGTERM blocked, which would make the daemon unstoppable.
    public func installHandlers() {
        Self.handlerFD = writeFD
        signal(SIGPIPE, SIG_IGN)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&unblock, sig) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in SignalPipe.post(sig == SIGHUP ? .reload : .stop) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
    }

    private static func post(_ event: Event) {
        var byte = event.rawValue
        _ = write(handlerFD, &byte, 1)
    }

    /// Posts an event from any thread (the demo stops its embedded daemon this way).
    public func send(_ event: Event) {
        var byte = event.rawValue
        _ = write(writeFD, &byte, 1)
    }

    /// Drains pending events.
    func drain() -> [Event] {
        var buffer = [UInt8](repeating: 0, count: 64)
        var events: [Event] = []
        while true {
            let n = read(readFD, &buffer, buffer.count)
            if n <= 0 { break }
            events += buffer[0..<n].compactMap(Event.init(rawValue:))
        }
        return events
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}
