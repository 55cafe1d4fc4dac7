import Foundation
@testable import LatentDaemon
import Testing

/// Large JSON batches are parsed on a helper thread (ParseAhead.swift). Nothing
/// observable may change: the same posteriors, errors and parameters, in the order
/// the messages were sent.
@Suite struct ParseAheadTests {
    /// One stream to two models: `j` gets JSON (large batches go through the helper,
    /// interleaved with single observations, a bad large batch and a malformed small
    /// message, which must wait for the batches before them), `b` gets the same good
    /// rows as f64le in the same grouping (parsed inline). Every posterior of `j`
    /// comes back in sending order and equals `b`'s bit for bit, the two bad
    /// messages are counted, and both end with identical parameters.
    @Test func largeJSONBatchesKeepOrderErrorsAndBits() throws {
        let daemon = try DaemonHarness(models: [
            learningModel(name: "j", topic: "j", covariance: "diag"),
            learningModel(name: "b", topic: "b", covariance: "diag", format: "f64le"),
        ])
        try daemon.start()
        let data = clusterStream(count: 4_000, seed: 11)
        func f64le(_ rows: ArraySlice<[Double]>) -> [UInt8] {
            var bytes: [UInt8] = []
            for v in rows.joined() { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
            return bytes
        }
        var sent: [String] = []  // ids of the good JSON messages, in sending order
        var bad = 0, large = 0
        var start = 0, message = 0
        while start < data.count {
            message += 1
            let id = "m\(message)"
            if message % 5 == 0 {  // a single observation between batches (inline)
                try daemon.send("j", #"{"x":\#(json(data[start])),"id":"\#(id)"}"#)
                try daemon.send(frames: [Array("b".utf8), f64le(data[start..<(start + 1)])])
                sent.append(id)
                start += 1
                continue
            }
            let rows = data[start..<min(start + 250, data.count)]
            let text = #"{"xs":[\#(rows.map(json).joined(separator: ","))],"id":"\#(id)"}"#
            if rows.count == 250 { large += text.utf8.count >= ParseAhead.minimumPayload ? 1 : 0 }
            try daemon.send("j", text)
            try daemon.send(frames: [Array("b".utf8), f64le(rows)])
            sent.append(id)
            start += rows.count
            if message % 7 == 3 {  // a large batch with one row of three values: rejected whole
                var broken = rows.map(json)
                broken[100] = "[1,2,3]"
                try daemon.send("j", #"{"xs":[\#(broken.joined(separator: ","))],"id":"bad\#(message)"}"#)
                bad += 1
            }
            if message % 7 == 4 {  // malformed and small (inline, after the batches before it)
                try daemon.send("j", #"{"xs":[[1,2],"#)
                bad += 1
            }
        }
        var posteriors: [String: [[String: Any]]] = ["j": [], "b": []]
        var errors = 0
        let deadline = Date().addingTimeInterval(60)
        while (posteriors["j"]!.count < sent.count || posteriors["b"]!.count < sent.count || errors < bad),
              Date() < deadline {
            guard let out = try daemon.receive(timeout: 1_000) else { continue }
            switch out.topic {
            case "posterior/j": posteriors["j"]!.append(out.body)
            case "posterior/b": posteriors["b"]!.append(out.body)
            case "error/j": errors += 1
            default: break
            }
        }
        #expect(posteriors["j"]!.map { $0["id"] as? String ?? "" } == sent, "posteriors out of sending order")
        #expect(errors == bad && bad >= 4)
        #expect(large >= 12, "batches below the helper's threshold (ParseAhead.minimumPayload) test nothing")
        #expect(posteriors["b"]!.count == sent.count)
        var differing = 0
        for (p, q) in zip(posteriors["j"]!, posteriors["b"]!) {
            // A batch's "resps", a single observation's "resp": the same numbers either way.
            let a = (p["resps"] ?? p["resp"]) as? NSArray, b = (q["resps"] ?? q["resp"]) as? NSArray
            if a == nil || b == nil || !a!.isEqual(b!) || p["n"] as? Int != q["n"] as? Int { differing += 1 }
        }
        #expect(differing == 0, "\(differing) posteriors of the JSON model differ from the binary one's")
        let j = try daemon.request(["cmd": "params", "model": "j"]), b = try daemon.request(["cmd": "params", "model": "b"])
        #expect(j["n"] as? Int == data.count && b["n"] as? Int == data.count)
        #expect(NSDictionary(dictionary: j["params"] as! [String: Any]).isEqual(to: b["params"] as! [String: Any]))
        let status = try daemon.request(["cmd": "status"])
        let models = status["models"] as! [[String: Any]]
        #expect(models.first { $0["name"] as? String == "j" }?["rejected"] as? Int == bad)
        #expect(daemon.stop() == 0)
    }
}
