import Foundation
import Testing

/// systemd integration and SIGHUP reload, against the real process.
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
}
