import Foundation
import Testing

/// SPEC: a message goes to every model whose topic prefix its topic starts with.
@Suite struct RoutingTests {
    @Test func aMessageReachesEveryModelWhosePrefixMatches() throws {
        let daemon = try DaemonHarness(models: [
            learningModel(name: "a", topic: "sensors/"), learningModel(name: "b", topic: "sensors/room1"),
        ])
        try daemon.start()
        let row = #"{"x":[1.0,2.0],"id":"#
        try daemon.send("sensors/room1/t", row + #""r1"}"#)
        var seen: Set<String> = []
        while seen.count < 2, let out = try daemon.receive(timeout: 10_000, where: { $0.topic.hasPrefix("posterior/") }) {
            if out.body["id"] as? String == "r1" { seen.insert(out.topic) }
        }
        #expect(seen == ["posterior/a", "posterior/b"])

        try daemon.send("sensors/hall", row + #""hall"}"#)
        try daemon.send("elsewhere", row + #""nowhere"}"#)  // no model subscribes: never received
        // A framing error is charged to the first model whose prefix matches.
        try daemon.send(frames: [Array(#"sensors/room1{"x":[1,2]}"#.utf8)])
        let framing = try daemon.receive(timeout: 10_000) { $0.topic.hasPrefix("error/") }
        #expect(framing?.topic == "error/a")
        let reason = framing?.body["error"] as? String ?? ""
        #expect(reason.contains("topic payload"), "\(reason)")

        try daemon.sync()
        let status = try daemon.request(["cmd": "status"])
        let models = status["models"] as! [[String: Any]]
        func entry(_ name: String) -> [String: Any] { models.first { $0["name"] as? String == name } ?? [:] }
        #expect(entry("a")["n"] as? Int == 2 && entry("b")["n"] as? Int == 1, "\(models)")
        #expect(entry("a")["rejected"] as? Int == 1 && entry("b")["rejected"] as? Int == 0)
        #expect(daemon.stop() == 0)
    }
}
