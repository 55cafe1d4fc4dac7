import Foundation
import Testing

/// SPEC: bad input gets a clear error, is counted, and changes nothing.
@Suite struct BadInputTests {
    /// (frames, words the error must contain)
    static let battery: [([[UInt8]], String)] = {
        func f(_ topic: String, _ payload: String) -> [[UInt8]] { [Array(topic.utf8), Array(payload.utf8)] }
        return [
            (f("m", #"{"x":[1.0,2.0"#), "malformed"),
            (f("m", #"{"x":[1.0,2.0,3.0]}"#), "2"),
            (f("m", #"{"x":[1.0,1e999]}"#), "finite"),
            (f("m", #"{"x":[NaN,1.0]}"#), "malformed"),
            (f("m", #"{"xs":[[1.0,2.0],[3.0]]}"#), "xs[1]"),
            (f("m", #"{"x":[1,2],"colour":"red"}"#), "colour"),
            (f("m", #"{"x":[1,2],"xs":[[1,2]]}"#), "x"),
            (f("m", #"{"y":[1,2]}"#), "y"),
            (f("m", "not json at all"), "malformed"),
            (f("m", #"{"xs":[]}"#), "empty"),
            (f("m", ""), "empty"),
            ([Array("m".utf8), Array(#"{"x":[1,2]}"#.utf8), Array("extra".utf8)], "3 frames"),
            ([Array(#"m{"x":[1,2]}"#.utf8)], "topic payload"),
            ([Array("bin".utf8), [UInt8](repeating: 0, count: 12)], "12"),
            ([Array("bin".utf8), [UInt8](repeating: 0xFF, count: 16)], "NaN"),
        ]
    }()

    @Test func eachBadInputIsExplainedAndChangesNothing() throws {
        let binary: [String: Any] = learningModel(name: "bin", topic: "bin", format: "f64le")
        let data = clusterStream(count: 400)
        var outcomes: [[String: Any]] = []
        for withGarbage in [false, true] {
            let daemon = try DaemonHarness(models: [learningModel(), binary])
            try daemon.start()
            for (i, row) in data.enumerated() {
                if withGarbage, i % 25 == 0, i / 25 < Self.battery.count {
                    let (frames, words) = Self.battery[i / 25]
                    try daemon.send(frames: frames)
                    let error = try daemon.receive(timeout: 10_000) { $0.topic.hasPrefix("error/") }
                    #expect(error != nil, "no error message for bad input #\(i / 25)")
                    if let error {
                        let text = error.body["error"] as? String ?? ""
                        #expect(text.contains(words), "bad input #\(i / 25): error \"\(text)\" should mention \(words)")
                        #expect(error.body["count"] as? Int == i / 25 + 1 || error.topic == "error/bin")
                    }
                }
                try daemon.send("m", #"{"x":\#(json(row)),"id":\#(i)}"#)
            }
            try daemon.awaitPosterior(model: "m", id: "399")
            let status = try daemon.request(["cmd": "status"])
            #expect(status["rejected"] as? Int == (withGarbage ? Self.battery.count : 0))
            outcomes.append(try daemon.request(["cmd": "params", "model": "m"]))
            #expect(daemon.stop() == 0)
        }
        #expect(outcomes[0]["n"] as? Int == 400 && outcomes[1]["n"] as? Int == 400)
        #expect(outcomes[0]["version"] as? Int == outcomes[1]["version"] as? Int)
        #expect(NSDictionary(dictionary: outcomes[0]["params"] as! [String: Any]).isEqual(to: outcomes[1]["params"] as! [String: Any]),
                "garbage changed the learned parameters")
    }

    /// A categorical HMM with a binary format reads symbol indices as floats: a
    /// value that is no index of the alphabet used to crash the daemon.
    @Test func categoricalBinaryRefusesValuesThatAreNoSymbolIndex() throws {
        let model: [String: Any] = ["name": "cat", "topic": "cat", "kind": "hmm", "states": 2, "emission": "categorical",
                                    "symbols": 3, "format": "f64le", "learning": ["warmup": 4]]
        let daemon = try DaemonHarness(models: [model])
        try daemon.start()
        func frame(_ values: [Double]) -> [[UInt8]] {
            [Array("cat".utf8), values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }]
        }
        try daemon.send(frames: frame([0, 1, 2, 1, 0, 2]))
        for bad in [7.5, 3, -1, 1e20, 0.5] {
            try daemon.send(frames: frame([1, bad]))
            let error = try daemon.receive(timeout: 10_000) { $0.topic == "error/cat" }
            let text = error?.body["error"] as? String ?? ""
            #expect(text.contains("symbol index in 0..<3"), "\(bad): \(text)")
        }
        try daemon.send(frames: frame([2]))
        #expect(try daemon.receive(timeout: 10_000) { $0.topic == "posterior/cat" && $0.body["label"] is Int } != nil)
        let status = try daemon.request(["cmd": "status"])
        #expect(status["rejected"] as? Int == 5, "\(status)")
        #expect(daemon.stop() == 0)
    }

    @Test func malformedControlRequestsGetOkFalse() throws {
        let daemon = try DaemonHarness(models: [learningModel()])
        try daemon.start()
        for (request, words) in [
            ("not json", "JSON"), (#"{"cmd":"launch"}"#, "unknown cmd"), (#"{"cmd":"params"}"#, "model"),
            (#"{"cmd":"params","model":"nope"}"#, "nope"), (#"{"nocmd":1}"#, "cmd"), ("[1,2]", "object"),
            (#"{"cmd":"score","model":"m","x":[1]}"#, "2"), (#"{"cmd":"score","model":"m"}"#, "x"),
        ] {
            let reply = try daemon.requestRaw(request)
            #expect(reply["ok"] as? Bool == false, "\(request) → \(reply)")
            #expect((reply["error"] as? String ?? "").contains(words), "\(request) → \(reply)")
        }
        #expect(try daemon.request(["cmd": "status"])["ok"] as? Bool == true)
        #expect(daemon.stop() == 0)
    }
}
