import Foundation
import LatentDaemon
import ZeroMQ

/// The daemon under test for `latentd throughput`: this very binary started as
/// `latentd run` in its own process on ipc:// sockets in a temporary directory,
/// with three diag K=8 D=8 GMMs: `j` (JSON, posteriors off), `b` (f64le,
/// posteriors off) and `p` (JSON, posteriors on: capacity with output, latency,
/// and the end markers that time the other two).
final class LoadDaemon {
    let process: Process
    let input: String
    let output: String
    let control: String

    /// `daemonCPU`: run the daemon (all its threads) on that CPU only, through
    /// taskset, so that it does not compete with the load tool's own threads.
    init(binary: String, dir: String, daemonCPU: Int? = nil) throws {
        let (input, output, control) = ("ipc://\(dir)/in", "ipc://\(dir)/out", "ipc://\(dir)/control")
        func model(_ name: String, format: String, posteriors: Bool) -> String {
            """
              - {name: \(name), topic: \(name), kind: gmm, dimensions: \(LoadMessages.dimensions), \
            components: \(LoadMessages.components), covariance: diag, format: \(format), seed: 1,
                 learning: {batch: 16, warmup: 200}, publish: {posteriors: \(posteriors), params_every: 1000000000}}
            """
        }
        let yaml = """
            state_dir: \(dir)/state
            checkpoint: {interval: 1h, keep: 1}
            input: {bind: ["\(input)"], rcvhwm: 0}
            output: {bind: "\(output)", sndhwm: 0}
            control: {bind: "\(control)"}
            models:
            \(model("j", format: "json", posteriors: false))
            \(model("b", format: "f64le", posteriors: false))
            \(model("p", format: "json", posteriors: true))
            """
        let configPath = "\(dir)/latentd.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        (self.input, self.output, self.control) = (input, output, control)
        process = try startProcess(binary, ["run", "--config", configPath, "--log-level", "warning"], onCPU: daemonCPU)
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Nanoseconds the daemon's threads have run (`cpu`) and waited runnable for a
    /// CPU (`waiting`), summed by role: `main` (the socket thread, which learns), `io`
    /// (libzmq's I/O threads), `parse` (the JSON parse helper) and `other`. From
    /// /proc/<pid>/task/<tid>/schedstat, which the scheduler keeps in nanoseconds
    /// (`stat`'s clock ticks are 10 ms, too coarse for a round of a fraction of a second).
    func threadTimes() -> [String: (cpu: UInt64, waiting: UInt64)] { Self.threadTimes(pid: process.processIdentifier) }

    /// `threadTimes()` of any process whose threads are named like the daemon's.
    static func threadTimes(pid: Int32) -> [String: (cpu: UInt64, waiting: UInt64)] {
        let tasks = "/proc/\(pid)/task"
        var times: [String: (cpu: UInt64, waiting: UInt64)] = [:]
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
            guard let schedstat = try? String(contentsOfFile: "\(tasks)/\(tid)/schedstat", encoding: .utf8) else { continue }
            let fields = schedstat.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard fields.count >= 2 else { continue }
            let name = (try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8)) ?? ""
            let role = tid == String(pid) ? "main"
                : name.hasPrefix("ZMQbg/IO") ? "io" : name.hasPrefix("latentd-parse") ? "parse" : "other"
            let sum = times[role] ?? (0, 0)
            times[role] = (sum.cpu + fields[0], sum.waiting + fields[1])
        }
        return times
    }

    /// Nanoseconds per unit (`count` observations or messages) that `role`'s threads ran
    /// or, with `waiting`, waited runnable for a CPU between two `threadTimes`
    /// snapshots. Saturating: a thread that ended in between takes its times with it.
    static func nanoseconds(per count: Int, role: String, from before: [String: (cpu: UInt64, waiting: UInt64)],
                            to after: [String: (cpu: UInt64, waiting: UInt64)], waiting: Bool = false) -> Double {
        let a = after[role].map { waiting ? $0.waiting : $0.cpu } ?? 0
        let b = before[role].map { waiting ? $0.waiting : $0.cpu } ?? 0
        return Double(a > b ? a - b : 0) / Double(max(count, 1))
    }

    /// Resident set size of the daemon process, in bytes (0 once it is gone).
    var residentBytes: Int { Daemon.residentBytes(pid: process.processIdentifier) ?? 0 }
}

/// Starts `binary` with `arguments`, through taskset on `cpu` alone when given (all
/// its threads, and every thread they start, stay on that CPU).
func startProcess(_ binary: String, _ arguments: [String], onCPU cpu: Int?) throws -> Process {
    let process = Process()
    if let cpu {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = ["-c", String(cpu), binary] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
    }
    try process.run()
    return process
}

/// A REQ client of the daemon's control socket, owned by one thread.
struct ControlClient {
    let socket: Socket

    init(context: Context, endpoint: String) throws {
        socket = try context.socket(.req)
        try socket.set(.receiveTimeout, Int32(10_000))
        try socket.set(.linger, Int32(0))
        try socket.connect(endpoint)
    }

    func request(_ body: String) throws -> [String: Any] { try LatentDaemon.Demo.request(socket, body) }

    /// Observations model `name` has consumed (`n` in its status entry).
    func observations(_ name: String) throws -> Int {
        let status = try request(#"{"cmd":"status"}"#)
        let entry = (status["models"] as? [[String: Any]])?.first { $0["name"] as? String == name }
        return entry?["n"] as? Int ?? -1
    }
}

/// Nanoseconds on the monotonic clock (the latency probe's time base).
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
