import Foundation
import LatentCore
import Logging
import ZeroMQ

/// `latentd demo`: the daemon learning two synthetic streams over real ZeroMQ
/// sockets (ipc in a temporary directory), with a live summary: a room sensor
/// clustered by a GMM, and machines switching regimes labeled by an HMM
/// (`DemoMachines`). Both streams run side by side, as they would in one daemon.
///
/// The daemon runs on its own thread exactly as `latentd run` would; this
/// thread plays producer (PUB), consumer (SUB) and operator (REQ).
public enum Demo {
    /// Three climate regimes of a room sensor (temperature °C, humidity %).
    static let truth: [(weight: Double, mean: [Double], sd: [Double])] = [
        (0.5, [21.0, 40.0], [0.6, 3.0]),   // office hours
        (0.3, [17.5, 55.0], [0.8, 4.0]),   // night
        (0.2, [25.0, 30.0], [1.0, 2.5]),   // sunny afternoon
    ]

    /// The HMM stream is paced over the same time as the GMM's (`total / rate`
    /// seconds), so `--observations` and `--rate` set the length of the whole demo.
    public static func run(observations total: Int, rate: Double, machines machineCount: Int = 8,
                           logLevel: Logger.Level) throws {
        guard machineCount >= 1 else { throw DaemonError("--machines must be >= 1") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("latentd-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = """
            state_dir: \(dir)/state
            checkpoint: {interval: 2s, keep: 2}
            input: {connect: ["ipc://\(dir)/in"]}
            output: {bind: "ipc://\(dir)/out"}
            control: {bind: "ipc://\(dir)/control"}
            models:
              - {name: room1, topic: sensors/room1, kind: gmm, dimensions: 2, components: 3, covariance: diag,
                 seed: 7, learning: {warmup: 300, batch: 16, averaging: true}, publish: {params_every: 2000}}
            \(DemoMachines.yamlEntry)
            """
        let config = try DaemonConfig.parse(yaml: yaml)
        let signals = try SignalPipe()
        var logger = Logger(label: "latentd")
        logger.logLevel = logLevel
        let daemonLogger = logger
        let daemonThread = Thread {
            do {
                let daemon = try Daemon(config: config, configPath: nil, logger: daemonLogger, signals: signals)
                try daemon.run()
            } catch {
                daemonLogger.critical("demo daemon failed: \(error)")
            }
        }
        daemonThread.start()

        let context = try Context()
        let producer = try context.socket(.pub)
        try producer.set(.sendHighWaterMark, Int32(0))  // never drop our own readings (see the consumer below)
        try producer.bind("ipc://\(dir)/in")
        let consumer = try context.socket(.sub)
        // Unbounded: at high --rate on a busy machine the default 1000-message queue
        // overflowed between polls, and the demo then waited for posteriors that were gone.
        try consumer.set(.receiveHighWaterMark, Int32(0))
        try consumer.subscribe("posterior/room1")
        try consumer.subscribe("params/room1")
        try consumer.subscribe("posterior/\(DemoMachines.model)")
        try consumer.subscribe("viterbi/\(DemoMachines.model)")
        try consumer.connect("ipc://\(dir)/out")
        let control = try context.socket(.req)
        try control.set(.receiveTimeout, Int32(5000))
        try control.connect("ipc://\(dir)/control")

        print("latentd demo: a room sensor with 3 regimes, \(total) readings at \(Int(rate))/s")
        print("true regimes (temperature °C, humidity %):")
        for t in truth { print(String(format: "  weight %.2f  mean (%5.1f, %5.1f)", t.weight, t.mean[0], t.mean[1])) }
        var machines = DemoMachines(machines: machineCount, seed: 2027)
        print("and \(machineCount) machines switching between idle, running and fault, \(machines.total) readings "
              + "(temperature °C, vibration mm/s) on topic \(DemoMachines.topic), one sequence per machine, labelled by an HMM")

        // Wait for the daemon to answer, then until its SUB sees our PUB.
        _ = try request(control, #"{"cmd":"status"}"#)
        var rng = Xoshiro256StarStar(seed: 2026)
        var sent = 0, posteriors = 0, anomaliesSent = 0, anomaliesFlagged = 0
        var lastParams = "", version = 0
        /// Readings published before the daemon's subscription arrived are lost (PUB/SUB
        /// slow joiner); they are the ones before the first id that comes back.
        var lostAtStart = 0
        var logliks: [Double] = []
        let start = monotonicSeconds()
        var nextReport = start + 1
        /// The machines start once the subscription is through (a lost first reading would shift a sequence).
        var machinesStart: Double?
        let message = Message()
        while posteriors < total - lostAtStart || !machines.finished {
            let due = Int((monotonicSeconds() - start) * rate) + 1
            while sent < min(due, total) {
                let anomaly = sent > 1000 && rng.uniform() < 0.002
                let x = anomaly ? [40.0 + 5 * rng.uniform(), 90.0] : sample(&rng)
                if anomaly { anomaliesSent += 1 }
                let payload = String(format: #"{"x":[%.3f,%.3f],"id":%d}"#, x[0], x[1], sent)
                _ = try producer.send(parts: ["sensors/room1", payload])
                sent += 1
                if posteriors == 0 { break }  // until the subscription is through, one at a time
            }
            if let machinesStart {
                try machines.send(upTo: (monotonicSeconds() - machinesStart) * rate / Double(total), on: producer)
            } else if posteriors > 0 {
                machinesStart = monotonicSeconds()
            }
            while try consumer.receive(into: message, dontWait: true) {
                let topic = message.string
                guard message.more, try consumer.receive(into: message, dontWait: true) else { continue }
                guard let object = try? JSONSerialization.jsonObject(with: Data(message.bytes)) as? [String: Any] else { continue }
                if topic.hasSuffix("/\(DemoMachines.model)") {
                    machines.receive(topic: topic, object)
                } else if topic.hasPrefix("params/") {
                    version = object["version"] as? Int ?? version
                    lastParams = describe(object["params"])
                } else {
                    if posteriors == 0, let first = object["id"] as? Int { lostAtStart = first }
                    posteriors += 1
                    if let ll = object["loglik"] as? Double {
                        logliks.append(ll)
                        if ll < -15 { anomaliesFlagged += 1 }
                    }
                }
            }
            if monotonicSeconds() >= nextReport {
                nextReport += 1
                let recent = logliks.suffix(500)
                let meanLL = recent.isEmpty ? Double.nan : recent.reduce(0, +) / Double(recent.count)
                print(String(format: "[%4.1fs] sent %6d  labelled %6d  params v%-4d  mean loglik %7.3f  anomalies flagged %d/%d",
                             monotonicSeconds() - start, sent, posteriors, version, meanLL, anomaliesFlagged, anomaliesSent))
                print(String(format: "        machines: sent %6d  labelled %6d  paths %d/%d  filtered labels right %5.1f %%",
                             machines.sent, machines.posteriors, machines.paths, machineCount, 100 * machines.filteredAccuracy))
            }
            if posteriors < total - lostAtStart || !machines.finished { usleep(posteriors == 0 ? 20_000 : 1_000) }
            if monotonicSeconds() - start > Double(total) / rate + 30 {
                print("demo: timed out waiting for posteriors")
                break
            }
        }
        let status = try request(control, #"{"cmd":"status"}"#)
        let params = try request(control, #"{"cmd":"params","model":"room1"}"#)
        print("learned regimes (version \(params["version"] ?? "?")):")
        print(describe(params["params"]).isEmpty ? lastParams : describe(params["params"]))
        let machineParams = try request(control, #"{"cmd":"params","model":"\#(DemoMachines.model)"}"#)
        for line in machines.summary(params: machineParams) { print(line) }
        print("daemon status: received \(status["received"] ?? 0), rejected \(status["rejected"] ?? 0)")
        signals.send(.stop)
        while !daemonThread.isFinished { usleep(10_000) }
        print("demo finished: the daemon wrote its final checkpoint and stopped.")
    }

    static func sample(_ rng: inout Xoshiro256StarStar) -> [Double] {
        let u = rng.uniform()
        var acc = 0.0
        for t in truth {
            acc += t.weight
            if u < acc || t.mean == truth.last!.mean {
                return [t.mean[0] + t.sd[0] * rng.normal(), t.mean[1] + t.sd[1] * rng.normal()]
            }
        }
        return truth[0].mean
    }

    /// One control request on a REQ socket: the reply as a JSON object.
    public static func request(_ socket: Socket, _ body: String) throws -> [String: Any] {
        _ = try socket.send(body)
        guard let reply = try socket.receiveMultipart(), let first = reply.first,
              let object = try JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else {
            throw DaemonError("no reply from the daemon's control socket to \(body)")
        }
        return object
    }

    static func describe(_ params: Any?) -> String {
        guard let p = params as? [String: Any], let w = p["weights"] as? [Double],
              let m = p["means"] as? [[Double]] else { return "" }
        let order = w.indices.sorted { w[$0] > w[$1] }
        return order.map { String(format: "  weight %.2f  mean (%5.1f, %5.1f)", w[$0], m[$0][0], m[$0][1]) }
            .joined(separator: "\n")
    }
}
