import Foundation
import Testing

/// With `mode: frozen` and `init`, the daemon's posteriors must equal scikit-learn's
/// on the same parameters (Tests/LatentCoreTests/Fixtures/gmm_reference.json).
@Suite struct FrozenModelTests {
    static func referenceCases() throws -> [[String: Any]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../LatentCoreTests/Fixtures/gmm_reference.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return root["cases"] as! [[String: Any]]
    }

    @Test(arguments: 0..<4)
    func posteriorsEqualScikitLearn(_ index: Int) throws {
        let c = try Self.referenceCases()[index]
        let type = c["covariance_type"] as! String
        let model: [String: Any] = [
            "name": "frozen", "topic": "obs", "kind": "gmm", "dimensions": 3, "components": 3, "covariance": type,
            "learning": ["mode": "frozen"], "init": c["init"]!,
        ]
        let daemon = try DaemonHarness(models: [model])
        try daemon.start()
        let rows = (c["X"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        let expectedLL = (c["score_samples"] as! [NSNumber]).map(\.doubleValue)
        let expectedResp = (c["predict_proba"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        // Half as single observations, half as one batch: both shapes of SPEC §4.
        var worst = 0.0
        for (i, row) in rows.prefix(100).enumerated() {
            try daemon.send("obs", #"{"x":\#(json(row)),"id":\#(i)}"#)
            let out = try daemon.awaitPosterior(model: "frozen", id: "\(i)")
            let resp = (out.body["resp"] as! [NSNumber]).map(\.doubleValue)
            worst = max(worst, abs((out.body["loglik"] as! NSNumber).doubleValue - expectedLL[i]))
            worst = max(worst, zip(resp, expectedResp[i]).map { abs($0 - $1) }.max()!)
            #expect(out.body["label"] as? Int == expectedResp[i].indices.max { expectedResp[i][$0] < expectedResp[i][$1] })
        }
        let batch = rows.dropFirst(100).map(json).joined(separator: ",")
        try daemon.send("obs", #"{"xs":[\#(batch)],"id":"batch"}"#)
        let out = try daemon.awaitPosterior(model: "frozen", id: "batch")
        let logliks = (out.body["logliks"] as! [NSNumber]).map(\.doubleValue)
        let resps = (out.body["resps"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        #expect(logliks.count == 100 && resps.count == 100)
        for i in 0..<min(100, logliks.count) {
            worst = max(worst, abs(logliks[i] - expectedLL[100 + i]))
            worst = max(worst, zip(resps[i], expectedResp[100 + i]).map { abs($0 - $1) }.max()!)
        }
        #expect(worst < 1e-10, "\(type): largest deviation from scikit-learn \(worst)")
        #expect(out.body["n"] as? Int == 200)
        // Frozen: parameters never change.
        let params = try daemon.request(["cmd": "params", "model": "frozen"])
        #expect(params["version"] as? Int == 1)
        #expect(daemon.stop() == 0)
    }
}
