import Foundation
import Histogram
import LatentDaemon
import ZeroMQ

/// One daemon under load, with the sockets that drive and watch it, and the
/// latency reference (`latentd relay`) next to it on the same sockets. The
/// producer and control sockets belong to the calling thread; the collector
/// and the status probe own theirs.
struct LoadRun {
    /// Where a latency run's messages go: the daemon's model p, or the relay.
    enum Target {
        case daemon, relay
        var topic: String { self == .daemon ? "p" : LoadRelay.topic }
    }

    let daemon: LoadDaemon
    let relay: LoadRelay
    let producer: Socket
    let control: ControlClient
    let collector: PosteriorCollector
    let status: StatusProbe
    /// `{"x":[...],"id":` payload heads for the latency probe; the first also heads the end markers.
    private let idPrefixes: [[UInt8]]
    private var markers = 0

    init(context: Context, dir: String, messages: LoadMessages, daemonCPU: Int? = nil) throws {
        // The real path: under taskset, /proc/self/exe would name taskset itself.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        daemon = try LoadDaemon(binary: executable, dir: dir, daemonCPU: daemonCPU)
        relay = try LoadRelay(binary: executable, dir: dir, cpu: daemonCPU)
        control = try ControlClient(context: context, endpoint: daemon.control)
        _ = try control.request(#"{"cmd":"status"}"#)  // waits (10 s at most) for the daemon to be up
        producer = try context.socket(.pub)
        try producer.set(.sendHighWaterMark, Int32(0))
        try producer.set(.linger, Int32(0))
        try producer.connect(daemon.input)
        // Messages reach only the peer subscribed to their topic: the relay sees `r` alone.
        try producer.connect(relay.input)
        collector = PosteriorCollector(context: context, endpoints: [daemon.output, relay.output])
        idPrefixes = messages.idPrefixes()
        status = StatusProbe(context: context, endpoint: daemon.control)
        // Through the slow joiner, then past every model's warm-up (200 observations).
        try mark(repeatEvery: 0.02)
        let warm = messages.payloads(.json100), binary = messages.payloads(.f64le100)
        for i in 0..<5 {
            _ = try send("j", warm[i])
            _ = try send("b", binary[i])
        }
        for payload in messages.payloads(.json1).prefix(500) { _ = try send("p", payload) }
        try mark()
        try mark(through: .relay, repeatEvery: 0.02)
    }

    /// Stops the daemon before closing the producer: the other way round it could
    /// still log the producer's disconnection as a warning on the stderr it shares
    /// with this tool, in the middle of a JSON line when both go to one file. The
    /// status probe goes first, while the daemon can still answer its request.
    mutating func finish() {
        _ = status.stop()
        daemon.stop()
        relay.stop()
        collector.stop()
        producer.close()
        control.socket.close()
    }

    @discardableResult
    private func send(_ topic: String, _ payload: [UInt8]) throws -> Bool {
        _ = try producer.send(topic, more: true)
        return try producer.send(payload)
    }

    /// Sends an end marker (an observation with id −k to model p, or to the relay)
    /// and waits for its posterior: every message sent there before it has then been
    /// consumed. Returns the arrival time. `repeatEvery` re-sends it until it is seen.
    @discardableResult
    mutating func mark(through target: Target = .daemon, repeatEvery: Double? = nil, timeout: Double = 120) throws -> UInt64 {
        markers += 1
        let payload = idPrefixes[0] + Array("-\(markers)}".utf8)
        let deadline = monotonicNanos() + UInt64(timeout * 1e9)
        var resend = monotonicNanos()
        while collector.marker.load(ordering: .acquiring) < markers {
            if let every = repeatEvery, monotonicNanos() >= resend {
                try send(target.topic, payload)
                resend = monotonicNanos() + UInt64(every * 1e9)
            } else if repeatEvery == nil && resend != 0 {
                try send(target.topic, payload)
                resend = 0
            }
            guard monotonicNanos() < deadline else { throw DaemonError("end marker \(markers) not seen within \(timeout) s") }
            usleep(200)
        }
        return monotonicNanos()
    }

    struct Ingest {
        var rate: Double
        var observations: Int
        var lost: Int
        /// Per observation consumed (`LoadDaemon.threadTimes`): CPU nanoseconds by
        /// thread role, and nanoseconds the socket thread waited runnable for a CPU.
        var cpu: [String: Double]
        var mainRunnable: Double
    }

    /// Sends `messages` messages to `model` as fast as the socket takes them and
    /// times their consumption up to the end marker's posterior.
    mutating func ingest(model: String, payloads: [[UInt8]], messages: Int, observationsPerMessage: Int) throws -> Ingest {
        let before = try control.observations(model)
        let topic = Array(model.utf8)
        let timesBefore = daemon.threadTimes()
        let start = monotonicNanos()
        for i in 0..<messages {
            _ = try producer.send(topic, more: true)
            _ = try producer.send(payloads[i % payloads.count])
        }
        let end = try mark()
        let timesAfter = daemon.threadTimes()
        // The end marker is one more observation of model p.
        let consumed = try control.observations(model) - before - (model == "p" ? 1 : 0)
        let expected = messages * observationsPerMessage
        var cpu: [String: Double] = [:]
        for role in timesAfter.keys {
            cpu[role] = LoadDaemon.nanoseconds(per: consumed, role: role, from: timesBefore, to: timesAfter)
        }
        let mainRunnable = LoadDaemon.nanoseconds(per: consumed, role: "main", from: timesBefore, to: timesAfter, waiting: true)
        return Ingest(rate: Double(consumed) / (Double(end - start) / 1e9), observations: consumed, lost: expected - consumed,
                      cpu: cpu, mainRunnable: mainRunnable)
    }

    /// One open-loop latency run, and what it cost the machine.
    struct Latency {
        var latencies: Histogram<UInt64>
        var sendLags: Histogram<UInt64>
        /// CPU nanoseconds per message of the process under test (the daemon or the
        /// relay) by thread role, `main` and `io`, and of all this tool's threads.
        var cpu: [String: Double]
        var toolCPU: Double
        /// How many of the machine's CPUs were busy on average (/proc/stat): at two,
        /// every thread that wakes waits for another to be descheduled.
        var busyCPUs: Double
    }

    /// Open loop: message i is due at start + i/rate whatever happened before
    /// (no coordinated omission); its id is that due time, so the collector
    /// measures from the schedule, not from the actual send. Also returns how late
    /// each message left this tool (the clock just before its send, less its due
    /// time): the part of the latency that is the tool's own, when the producer
    /// shares its CPUs with the daemon and cannot keep the schedule. `target`: the
    /// daemon, or the relay for the same schedule through the sockets alone.
    mutating func latency(rate: Double, seconds: Double, through target: Target = .daemon) throws -> Latency {
        let topic: [UInt8] = Array(target.topic.utf8)
        let count = Int(rate * seconds)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        collector.latencies.withLock { $0 = PosteriorCollector.emptyHistogram() }
        var sendLags = PosteriorCollector.emptyHistogram()
        let pid = target == .daemon ? daemon.process.processIdentifier : relay.process.processIdentifier
        let testedBefore = LoadDaemon.threadTimes(pid: pid), toolBefore = LoadDaemon.threadTimes(pid: getpid())
        let machineBefore = MachineCPU.ticks()
        let start = monotonicNanos() + 10_000_000
        let interval = 1e9 / rate
        var i = 0
        while i < count {
            let now = monotonicNanos()
            while i < count {
                let due = start + UInt64(Double(i) * interval)
                guard due <= now else { break }
                buffer.removeAll(keepingCapacity: true)
                buffer += idPrefixes[i % idPrefixes.count]
                buffer += String(due).utf8
                buffer.append(UInt8(ascii: "}"))
                // Before the send, so that it is earlier than the posterior's arrival.
                let leaving = monotonicNanos()
                _ = sendLags.record(leaving > due ? leaving - due : 0)
                _ = try producer.send(topic, more: true)
                _ = try producer.send(buffer)
                i += 1
            }
            guard i < count else { break }
            // Sleep rather than spin: on two cores a spinning producer takes the CPU the
            // daemon and libzmq's I/O threads need. Oversleeping (~60 µs) delays sends,
            // which the latency then includes, as it is measured from the schedule.
            let wait = Int64(start + UInt64(Double(i) * interval)) - Int64(monotonicNanos())
            usleep(UInt32(max(20, min(wait / 1_000, 1_000))))
        }
        try mark(through: target)
        let machine = MachineCPU.ticks().busyCPUs(since: machineBefore)
        let testedAfter = LoadDaemon.threadTimes(pid: pid), toolAfter = LoadDaemon.threadTimes(pid: getpid())
        let cpu = Dictionary(uniqueKeysWithValues: ["main", "io"].map {
            ($0, LoadDaemon.nanoseconds(per: count, role: $0, from: testedBefore, to: testedAfter))
        })
        let toolCPU = toolAfter.keys.reduce(0) { $0 + LoadDaemon.nanoseconds(per: count, role: $1, from: toolBefore, to: toolAfter) }
        return Latency(latencies: collector.latencies.withLock { $0 }, sendLags: sendLags, cpu: cpu, toolCPU: toolCPU,
                       busyCPUs: machine)
    }

    /// Saturates model j with JSON batches for `seconds` (closed loop: 200
    /// messages, then an end marker), sampling the daemon's RSS ~20 times.
    mutating func soak(payloads: [[UInt8]], seconds: Double) throws -> [(observations: Int, rss: Int)] {
        var samples = [(observations: 0, rss: daemon.residentBytes)]
        let start = monotonicNanos(), step = seconds / 20
        var nextSample = step, sent = 0
        while true {
            let elapsed = Double(monotonicNanos() - start) / 1e9
            if elapsed >= nextSample {
                samples.append((sent * 100, daemon.residentBytes))
                nextSample += step
            }
            if elapsed >= seconds { break }
            for _ in 0..<200 {
                try send("j", payloads[sent % payloads.count])
                sent += 1
            }
            try mark()
        }
        return samples
    }
}
