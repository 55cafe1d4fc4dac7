import Foundation
import Testing

@Suite struct CheckpointTests {
    /// Sends observations [from, to) of `data` as batches of 37 (odd, so message
    /// and mini-batch boundaries differ) and waits until the last one is processed.
    static func feed(_ daemon: DaemonHarness, _ data: [[Double]], _ range: Range<Int>) throws {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + 37, range.upperBound)
            try daemon.send("m", #"{"xs":[\#(data[start..<end].map(json).joined(separator: ","))],"id":\#(end)}"#)
            start = end
        }
        try daemon.awaitPosterior(model: "m", id: "\(range.upperBound)")
    }

    @Test func restartAfterSIGTERMContinuesBitForBit() throws {
        let data = clusterStream(count: 2_000)
        let reference = try DaemonHarness(models: [learningModel(covariance: "full")])
        try reference.start()
        try Self.feed(reference, data, 0..<2_000)
        let expected = try reference.request(["cmd": "params", "model": "m"])
        #expect(reference.stop() == 0)

        let interrupted = try DaemonHarness(models: [learningModel(covariance: "full")])
        try interrupted.start()
        try Self.feed(interrupted, data, 0..<1_111)  // mid mini-batch
        #expect(interrupted.stop(signal: SIGTERM) == 0)
        #expect(!interrupted.checkpointFiles(model: "m").isEmpty, "SIGTERM must write a final checkpoint")
        try interrupted.start()
        #expect(try interrupted.request(["cmd": "params", "model": "m"])["n"] as? Int == 1_111)
        try Self.feed(interrupted, data, 1_111..<2_000)
        let resumed = try interrupted.request(["cmd": "params", "model": "m"])
        #expect(interrupted.stop() == 0)
        #expect(resumed["n"] as? Int == 2_000)
        #expect(resumed["version"] as? Int == expected["version"] as? Int)
        // Doubles are written in shortest round-trip form, so equal JSON numbers are equal bits.
        #expect(NSDictionary(dictionary: resumed["params"] as! [String: Any]).isEqual(to: expected["params"] as! [String: Any]),
                "resumed parameters differ from the uninterrupted run")
    }

    @Test func kill9AtRandomInstantsAlwaysRestartsFromAValidCheckpoint() throws {
        let data = clusterStream(count: 4_000)
        let daemon = try DaemonHarness(models: [learningModel(covariance: "diag")], checkpointInterval: "5ms", keep: 2)
        var rng = SystemRandomNumberGenerator()
        var expectedN = 0
        var offset = 0
        for round in 0..<15 {
            try daemon.start()  // throws if the daemon cannot start from what is on disk
            let status = try daemon.request(["cmd": "status"])
            let n = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "m" }?["n"] as? Int
            #expect(n == expectedN, """
                round \(round): resumed at n=\(n ?? -1), the newest checkpoint holds \(expectedN); \
                checkpoints now: \(daemon.checkpointFiles(model: "m")); daemon log (last 40 lines):
                \(daemon.log().split(separator: "\n").suffix(40).joined(separator: "\n"))
                """)
            // Keep it learning and checkpointing every 5 ms, then kill it at a random instant.
            for _ in 0..<20 {
                try daemon.send("m", #"{"xs":[\#(data[offset..<(offset + 100)].map(json).joined(separator: ","))]}"#)
                offset = (offset + 100) % 3_900
            }
            usleep(UInt32.random(in: 0...100_000, using: &rng))
            daemon.stop(signal: SIGKILL)
            let (ok, inspected) = try newestCheckpointN(daemon)
            #expect(ok, Comment(rawValue: "round \(round): the newest checkpoint does not load: \(inspected)"))
            expectedN = Int(inspected) ?? 0
        }
        #expect(expectedN > 0, "no checkpoint was ever written")
        #expect(!daemon.log().contains("skipping checkpoint"), "a crash left a corrupt checkpoint:\n\(daemon.log())")
    }

    /// What the README promises about messages around a crash: a producer that stays
    /// connected keeps what it could not deliver and hands it to the restarted daemon
    /// (libzmq keeps a connecting PUB's queue across reconnects), while what had reached
    /// the killed process is gone. The daemon is stopped (SIGSTOP) so that most of the
    /// burst is still in the producer's queue when it is killed.
    @Test func connectedProducerDeliversItsBacklogToTheRestartedDaemon() throws {
        let data = clusterStream(count: 3_900)
        let daemon = try DaemonHarness(models: [learningModel(covariance: "diag")])
        try daemon.start()
        let producer = try daemon.context.socket(.pub)
        defer { producer.close() }
        try producer.set(.sendHighWaterMark, Int32(0))
        try producer.connect(daemon.inputEndpoint)
        func n() throws -> Int {
            let status = try daemon.request(["cmd": "status"])
            return (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "m" }?["n"] as? Int ?? -1
        }
        var deadline = Date().addingTimeInterval(20)
        repeat {  // the new producer's connection and the daemon's subscription are through
            _ = try producer.send(parts: ["m", #"{"x":\#(json(data[0]))}"#])
            usleep(10_000)
        } while try n() == 0 && Date() < deadline
        let before = try n()
        #expect(before > 0, "the extra producer never reached the daemon")

        kill(daemon.process!.processIdentifier, SIGSTOP)
        let payload = #"{"xs":[\#(data[0..<100].map(json).joined(separator: ","))]}"#
        // About 2 MB: far more than a Unix socket's kernel buffer (about 200 kB by default),
        // so most of it is still in the producer's queue when the daemon dies.
        let burst = 500
        for _ in 0..<burst { _ = try producer.send(parts: ["m", payload]) }
        daemon.stop(signal: SIGKILL)
        let resumedFrom = try newestCheckpointN(daemon).1
        try daemon.start()
        deadline = Date().addingTimeInterval(20)
        var after = try n()
        while after == Int(resumedFrom)! && Date() < deadline {
            usleep(20_000)  // polling for a count; there is no reply to await for a PUB's backlog
            after = try n()
        }
        let delivered = after - Int(resumedFrom)!
        #expect(delivered > 0 && delivered % 100 == 0 && delivered < burst * 100,
                "resumed at \(resumedFrom), now \(after): expected part of the \(burst)-message backlog, whole messages only")
    }

    /// `latentd inspect` on the newest checkpoint: (ok, n or the error text).
    func newestCheckpointN(_ daemon: DaemonHarness) throws -> (Bool, String) {
        guard let newest = daemon.checkpointFiles(model: "m").last else { return (true, "0") }
        let (status, output) = try runLatentd(["inspect", "\(daemon.stateDir)/\(newest)"])
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let state = object["state"] as? [String: Any], let n = state["n"] as? Int else { return (false, output) }
        return (true, "\(n)")
    }

    @Test func corruptNewestCheckpointFallsBackToThePreviousOne() throws {
        let data = clusterStream(count: 600)
        let daemon = try DaemonHarness(models: [learningModel()])
        try daemon.start()
        try Self.feed(daemon, data, 0..<300)
        let first = try daemon.request(["cmd": "checkpoint"])
        #expect(first["ok"] as? Bool == true)
        try Self.feed(daemon, data, 300..<600)
        #expect(try daemon.request(["cmd": "checkpoint"])["ok"] as? Bool == true)
        daemon.stop(signal: SIGKILL)
        let files = daemon.checkpointFiles(model: "m")
        #expect(files.count == 2)
        let newest = "\(daemon.stateDir)/\(files.last!)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: newest))

        let (status, output) = try runLatentd(["inspect", newest])
        #expect(status == 1 && output.contains("checksum"), "inspect on a corrupt file: \(output)")
        let (goodStatus, good) = try runLatentd(["inspect", "\(daemon.stateDir)/\(files.first!)"])
        #expect(goodStatus == 0 && good.contains(#""n":300"#), Comment(rawValue: good))

        try daemon.start()
        #expect(try daemon.request(["cmd": "params", "model": "m"])["n"] as? Int == 300)
        #expect(daemon.log().contains(files.last!), "the skipped file must be named in the log")
        #expect(daemon.stop() == 0)
    }

    @Test func checkpointOfAnotherConfigurationIsRefused() throws {
        let daemon = try DaemonHarness(models: [learningModel()])
        try daemon.start()
        try Self.feed(daemon, clusterStream(count: 200), 0..<200)
        #expect(daemon.stop() == 0)
        // Same model name, different number of components.
        var changed = learningModel()
        changed["components"] = 4
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: daemon.configPath))) as! [String: Any]
        config["models"] = [changed, DaemonHarness.syncModel]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: daemon.configPath))
        let (status, output) = try runLatentd(["run", "--config", daemon.configPath])
        #expect(status == 1)
        #expect(output.contains("different configuration") && output.contains("m."), Comment(rawValue: output))
    }
}
