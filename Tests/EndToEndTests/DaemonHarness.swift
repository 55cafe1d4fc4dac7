import Foundation
import Testing
import ZeroMQ

/// A real `latentd run` process in a temporary directory, with a producer, a
/// consumer and a control client talking to it over ipc:// sockets.
final class DaemonHarness {
    let dir: String
    let configPath: String
    let stateDir: String
    var process: Process?
    let context: Context
    var producer: Socket
    let consumer: Socket
    var control: Socket
    /// The daemon binds its input (producers connect), unless `inputConnect`.
    let inputConnect: Bool
    private let message = Message()

    var inputEndpoint: String { "ipc://\(dir)/in" }
    var outputEndpoint: String { "ipc://\(dir)/out" }
    var controlEndpoint: String { "ipc://\(dir)/control" }

    /// The path of the built `latentd`, next to the test bundle.
    static var binary: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("latentd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/latentd").standardized.path
    }

    /// A frozen one-dimensional model on topic "sync" that every test config
    /// carries: a posterior on posterior/sync proves that both the input and
    /// the output subscriptions are through, without touching the models under test.
    static var syncModel: [String: Any] { [
        "name": "sync", "topic": "sync", "kind": "gmm", "dimensions": 1, "components": 1, "covariance": "diag",
        "learning": ["mode": "frozen"], "init": ["weights": [1.0], "means": [[0.0]], "covariances": [[1.0]]],
    ] }

    init(models: [[String: Any]], inputConnect: Bool = false, extra: [String: Any] = [:],
         maxMessageSize: Int? = nil, checkpointInterval: String = "1h", keep: Int = 3) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ld-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        stateDir = "\(dir)/state"
        configPath = "\(dir)/config.json"
        self.inputConnect = inputConnect
        var input: [String: Any] = inputConnect ? ["connect": ["ipc://\(dir)/in"]] : ["bind": ["ipc://\(dir)/in"]]
        if let maxMessageSize { input["max_message_size"] = maxMessageSize }
        var config: [String: Any] = [
            "state_dir": stateDir,
            "checkpoint": ["interval": checkpointInterval, "keep": keep],
            "input": input,
            "output": ["bind": "ipc://\(dir)/out"],
            "control": ["bind": "ipc://\(dir)/control"],
            "models": models + [Self.syncModel],
        ]
        for (k, v) in extra { config[k] = v }
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
        context = try Context()
        producer = try context.socket(.pub)
        consumer = try context.socket(.sub)
        try consumer.subscribe("")
        control = try context.socket(.req)
    }

    /// Starts the daemon and waits until it answers `status` and passes a sync message.
    func start(sync: Bool = true, environment: [String: String] = [:]) throws {
        let p = Process()
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["run", "--config", configPath, "--log-level", "debug"]
        let log = FileHandle(forWritingAtPath: "\(dir)/daemon.log") ?? {
            _ = FileManager.default.createFile(atPath: "\(dir)/daemon.log", contents: nil)
            return FileHandle(forWritingAtPath: "\(dir)/daemon.log")!
        }()
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        try p.run()
        process = p
        // Fresh client sockets for every daemon process.
        producer.close(); control.close()
        producer = try context.socket(.pub)
        try producer.set(.sendHighWaterMark, Int32(0))  // tests send bursts; a PUB drops at its HWM
        if inputConnect { try producer.bind(inputEndpoint) } else { try producer.connect(inputEndpoint) }
        try consumer.connect(outputEndpoint)
        control = try context.socket(.req)
        try control.set(.receiveTimeout, Int32(20_000))
        try control.connect(controlEndpoint)
        let status = try request(["cmd": "status"])
        #expect(status["ok"] as? Bool == true)
        if sync { try self.sync() }
    }

    /// Sends sync observations until one's posterior comes back (bounded).
    func sync() throws {
        let deadline = Date().addingTimeInterval(20)
        var i = 0
        let round = UUID().uuidString.prefix(8)
        while Date() < deadline {
            i += 1
            // Only the reply to the latest message counts: it proves that everything
            // sent before it was processed (one producer, one ordered pipe).
            let id = "sync-\(round)-\(i)"
            try send("sync", #"{"x":[0],"id":"\#(id)"}"#)
            let wait = Date().addingTimeInterval(i == 1 ? 0.05 : 0.5)
            while Date() < wait {
                if try receive(timeout: 50, where: { $0.topic == "posterior/sync" && $0.body["id"] as? String == id }) != nil {
                    drain()
                    return
                }
            }
        }
        throw HarnessError("no posterior for the sync model within 20 s; daemon log:\n\(log())")
    }

    func send(_ topic: String, _ payload: String) throws {
        _ = try producer.send(parts: [topic, payload])
    }

    func send(frames: [[UInt8]]) throws {
        _ = try producer.send(parts: frames)
    }

    struct Output {
        var topic: String
        var body: [String: Any]
        var raw: [UInt8]
    }

    /// The next output message matching `predicate`, or nil after `timeout` ms.
    func receive(timeout: Int, where predicate: (Output) -> Bool = { _ in true }) throws -> Output? {
        let deadline = Date().addingTimeInterval(Double(timeout) / 1000)
        let poller = Poller()
        let token = try poller.add(consumer)
        while Date() < deadline {
            _ = try poller.poll(timeout: max(1, Int(deadline.timeIntervalSinceNow * 1000)))
            guard poller.isReadable(token) else { continue }
            while let parts = try consumer.receiveMultipart(dontWait: true) {
                guard parts.count == 2 else { continue }
                let body = (try? JSONSerialization.jsonObject(with: Data(parts[1]))) as? [String: Any] ?? [:]
                let out = Output(topic: String(decoding: parts[0], as: UTF8.self), body: body, raw: parts[1])
                if predicate(out) { return out }
            }
        }
        return nil
    }

    /// Discards queued output.
    func drain() {
        while (try? consumer.receiveMultipart(dontWait: true)).flatMap({ $0 }) != nil {}
    }

    /// Waits for the posterior whose id is `id` on `posterior/<model>`.
    @discardableResult
    func awaitPosterior(model: String, id: String, timeout: Int = 20_000) throws -> Output {
        guard let out = try receive(timeout: timeout, where: { $0.topic == "posterior/\(model)" && "\($0.body["id"] ?? "")" == id }) else {
            throw HarnessError("no posterior for id \(id) on \(model); daemon log:\n\(log())")
        }
        return out
    }

    func request(_ object: [String: Any]) throws -> [String: Any] {
        try requestRaw(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    func requestRaw(_ text: String) throws -> [String: Any] {
        _ = try control.send(text)
        guard let reply = try control.receiveMultipart(), let first = reply.first else {
            throw HarnessError("no control reply to \(text); daemon log:\n\(log())")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else {
            throw HarnessError("control reply is not a JSON object: \(String(decoding: first, as: UTF8.self))")
        }
        return object
    }

    /// Sends `signal` and waits for the process to exit; returns its status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let p = process else { return -1 }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        process = nil
        // What the producer still queues was meant for this process. libzmq keeps a
        // connecting PUB's queue across reconnects, so left open (even lingering) it
        // would hand that backlog to the next daemon on the same endpoint, as if the
        // killed one had received it. Drop it now; start() makes a fresh producer.
        try? producer.set(.linger, Int32(0))
        producer.close()
        try? consumer.disconnect(outputEndpoint)
        return p.terminationStatus
    }

    func log() -> String {
        (try? String(contentsOfFile: "\(dir)/daemon.log", encoding: .utf8)) ?? ""
    }

    func checkpointFiles(model: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateDir)) ?? [])
            .filter { $0.hasPrefix("\(model).") && $0.hasSuffix(".ckpt") }.sorted()
    }

    deinit {
        if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        producer.close(); consumer.close(); control.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs the latentd binary with arguments and returns (status, stdout+stderr).
func runLatentd(_ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Deterministic observations from three 2-D clusters.
func clusterStream(count: Int, seed: UInt64 = 5) -> [[Double]] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func uniform() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) * 0x1.0p-53
    }
    let centers = [[0.0, 0.0], [6.0, 6.0], [0.0, 7.0]]
    return (0..<count).map { i in
        let c = centers[i % 3]
        let (u1, u2) = (max(uniform(), 1e-12), uniform())
        let r = (-2 * log(u1)).squareRoot()
        return [c[0] + r * cos(2 * .pi * u2), c[1] + r * sin(2 * .pi * u2)]
    }
}

func json(_ x: [Double]) -> String { "[" + x.map { "\($0)" }.joined(separator: ",") + "]" }

/// A learning GMM model config (K=3, D=2) used by several tests.
func learningModel(name: String = "m", topic: String = "m", covariance: String = "full", format: String = "json",
                   warmup: Int = 100) -> [String: Any] {
    ["name": name, "topic": topic, "kind": "gmm", "dimensions": 2, "components": 3, "covariance": covariance,
     "format": format, "seed": 3, "learning": ["warmup": warmup, "batch": 8], "publish": ["params_every": 50]]
}
