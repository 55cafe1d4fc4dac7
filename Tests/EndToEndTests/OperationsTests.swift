import Foundation
import Testing

/// systemd integration, SIGHUP reload and the memory `status` reports, against the real process.
@Suite struct OperationsTests {
    @Test func notifiesSystemdReadyWatchdogAndStopping() throws {
        let daemon = try DaemonHarness(models: [learningModel()])
        let path = "\(daemon.dir)/notify"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func next() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        try daemon.start(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"])
        var seen: [String] = []
        while let m = next() {
            seen.append(m)
            if seen.contains(where: { $0.contains("READY=1") }) && seen.filter({ $0.contains("WATCHDOG=1") }).count >= 2 { break }
        }
        #expect(seen.contains { $0.contains("READY=1") }, "\(seen)")
        #expect(seen.filter { $0.contains("WATCHDOG=1") }.count >= 2, "\(seen)")
        #expect(daemon.stop() == 0)
        var stopping = false
        while !stopping, let m = next() { stopping = m.contains("STOPPING=1") }
        #expect(stopping)
    }

    @Test func sighupAppliesThePublishBlock() throws {
        let daemon = try DaemonHarness(models: [learningModel()])
        try daemon.start()
        try daemon.send("m", #"{"x":[1,2],"id":"before"}"#)
        try daemon.awaitPosterior(model: "m", id: "before")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: daemon.configPath))) as! [String: Any]
        var model = learningModel()
        model["publish"] = ["posteriors": false, "params_every": 50]
        model["topic"] = "elsewhere"  // not reloadable: must be reported, not applied
        config["models"] = [model, DaemonHarness.syncModel]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: daemon.configPath))
        kill(daemon.process!.processIdentifier, SIGHUP)
        var reloads = 0
        for _ in 0..<200 where reloads == 0 {
            reloads = try daemon.request(["cmd": "status"])["reloads"] as? Int ?? 0
            if reloads == 0 { usleep(10_000) }
        }
        #expect(reloads == 1)
        // Messages are handled in order: once the sync posterior is out, m's would be too.
        try daemon.send("m", #"{"x":[1,2],"id":"after"}"#)
        try daemon.send("sync", #"{"x":[0],"id":"marker"}"#)
        let seen = try daemon.receive(timeout: 10_000) { $0.body["id"] as? String == "after" || $0.body["id"] as? String == "marker" }
        #expect(seen?.body["id"] as? String == "marker", "posteriors were still published after the reload")
        #expect(daemon.log().contains("need a restart"), "the unapplied topic change must be logged")
        #expect(try daemon.request(["cmd": "params", "model": "m"])["n"] as? Int == 2)
        #expect(daemon.stop() == 0)
    }

    /// `status` reports the daemon's resident set size as the kernel counts it, and
    /// each model's heap bytes, which follow the model's size: a full K=16 D=32
    /// mixture holds at least its covariances and one set of packed second moments.
    @Test func statusReportsResidentAndPerModelMemory() throws {
        var big = learningModel(name: "big", topic: "big")
        big["dimensions"] = 32
        big["components"] = 16
        let daemon = try DaemonHarness(models: [learningModel(name: "small", topic: "small"), big])
        try daemon.start()
        let xs = clusterStream(count: 150)
        for x in xs { try daemon.send("big", "{\"x\":\(json((0..<32).map { x[$0 % 2] + Double($0) }))}") }
        try daemon.sync()
        let status = try daemon.request(["cmd": "status"])
        let rss = status["rss_bytes"] as? Int ?? 0, kernel = residentBytes(daemon)
        #expect(rss > 0 && abs(rss - kernel) <= kernel / 10, "rss_bytes \(rss), VmRSS \(kernel)")
        let models = status["models"] as? [[String: Any]] ?? []
        func heap(_ name: String) -> Int { models.first { $0["name"] as? String == name }?["heap_bytes"] as? Int ?? 0 }
        #expect(models.first { $0["name"] as? String == "big" }?["warming_up"] as? Bool == false, "\(models)")
        #expect(heap("big") >= 8 * 16 * (32 * 32 + 32 * 33 / 2), "\(models)")
        #expect(heap("small") > 0 && heap("small") * 20 < heap("big"), "\(models)")
        #expect(heap("big") < rss)
        #expect(daemon.stop() == 0)
    }
}
