import Foundation
import Testing

@Suite struct LearningTests {
    @Test func learnsClustersAndAnswersControl() throws {
        let daemon = try DaemonHarness(models: [learningModel()])
        try daemon.start()
        let data = clusterStream(count: 3_000)
        for start in stride(from: 0, to: data.count, by: 100) {
            let rows = data[start..<(start + 100)].map(json).joined(separator: ",")
            try daemon.send("m", #"{"xs":[\#(rows)],"id":\#(start)}"#)
        }
        try daemon.awaitPosterior(model: "m", id: "2900")
        let params = try daemon.request(["cmd": "params", "model": "m"])
        #expect(params["ok"] as? Bool == true)
        #expect(params["n"] as? Int == 3_000)
        #expect((params["version"] as? Int ?? 0) > 100)
        let p = params["params"] as! [String: Any]
        let means = (p["means"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        for truth in [[0.0, 0.0], [6.0, 6.0], [0.0, 7.0]] {
            let nearest = means.map { hypot($0[0] - truth[0], $0[1] - truth[1]) }.min()!
            #expect(nearest < 0.3, "no learned mean near \(truth): \(means)")
        }
        let weights = (p["weights"] as! [NSNumber]).map(\.doubleValue)
        #expect(weights.allSatisfy { abs($0 - 1.0 / 3) < 0.05 })

        let score = try daemon.request(["cmd": "score", "model": "m", "x": [6.0, 6.0]])
        #expect(score["ok"] as? Bool == true)
        let resp = (score["resp"] as! [NSNumber]).map(\.doubleValue)
        let label = score["label"] as! Int
        #expect(hypot(means[label][0] - 6, means[label][1] - 6) < 0.3 && resp[label] > 0.99)
        // Scoring does not learn.
        #expect(try daemon.request(["cmd": "params", "model": "m"])["n"] as? Int == 3_000)

        let status = try daemon.request(["cmd": "status"])
        let models = status["models"] as! [[String: Any]]
        #expect(models.first { $0["name"] as? String == "m" }?["n"] as? Int == 3_000)
        #expect(status["rejected"] as? Int == 0)

        let reset = try daemon.request(["cmd": "reset", "model": "m"])
        #expect(reset["ok"] as? Bool == true)
        let after = try daemon.request(["cmd": "params", "model": "m"])
        #expect(after["params"] is NSNull)
        #expect((after["version"] as! Int) >= (params["version"] as! Int))
        #expect(daemon.stop() == 0)
    }

    /// The daemon holds one-observation messages and learns them as segments
    /// (MixtureHost.holdsRows; here with posteriors off). Learning does not depend on how rows are
    /// grouped, so single messages must learn what batches of the same rows learn, bit
    /// for bit, and every one must be counted once the input is drained (600 rows after
    /// a warm-up of 100 with batch 8 leave rows held at the end of the last drain).
    @Test func singleMessagesWithoutPosteriorsLearnLikeBatches() throws {
        let covariances = ["diag", "full"]
        var models: [[String: Any]] = []
        for c in covariances {
            for form in ["single", "batch"] {
                var model = learningModel(name: "\(form)-\(c)", topic: "\(form)-\(c)", covariance: c)
                model["publish"] = ["posteriors": false, "params_every": 50]
                models.append(model)
            }
        }
        let daemon = try DaemonHarness(models: models)
        try daemon.start()
        let data = clusterStream(count: 600, seed: 9)
        for c in covariances {
            for row in data { try daemon.send("single-\(c)", #"{"x":\#(json(row))}"#) }
            for start in stride(from: 0, to: data.count, by: 50) {
                try daemon.send("batch-\(c)", #"{"xs":[\#(data[start..<(start + 50)].map(json).joined(separator: ","))]}"#)
            }
        }
        try daemon.sync()
        for c in covariances {
            let single = try daemon.request(["cmd": "params", "model": "single-\(c)"])
            let batch = try daemon.request(["cmd": "params", "model": "batch-\(c)"])
            #expect(single["n"] as? Int == 600 && batch["n"] as? Int == 600, "\(c)")
            #expect(single["version"] as? Int == batch["version"] as? Int, "\(c)")
            #expect(NSDictionary(dictionary: single["params"] as! [String: Any])
                        .isEqual(to: batch["params"] as! [String: Any]), "\(c)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func binaryPayloadsLearnLikeJSON() throws {
        let data = clusterStream(count: 600)
        var results: [[String: Any]] = []
        for format in ["json", "f64le", "f32le"] {
            let daemon = try DaemonHarness(models: [learningModel(format: format)])
            try daemon.start()
            for start in stride(from: 0, to: data.count, by: 50) {
                let rows = Array(data[start..<(start + 50)])
                switch format {
                case "json":
                    try daemon.send("m", #"{"xs":[\#(rows.map(json).joined(separator: ","))]}"#)
                case "f64le":
                    var bytes: [UInt8] = []
                    for v in rows.joined() { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
                    try daemon.send(frames: [Array("m".utf8), bytes])
                default:
                    var bytes: [UInt8] = []
                    for v in rows.joined() { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { bytes += $0 } }
                    try daemon.send(frames: [Array("m".utf8), bytes])
                }
            }
            _ = try daemon.receive(timeout: 20_000) { $0.topic == "posterior/m" && $0.body["n"] as? Int == 600 }
            results.append(try daemon.request(["cmd": "params", "model": "m"]))
            #expect(daemon.stop() == 0)
        }
        #expect(results.allSatisfy { $0["n"] as? Int == 600 })
        // f64le carries the same doubles as the JSON text: identical learning, bit for bit.
        #expect(NSDictionary(dictionary: results[0]["params"] as! [String: Any])
                    .isEqual(to: results[1]["params"] as! [String: Any]))
    }
}
