import ArgumentParser
import Foundation
import ZeroMQ

struct Throughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the daemon's end-to-end ingest rate and latency next to the plain ZeroMQ transport.",
        discussion: """
            Starts this binary as `latentd run` on ipc:// sockets in a temporary directory
            (three diag K=8 D=8 GMMs that learn) and, in the same run:
              1. for each framing (json1: one 8-value JSON observation per message;
                 json100 and f64le100: batches of 100), the rate of a plain ZeroMQ
                 consumer of the same pre-encoded messages (the transport reference),
                 then the daemon's rate with posteriors off, and the ratio; with each
                 daemon rate, its threads' CPU nanoseconds per observation
                 (cpu_ns_per_obs: main, io, parse) and the socket thread's nanoseconds
                 waiting runnable for a CPU (main_runnable_ns_per_obs, from schedstat);
              2. the daemon's rate for json1 with posteriors on, next to a relay of the
                 same messages that publishes a posterior-sized message for each
                 (relay_obs_per_s: as high as the sockets allow), and the ratio;
              3. open-loop latency at fixed send rates (percentages of the posteriors-on
                 capacity): each message carries its scheduled send time, and the latency
                 runs from that time to the posterior's arrival (HdrHistogram percentiles),
                 next to how late the tool itself sent the messages (send_lag_*), and
                 the same schedule through a relay process that only answers each message
                 with a posterior-sized one (relay: what the sockets and the scheduler
                 alone give at that rate), and through the relay at the same percentage
                 of its own capacity (relay_at_own_capacity: how the sockets alone fare
                 at that load on this machine); with --p99-target-ms, also the highest
                 rate that keeps p99 within it;
              4. the control socket's `status` round trips while the input is saturated,
                 and the daemon's RSS (sampled through an optional soak run).
            Prints one JSON object per line. Build with -c release for meaningful numbers.
            """
    )

    @Option(help: "Framings to measure, comma-separated (json1, json100, f64le100).")
    var framings = "json1,json100,f64le100"
    @Option(help: "Observations sent per framing and run.")
    var observations = 1_000_000
    @Option(help: "Observations for the posteriors-on json1 run (default: --observations).")
    var posteriorObservations: Int?
    @Option(help: "Send rates for the latency runs, in % of the posteriors-on capacity.")
    var rates = "50,80,100,120"
    @Option(help: "Seconds per latency run.")
    var latencySeconds = 3.0
    @Option(help: """
        Also search for the highest send rate whose p99 latency stays at or below this many \
        milliseconds: six latency runs bisecting between 0 and the posteriors-on capacity (0: no search).
        """)
    var p99TargetMs = 0.0
    @Option(help: "Seconds of saturated JSON-batch input, sampling the daemon's RSS (0: none).")
    var soakSeconds = 0.0
    @Option(help: """
        Transport and daemon measurements per framing, alternating; with more than one, each \
        line carries its round and a last line per framing the median, lowest and highest ratio \
        (on a VM whose speed drifts, one pair of runs can straddle a change of speed).
        """)
    var rounds = 1
    @Flag(help: """
        Run the daemon on the last CPU only (taskset) and this tool's threads on the others, so \
        that neither preempts the other (the transport reference then shares the tool's CPUs, so \
        its ratio is not the ingest figure).
        """)
    var pin = false

    /// Restricts every thread of this process, and so every thread they create later, to
    /// `cpus`, through taskset -a -p: Glibc's module does not export sched_setaffinity.
    static func restrictThisProcess(toCPUs cpus: Range<Int>) throws {
        let taskset = Process()
        taskset.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        taskset.arguments = ["-a", "-p", "-c", "\(cpus.lowerBound)-\(cpus.upperBound - 1)", String(getpid())]
        taskset.standardOutput = FileHandle.nullDevice
        try taskset.run()
        taskset.waitUntilExit()
        guard taskset.terminationStatus == 0 else {
            throw ValidationError("--pin: taskset -p failed (status \(taskset.terminationStatus))")
        }
    }

    func run() throws {
        let chosen = try framings.split(separator: ",").map { name in
            guard let f = LoadMessages.Framing(rawValue: String(name)) else {
                throw ValidationError("unknown framing \(name) (json1, json100, f64le100)")
            }
            return f
        }
        let percents = try rates.split(separator: ",").map { p in
            guard let v = Double(p), v > 0 else { throw ValidationError("bad rate percentage \(p)") }
            return v
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("latentd-throughput-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messages = LoadMessages()
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        if pin && cpus >= 2 {
            // Before any thread of the tool exists (libzmq's I/O thread, the producer, the
            // collector): threads inherit the mask of the thread that creates them.
            try Self.restrictThisProcess(toCPUs: 0..<(cpus - 1))
        }
        let context = try Context(ioThreads: 1)
        var run = try LoadRun(context: context, dir: dir, messages: messages, daemonCPU: pin ? cpus - 1 : nil)
        defer { run.finish() }

        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        for framing in chosen {
            let count = observations / framing.observationsPerMessage
            let payloads = messages.payloads(framing)
            var ratios: [Double] = []
            for round in 1...rounds {
                let transport = try TransportReference.observationsPerSecond(
                    context: context, endpoint: "ipc://\(dir)/reference-\(framing.rawValue)-\(round)", payloads: payloads,
                    messages: count, observationsPerMessage: framing.observationsPerMessage)
                let daemon = try run.ingest(model: framing.model, payloads: payloads, messages: count,
                                            observationsPerMessage: framing.observationsPerMessage)
                ratios.append(daemon.rate / transport)
                print(#"{"framing":"\#(framing.rawValue)","posteriors":false,"# + (rounds > 1 ? #""round":\#(round),"# : "")
                    + #""observations":\#(daemon.observations),"#
                    + #""transport_obs_per_s":\#(Int(transport)),"daemon_obs_per_s":\#(Int(daemon.rate)),"#
                    + #""ratio":\#(rounded(daemon.rate / transport)),"lost":\#(daemon.lost),\#(threadFigures(daemon))}"#)
            }
            if rounds > 1 {
                let sorted = ratios.sorted()
                let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                    : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                print(#"{"framing":"\#(framing.rawValue)","posteriors":false,"rounds":\#(rounds),"#
                    + #""ratio_median":\#(significant(median)),"ratio_min":\#(significant(sorted[0])),"#
                    + #""ratio_max":\#(significant(sorted[sorted.count - 1]))}"#)
            }
        }
        let json1 = messages.payloads(.json1), posteriorMessages = posteriorObservations ?? observations
        let relay = try TransportReference.observationsPerSecond(
            context: context, endpoint: "ipc://\(dir)/reference-posteriors", payloads: json1, messages: posteriorMessages,
            observationsPerMessage: 1, relay: LoadMessages.posteriorBody)
        let withPosteriors = try run.ingest(model: "p", payloads: json1, messages: posteriorMessages, observationsPerMessage: 1)
        print(#"{"framing":"json1","posteriors":true,"observations":\#(withPosteriors.observations),"#
            + #""relay_obs_per_s":\#(Int(relay)),"daemon_obs_per_s":\#(Int(withPosteriors.rate)),"#
            + #""ratio":\#(rounded(withPosteriors.rate / relay)),"lost":\#(withPosteriors.lost),\#(threadFigures(withPosteriors))}"#)
        let roundTrips = run.status.stop().sorted()
        if let worst = roundTrips.last {
            let p99 = roundTrips[min(roundTrips.count - 1, Int(Double(roundTrips.count) * 0.99))]
            print(#"{"status_while_saturated":{"requests":\#(roundTrips.count),"p99_ms":\#(rounded(Double(p99) / 1e6)),"max_ms":\#(rounded(Double(worst) / 1e6))}}"#)
        }
        for percent in percents {
            let rate = withPosteriors.rate * percent / 100
            // The reference first, at the same rate and for as long: the same schedule,
            // the same sockets, the same wake-ups, and no work per message.
            let reference = try run.latency(rate: rate, seconds: latencySeconds, through: .relay)
            // The same percentage of the relay's own capacity: "half the capacity" asked
            // of the sockets alone. The rate above is a smaller share of theirs, so it
            // cannot tell whether a miss is the daemon's or the machine's at that load.
            let ownRate = relay * percent / 100
            let ownLoad = try run.latency(rate: ownRate, seconds: latencySeconds, through: .relay)
            let daemon = try run.latency(rate: rate, seconds: latencySeconds)
            print(#"{"latency":{"percent_of_capacity":\#(Int(percent)),"rate":\#(Int(rate)),\#(latencyFigures(daemon)),"#
                + #""relay":{\#(latencyFigures(reference))},"#
                + #""relay_at_own_capacity":{"rate":\#(Int(ownRate)),\#(latencyFigures(ownLoad))}}}"#)
        }
        if p99TargetMs > 0 {
            // Bisection: the capacity is measured in bulk, but one message at a time each
            // wakes several threads, so the rate a latency bound allows is a figure of its own.
            var passing = 0.0, failing = withPosteriors.rate
            var best: (p99: UInt64, lag: UInt64)?
            for _ in 0..<6 {
                let rate = (passing + failing) / 2
                let trial = try run.latency(rate: rate, seconds: latencySeconds)
                let p99 = trial.latencies.valueAtPercentile(99)
                if Double(p99) <= p99TargetMs * 1e6 {
                    passing = rate
                    best = (p99, trial.sendLags.valueAtPercentile(99))
                } else {
                    failing = rate
                }
            }
            print(#"{"latency_bounded":{"p99_target_ms":\#(p99TargetMs),"rate":\#(Int(passing)),"#
                + #""fraction_of_capacity":\#(rounded(passing / withPosteriors.rate)),"#
                + #""p99_us":\#(us(best?.p99)),"send_lag_p99_us":\#(us(best?.lag))}}"#)
        }
        if soakSeconds > 0 {
            let samples = try run.soak(payloads: messages.payloads(.json100), seconds: soakSeconds)
            let mib = samples.map { rounded(Double($0.rss) / 1_048_576) }
            print(#"{"soak":{"seconds":\#(soakSeconds),"observations":\#(samples.last?.observations ?? 0),"rss_mib":[\#(mib.joined(separator: ","))]}}"#)
        }
        print(#"{"daemon_rss_mib":\#(rounded(Double(run.daemon.residentBytes) / 1_048_576))}"#)
    }
}

func rounded(_ x: Double) -> String { String(format: "%.3f", x) }

/// The daemon's CPU nanoseconds per observation by thread role, and the main
/// thread's nanoseconds waiting runnable for a CPU: what a round cost, which moves
/// less from run to run than its rate, and how much of its time the socket thread
/// lost to the other threads on the machine's CPUs.
func threadFigures(_ ingest: LoadRun.Ingest) -> String {
    let roles = ["main", "io", "parse"].map { role in #""\#(role)":\#(String(format: "%.1f", ingest.cpu[role] ?? 0))"# }
    return #""cpu_ns_per_obs":{\#(roles.joined(separator: ","))},"#
        + #""main_runnable_ns_per_obs":\#(String(format: "%.1f", ingest.mainRunnable))"#
}

/// A latency run's figures as JSON fields: message count, latency percentiles and
/// send lags in microseconds, CPU nanoseconds per message of the process under test
/// (main, io) and of the tool, and the machine's busy CPUs.
func latencyFigures(_ run: LoadRun.Latency) -> String {
    let h = run.latencies, lag = run.sendLags
    let cpu = ["main", "io"].map { #""\#($0)":\#(String(format: "%.0f", run.cpu[$0] ?? 0))"# }
    return #""count":\#(h.totalCount),"p50_us":\#(us(h.valueAtPercentile(50))),"p99_us":\#(us(h.valueAtPercentile(99))),"#
        + #""p999_us":\#(us(h.valueAtPercentile(99.9))),"max_us":\#(us(h.max)),"#
        + #""send_lag_p50_us":\#(us(lag.valueAtPercentile(50))),"send_lag_p99_us":\#(us(lag.valueAtPercentile(99))),"#
        + #""send_lag_max_us":\#(us(lag.max)),"cpu_ns_per_msg":{\#(cpu.joined(separator: ","))},"#
        + #""tool_cpu_ns_per_msg":\#(String(format: "%.0f", run.toolCPU)),"busy_cpus":\#(String(format: "%.2f", run.busyCPUs))"#
}

/// Nanoseconds as microseconds for the JSON lines; null when there is no value.
func us(_ nanoseconds: UInt64?) -> String { nanoseconds.map { rounded(Double($0) / 1e3) } ?? "null" }

/// Four significant digits: the ratios of a small test run are below 0.01.
func significant(_ x: Double) -> String { String(format: "%.4g", x) }
