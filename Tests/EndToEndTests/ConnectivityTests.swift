import Foundation
import Testing

/// An oversized message must not cut the daemon off its producer. libzmq 4.3
/// drops the connection on a ZMQ_MAXMSGSIZE violation and, on a connecting
/// socket, never reconnects by itself; the daemon watches its socket monitor
/// and reconnects.
@Suite struct ConnectivityTests {
    @Test(arguments: [false, true])
    func oversizedMessageDoesNotCutTheProducerOff(inputConnect: Bool) throws {
        let daemon = try DaemonHarness(models: [learningModel()], inputConnect: inputConnect, maxMessageSize: 1_000)
        try daemon.start()
        try daemon.send("m", #"{"x":[1,2],"id":"before"}"#)
        try daemon.awaitPosterior(model: "m", id: "before")
        let huge = #"{"x":[1,2],"id":"\#(String(repeating: "z", count: 2_000))"}"#
        try daemon.send("m", huge)
        // The daemon reports the dropped connection on error/input.
        let report = try daemon.receive(timeout: 10_000) { $0.topic == "error/input" }
        let reason = report?.body["error"] as? String ?? ""
        #expect(reason.contains("max_message_size"), "error/input said: \(reason)")
        // Delivery resumes: keep sending until a posterior comes back (bounded).
        var delivered = false
        for i in 0..<200 where !delivered {
            try daemon.send("m", #"{"x":[1,2],"id":"after-\#(i)"}"#)
            delivered = try daemon.receive(timeout: 50) { ($0.body["id"] as? String ?? "").hasPrefix("after-") } != nil
        }
        #expect(delivered, "the producer was cut off after an oversized message (input.\(inputConnect ? "connect" : "bind"))\n\(daemon.log())")
        #expect(daemon.stop() == 0)
    }
}
