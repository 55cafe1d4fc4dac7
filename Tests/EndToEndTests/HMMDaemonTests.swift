import Foundation
import LatentCore
import Testing

/// A learning HMM through the real daemon: restarts, sequence lifecycle, bad
/// input, warm-up, and many concurrent sequences.
@Suite struct HMMDaemonTests {
    /// `count` regime-switching 2-D sequences: the state flips with probability
    /// 0.05 per step between means (0,0) and (4,4).
    static func regimeSequences(count: Int, length: Int, seed: UInt64 = 9) -> [[[Double]]] {
        var rng = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in
            var state = 0
            return (0..<length).map { _ in
                if rng.uniform() < 0.05 { state = 1 - state }
                let m = state == 0 ? 0.0 : 4.0
                return [m + rng.normal(), m + rng.normal()]
            }
        }
    }

    static func model(_ extra: [String: Any] = [:], learning: [String: Any] = [:]) -> [String: Any] {
        var l: [String: Any] = ["batch": 16, "warmup": 60]
        for (k, v) in learning { l[k] = v }
        var m: [String: Any] = [
            "name": "h", "topic": "h", "kind": "hmm", "states": 2, "emission": "gaussian", "dimensions": 2,
            "covariance": "diag", "lag": 2, "window": 8, "seed": 4, "learning": l, "publish": ["params_every": 1],
        ]
        for (k, v) in extra { m[k] = v }
        return m
    }

    static var initial: [String: Any] { [
        "start": [0.5, 0.5], "transitions": [[0.9, 0.1], [0.1, 0.9]],
        "means": [[0.5, 0.5], [3.0, 3.5]], "covariances": [[1.5, 1.5], [1.5, 1.5]],
    ] }

    /// Interleaves the sequences' observations from step `from` to `to`, ending
    /// each at its last observation; ids are "<seq>/<t>".
    static func feed(_ daemon: DaemonHarness, _ sequences: [[[Double]]], steps: Range<Int>) throws -> [String] {
        var ids: [String] = []
        for t in steps {
            for (i, rows) in sequences.enumerated() where t < rows.count {
                let end = t == rows.count - 1 ? #","end":true"# : ""
                try daemon.send("h", #"{"seq":"q\#(i)","x":\#(json(rows[t])),"id":"q\#(i)/\#(t)"\#(end)}"#)
                ids.append("q\(i)/\(t)")
            }
        }
        return ids
    }

    /// For each estimator: windowed forward–backward, Cappé's recursive one, and
    /// hard (Viterbi training).
    @Test(arguments: [["hmm_estimator": "windowed"], ["hmm_estimator": "recursive"], ["estimator": "hard"]])
    func restartMidSequenceContinuesBitForBit(_ estimator: [String: String]) throws {
        let data = Self.regimeSequences(count: 4, length: 150)
        let config = Self.model(["init": Self.initial], learning: estimator)
        let reference = try DaemonHarness(models: [config])
        try reference.start()
        let ids = try Self.feed(reference, data, steps: 0..<150)
        var expected = OutputCollector(reference)
        try expected.collect { $0.posteriors.count == ids.count && $0.viterbis.count == 4 }
        let expectedParams = try reference.request(["cmd": "params", "model": "h"])
        #expect(reference.stop() == 0)

        let interrupted = try DaemonHarness(models: [config])
        try interrupted.start()
        let first = try Self.feed(interrupted, data, steps: 0..<77)  // mid window, mid mini-batch
        var before = OutputCollector(interrupted)
        try before.collect { $0.posteriors.count == first.count }
        #expect(interrupted.stop(signal: SIGTERM) == 0)
        let newest = interrupted.checkpointFiles(model: "h").last ?? "none"
        let (code, inspected) = try runLatentd(["inspect", "\(interrupted.stateDir)/\(newest)"])
        let state = (try? JSONSerialization.jsonObject(with: Data(inspected.utf8)) as? [String: Any])?["state"] as? [String: Any]
        #expect(code == 0 && state?["kind"] as? String == "hmm" && state?["live_sequences"] as? Int == 4, "\(inspected)")
        try interrupted.start()
        let status = try interrupted.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "h" } ?? [:]
        #expect(entry["sequences"] as? Int == 4, "in-flight sequences survive the restart")
        let rest = try Self.feed(interrupted, data, steps: 77..<150)
        var after = OutputCollector(interrupted)
        try after.collect { $0.posteriors.count == rest.count && $0.viterbis.count == 4 }
        for id in first + rest {
            let got = before.posteriors[id] ?? after.posteriors[id] ?? [:]
            #expect(canonical(got) == canonical(expected.posteriors[id] ?? [:]), "posterior \(id) differs after the restart")
        }
        for (seq, v) in expected.viterbis {
            #expect(canonical(after.viterbis[seq] ?? [:]) == canonical(v), "Viterbi of \(seq) differs")
        }
        let resumed = try interrupted.request(["cmd": "params", "model": "h"])
        #expect(canonical(resumed) == canonical(expectedParams), "parameters differ from the uninterrupted run")
        #expect((expectedParams["version"] as? Int ?? 0) > 10, "the model learned")
        #expect(interrupted.stop() == 0)
    }

    /// Unknown symbols, indices out of range, wrong shapes, `end` for an unknown
    /// sequence: each explained on error/, counted, and nothing else changes.
    @Test func badInputIsExplainedAndChangesNothing() throws {
        let symbols: [String: Any] = [
            "name": "c", "topic": "c", "kind": "hmm", "states": 2, "emission": "categorical", "symbols": ["H", "T"],
            "learning": ["batch": 4, "warmup": 10],
            "init": ["start": [0.5, 0.5], "transitions": [[0.8, 0.2], [0.3, 0.7]], "emissions": [[0.5, 0.5], [0.9, 0.1]]],
        ]
        let garbage: [(String, String, String)] = [
            ("c", #"{"seq":"a","x":"Q"}"#, "Q"),
            ("c", #"{"seq":"a","x":2}"#, "2"),
            ("c", #"{"seq":"a","x":-1}"#, "-1"),
            ("c", #"{"seq":"a","x":[0,1]}"#, "x"),
            ("c", #"{"seq":"ghost","end":true}"#, "ghost"),
            ("c", #"{"seq":"a","x":"H","extra":1}"#, "extra"),
            ("h", #"{"seq":"a","x":[1,2,3]}"#, "x must have 2 values"),
            ("h", #"{"seq":"a","x":[1,NaN]}"#, "malformed JSON"),
            ("h", #"{"seq":"a","x":[1,1e999]}"#, "finite"),
            ("h", #"{"seq":7,"x":[1,1]}"#, "seq"),
            ("h", #"{"seq":"ghost","end":true}"#, "ghost"),
        ]
        let flips = "HTHHTTTHTHHHHTHTTHTHHTHT".map(String.init)
        let data = Self.regimeSequences(count: 1, length: 40)[0]
        func run(withGarbage: Bool) throws -> (params: [[String: Any]], posteriors: [String: [String: Any]], errors: [[String: Any]]) {
            let daemon = try DaemonHarness(models: [symbols, Self.model(["init": Self.initial])])
            try daemon.start()
            for (t, flip) in flips.enumerated() {
                try daemon.send("c", #"{"seq":"a","x":"\#(flip)","id":"c\#(t)"}"#)
                try daemon.send("h", #"{"seq":"a","x":\#(json(data[t])),"id":"h\#(t)"}"#)
                if withGarbage { let g = garbage[t % garbage.count]; try daemon.send(g.0, g.1) }
            }
            var c = OutputCollector(daemon)
            try c.collect { $0.posteriors.count == 2 * flips.count && $0.errors.count == (withGarbage ? flips.count : 0) }
            let params = [try daemon.request(["cmd": "params", "model": "c"]), try daemon.request(["cmd": "params", "model": "h"])]
            let status = try daemon.request(["cmd": "status"])
            let rejected = (status["models"] as! [[String: Any]]).map { $0["rejected"] as? Int ?? -1 }
            #expect(rejected.reduce(0, +) == (withGarbage ? flips.count : 0))
            #expect(daemon.stop() == 0)
            return (params, c.posteriors, c.errors)
        }
        let clean = try run(withGarbage: false)
        let dirty = try run(withGarbage: true)
        for (a, b) in zip(clean.params, dirty.params) {
            #expect(canonical(a) == canonical(b), "garbage changed the parameters")
        }
        for (id, p) in clean.posteriors {
            #expect(canonical(p) == canonical(dirty.posteriors[id] ?? [:]), "garbage changed posterior \(id)")
        }
        for (i, error) in dirty.errors.enumerated() {
            let reason = error["error"] as? String ?? ""
            let expected = garbage[i % garbage.count]
            #expect(error["topic"] as? String == expected.0)
            #expect(reason.contains(expected.2), "\(expected.1) → \(reason)")
        }
    }

    /// A categorical HMM fed f64le carries symbol indices as numbers: 99, 0.5 and
    /// -1 are refused by name (they once indexed past the emission table and killed
    /// the daemon); the valid messages around them are labelled and learned.
    @Test func binarySymbolIndicesAreChecked() throws {
        let model: [String: Any] = [
            "name": "c", "topic": "c", "kind": "hmm", "states": 2, "emission": "categorical", "symbols": 2,
            "format": "f64le", "learning": ["mode": "frozen"],
            "init": ["start": [0.5, 0.5], "transitions": [[0.8, 0.2], [0.3, 0.7]], "emissions": [[0.5, 0.5], [0.9, 0.1]]],
        ]
        let daemon = try DaemonHarness(models: [model])
        try daemon.start()
        func bytes(_ values: [Double]) -> [UInt8] {
            var out: [UInt8] = []
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
            return out
        }
        let messages: [[Double]] = [[0, 1], [99], [1, 0.5], [-1], [1, 0, 0]]
        for m in messages { try daemon.send(frames: [Array("c".utf8), bytes(m)]) }
        var c = OutputCollector(daemon)
        try c.collect { $0.errors.count == 3 }
        let reasons = c.errors.map { $0["error"] as? String ?? "" }
        #expect(reasons[0].contains("0..<2") && reasons[0].contains("99"), "\(reasons)")
        #expect(reasons[1].contains("value 1") && reasons[1].contains("0.5"), "\(reasons)")
        #expect(reasons[2].contains("-1"), "\(reasons)")
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "c" } ?? [:]
        #expect(entry["n"] as? Int == 5 && entry["rejected"] as? Int == 3, "\(entry)")
        #expect(daemon.stop() == 0)
    }

    @Test func sequencesEndByResetTimeoutAndEviction() throws {
        let daemon = try DaemonHarness(models: [Self.model(["init": Self.initial, "max_sequences": 3, "sequence_timeout": "300ms"])])
        try daemon.start()
        for seq in ["a", "b", "c"] { try daemon.send("h", #"{"seq":"\#(seq)","x":[0,0]}"#) }
        try daemon.send("h", #"{"seq":"b","x":[4,4],"reset":true,"id":"b-again"}"#)
        try daemon.send("h", #"{"seq":"d","x":[0,0]}"#)  // a fourth: "a" is the least recently used
        var c = OutputCollector(daemon)
        try c.collect { c in Set(c.viterbiList.compactMap { $0["seq"] as? String }) == ["a", "b", "c", "d"] && c.viterbiList.count == 5 }
        let reasons = c.viterbiList.map { "\($0["seq"]!):\($0["reason"]!):\($0["t"]!)" }
        #expect(reasons.prefix(2) == ["b:reset:1", "a:evicted:1"], "\(reasons)")
        #expect(Set(reasons.dropFirst(2)) == ["c:timeout:1", "b:timeout:1", "d:timeout:1"], "\(reasons)")
        #expect(c.posteriors["b-again"]?["t"] as? Int == 1, "reset starts a new sequence")
        #expect(c.errors.count == 1 && (c.errors.first?["error"] as? String ?? "").contains("\"a\" evicted"))
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "h" } ?? [:]
        #expect(entry["sequences"] as? Int == 0 && entry["sequences_evicted"] as? Int == 1 && entry["sequences_timed_out"] as? Int == 3)
        #expect(entry["rejected"] as? Int == 0, "an eviction is reported on error/ but is not a rejected input")
        #expect(daemon.stop() == 0)
    }

    /// A restart with a lower `max_sequences` keeps every in-flight sequence from
    /// the checkpoint; the next new sequence evicts the oldest until the table fits.
    @Test func loweredMaxSequencesEvictsAfterRestart() throws {
        let daemon = try DaemonHarness(models: [Self.model(["init": Self.initial, "max_sequences": 5])])
        try daemon.start()
        for seq in ["a", "b", "c", "d", "e"] { try daemon.send("h", #"{"seq":"\#(seq)","x":[0,0],"id":"\#(seq)"}"#) }
        var first = OutputCollector(daemon)
        try first.collect { $0.posteriors.count == 5 }
        #expect(daemon.stop() == 0)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: daemon.configPath))) as! [String: Any]
        var models = config["models"] as! [[String: Any]]
        models[0]["max_sequences"] = 2
        config["models"] = models
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: daemon.configPath))
        try daemon.start()
        let restored = try daemon.request(["cmd": "status"])
        #expect(((restored["models"] as! [[String: Any]]).first { $0["name"] as? String == "h" })?["sequences"] as? Int == 5)
        try daemon.send("h", #"{"seq":"f","x":[0,0],"id":"f"}"#)
        var c = OutputCollector(daemon)
        try c.collect { $0.posteriors["f"] != nil && $0.viterbiList.count == 4 }
        #expect(c.viterbiList.map { $0["seq"] as? String ?? "" } == ["a", "b", "c", "d"])
        #expect(c.viterbiList.allSatisfy { $0["reason"] as? String == "evicted" })
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "h" } ?? [:]
        #expect(entry["sequences"] as? Int == 2 && entry["sequences_evicted"] as? Int == 4, "\(entry)")
        #expect(daemon.stop() == 0)
    }

    /// Without `init`: posteriors say warmup until `warmup` observations have
    /// arrived; then the first model exists, the sequences seen so far carry
    /// on (their `t` keeps counting) and params are published.
    @Test func warmupThenLearning() throws {
        let data = Self.regimeSequences(count: 3, length: 120, seed: 21)
        let daemon = try DaemonHarness(models: [Self.model()])
        try daemon.start()
        let ids = try Self.feed(daemon, data, steps: 0..<120)
        var c = OutputCollector(daemon)
        try c.collect { $0.posteriors.count == ids.count && $0.viterbis.count == 3 }
        #expect(c.posteriors["q0/0"]?["warmup"] as? Bool == true)
        #expect(c.posteriors["q2/19"]?["warmup"] as? Bool == true, "60 observations of warm-up over 3 sequences")
        let later = c.posteriors["q1/100"] ?? [:]
        #expect(later["warmup"] == nil && later["t"] as? Int == 101 && doubles(later["filtered"]).count == 2)
        #expect(ints(c.viterbis["q0"]?["path"]).count == 120, "the path covers the warm-up observations too")
        let params = c.params.last?["params"] as? [String: Any] ?? [:]
        let means = matrix(params["means"]).sorted { $0[0] < $1[0] }
        #expect(means.count == 2 && abs(means[0][0]) < 0.5 && abs(means[1][0] - 4) < 0.5, "\(means)")
        #expect(daemon.stop() == 0)
    }

    /// 100,000 live sequences at once stay within bounded memory; the figure
    /// in the README comes from this test's log line.
    @Test func hundredThousandConcurrentSequences() throws {
        let count = 100_000
        let daemon = try DaemonHarness(models: [Self.model(["init": Self.initial, "max_sequences": count],
                                                           learning: ["batch": 64]).merging(["publish": ["posteriors": false]]) { $1 }])
        try daemon.start()
        let before = residentBytes(daemon)
        for chunk in stride(from: 0, to: count, by: 5_000) {
            for i in chunk..<(chunk + 5_000) { try daemon.send("h", #"{"seq":"sequence-\#(i)","x":[\#(i % 5),1]}"#) }
            try daemon.sync()  // the producer's queue must not overflow (PUB drops at its HWM)
        }
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "h" } ?? [:]
        #expect(entry["sequences"] as? Int == count && entry["sequences_evicted"] as? Int == 0, "\(entry)")
        // The model's heap bytes include every live sequence's.
        #expect((entry["heap_bytes"] as? Int ?? 0) >= (entry["sequence_bytes"] as? Int ?? .max), "\(entry)")
        let after = residentBytes(daemon)
        let perSequence = Double(after - before) / Double(count)
        print("HMM scale: \(count) live sequences (N=2, D=2, lag 2, window 8): RSS \(before / 1_048_576) MiB → \(after / 1_048_576) MiB, \(Int(perSequence)) bytes per sequence; tracked state \(entry["sequence_bytes"] ?? 0) bytes, heap_bytes \(entry["heap_bytes"] ?? 0)")
        #expect(perSequence < 4_096, "state per sequence should be a few hundred bytes")
        try daemon.send("h", #"{"seq":"one-more","x":[1,1]}"#)  // the 100,001st evicts the oldest
        var c = OutputCollector(daemon)
        try c.collect { !$0.errors.isEmpty }
        #expect((c.errors[0]["error"] as? String ?? "").contains("\"sequence-0\" evicted"))
        #expect(daemon.stop() == 0)
    }
}

/// Key-sorted JSON text: two outputs are equal iff their texts are (doubles are
/// printed in shortest round-trip form, so equal text means equal bits).
func canonical(_ object: [String: Any]) -> String {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "?"
}

/// Resident set size of the daemon process, from /proc.
func residentBytes(_ daemon: DaemonHarness) -> Int {
    guard let pid = daemon.process?.processIdentifier,
          let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
}
