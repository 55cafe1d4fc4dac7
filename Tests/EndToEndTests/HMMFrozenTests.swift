import Foundation
import LatentCore
import Testing

/// Frozen HMMs through the real daemon: interleaved sequences must give
/// hmmlearn's numbers (Tests/LatentCoreTests/Fixtures/hmm_reference.json).
@Suite struct HMMFrozenTests {
    static func fixture() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../LatentCoreTests/Fixtures/hmm_reference.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// The model config of a fixture case, frozen, with smoothing lag `lag`.
    static func modelConfig(_ c: [String: Any], lag: Int) -> [String: Any] {
        let params = c["params"] as! [String: Any]
        var model: [String: Any] = [
            "name": "hmm", "topic": "seq/", "kind": "hmm", "states": c["n_states"]!, "lag": lag,
            "learning": ["mode": "frozen"],
        ]
        if c["kind"] as? String == "categorical" {
            model["emission"] = "categorical"
            model["symbols"] = c["n_symbols"]!
            model["init"] = ["start": params["start"]!, "transitions": params["transitions"]!, "emissions": params["emissions"]!]
        } else {
            model["emission"] = "gaussian"
            model["dimensions"] = c["n_features"]!
            model["covariance"] = c["covariance_type"]!
            model["init"] = ["start": params["start"]!, "transitions": params["transitions"]!,
                             "means": params["means"]!, "covariances": params["covariances"]!]
        }
        return model
    }

    @Test(arguments: 0..<3)
    func interleavedSequencesEqualHmmlearn(_ index: Int) throws {
        let c = (try Self.fixture()["cases"] as! [[String: Any]])[index]
        let lag = 3
        let daemon = try DaemonHarness(models: [Self.modelConfig(c, lag: lag)])
        try daemon.start()
        let sequences = c["sequences"] as! [[Any]]
        let reference = c["per_sequence"] as! [[String: Any]]
        // Two copies of every sequence, interleaved observation by observation on
        // one topic, told apart by "seq" only: their results must not mix.
        var streams: [(seq: String, rows: [Any], ref: [String: Any])] = []
        for (i, rows) in sequences.enumerated() {
            for copy in 0..<2 { streams.append(("s\(i)-\(copy)", rows, reference[i])) }
        }
        let longest = streams.map(\.rows.count).max()!
        var sent = 0
        for t in 0..<longest {
            for s in streams where t < s.rows.count {
                let end = t == s.rows.count - 1 ? #","end":true"# : ""
                try daemon.send("seq/x", #"{"seq":"\#(s.seq)","x":\#(jsonValue(s.rows[t])),"id":"\#(s.seq)/\#(t)"\#(end)}"#)
                sent += 1
            }
        }
        var collector = OutputCollector(daemon)
        try collector.collect { c in c.viterbis.count == streams.count && c.posteriors.count == sent }
        let model = try Self.coreModel(c)
        var worst = 0.0
        for s in streams {
            let filtered = matrix(s.ref["filtered"])
            let predictive = doubles(s.ref["predictive_loglik"])
            let data = Self.flatten(s.rows)
            let width = data.count / s.rows.count
            for t in 0..<s.rows.count {
                guard let out = collector.posteriors["\(s.seq)/\(t)"] else { Issue.record("no posterior for \(s.seq)/\(t)"); continue }
                #expect(out["seq"] as? String == s.seq && out["t"] as? Int == t + 1)
                worst = max(worst, Self.deviation(doubles(out["filtered"]), filtered[t]))
                worst = max(worst, abs(number(out["loglik"]) - predictive[t]))
                // Fixed lag: p(z_{t+1−lag} | x_1..t+1), i.e. forward–backward on the prefix.
                if t + 1 > lag {
                    let smoothed = out["smoothed"] as? [String: Any] ?? [:]
                    #expect(smoothed["t"] as? Int == t + 1 - lag)
                    let prefix = Array(data[0..<((t + 1) * width)])
                    let gamma = model.expectedCounts([prefix]).posteriors[0]
                    let n = model.states, at = t - lag
                    worst = max(worst, Self.deviation(doubles(smoothed["p"]), Array(gamma[(at * n)..<((at + 1) * n)])))
                } else {
                    #expect(out["smoothed"] == nil)
                }
            }
            let v = collector.viterbis[s.seq] ?? [:]
            #expect(ints(v["path"]) == ints(s.ref["viterbi_path"]), "\(s.seq)")
            worst = max(worst, abs(number(v["loglik"]) - number(s.ref["loglik"])))
            #expect(v["t"] as? Int == s.rows.count && v["reason"] as? String == "end")
        }
        #expect(worst < 1e-9, "largest deviation from hmmlearn: \(worst)")
        // `score` of a whole sequence: smoothed posteriors and the Viterbi path.
        let reply = try daemon.request(["cmd": "score", "model": "hmm", "xs": sequences[0]])
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let smoothed = matrix(reply["smoothed"])
        let expected = matrix(reference[0]["posteriors"])
        #expect(smoothed.count == expected.count)
        #expect(zip(smoothed, expected).map { Self.deviation($0, $1) }.max() ?? 1 < 1e-9)
        #expect(ints(reply["path"]) == ints(reference[0]["viterbi_path"]))
        #expect(abs(number(reply["path_loglik"]) - number(reference[0]["viterbi_loglik"])) < 1e-9)
        let params = try daemon.request(["cmd": "params", "model": "hmm"])
        #expect(params["version"] as? Int == 1, "frozen: parameters never change")
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "hmm" }!
        #expect(entry["sequences"] as? Int == 0 && entry["sequences_ended"] as? Int == streams.count)
        #expect(daemon.stop() == 0)
    }

    /// A sequence sent as one `xs` batch is answered with arrays (SPEC §4) holding,
    /// entry by entry, what the same rows sent one message each get: the same `t`,
    /// filtered probabilities, label, log-likelihood and smoothed posterior, to the bit.
    @Test func batchAnswersLikeSingleMessages() throws {
        let c = (try Self.fixture()["cases"] as! [[String: Any]])[0]
        let daemon = try DaemonHarness(models: [Self.modelConfig(c, lag: 2)])
        try daemon.start()
        let rows = Array((c["sequences"] as! [[Any]])[0].prefix(12))
        for (t, x) in rows.enumerated() {
            try daemon.send("seq/x", #"{"seq":"single","x":\#(jsonValue(x)),"id":"single/\#(t)"}"#)
        }
        try daemon.send("seq/x", #"{"seq":"batch","xs":[\#(rows.map(jsonValue).joined(separator: ","))],"id":"batch"}"#)
        var collector = OutputCollector(daemon)
        try collector.collect { $0.posteriors.count == rows.count + 1 }
        let batch = collector.posteriors["batch"] ?? [:]
        #expect(ints(batch["ts"]) == Array(1...rows.count), "\(batch)")
        let filtereds = matrix(batch["filtereds"]), labels = ints(batch["labels"]), logliks = doubles(batch["logliks"])
        let smootheds = batch["smootheds"] as? [Any] ?? []
        #expect([filtereds.count, labels.count, logliks.count, smootheds.count] == Array(repeating: rows.count, count: 4), "\(batch)")
        for t in 0..<min(rows.count, filtereds.count, labels.count, logliks.count, smootheds.count) {
            let single = collector.posteriors["single/\(t)"] ?? [:]
            #expect(filtereds[t] == doubles(single["filtered"]), "t = \(t)")
            #expect(labels[t] == single["label"] as? Int && logliks[t] == number(single["loglik"]), "t = \(t)")
            let smoothed = smootheds[t] as? [String: Any], expected = single["smoothed"] as? [String: Any]
            #expect(smoothed?["t"] as? Int == expected?["t"] as? Int && doubles(smoothed?["p"]) == doubles(expected?["p"]), "t = \(t)")
        }
        #expect(daemon.stop() == 0)
    }

    /// The rainy/sunny example of Wikipedia's Viterbi article, by symbol name.
    @Test func wikipediaRainySunny() throws {
        let w = try Self.fixture()["wikipedia"] as! [String: Any]
        let params = w["params"] as! [String: Any]
        let model: [String: Any] = [
            "name": "weather", "topic": "weather", "kind": "hmm", "states": 2, "emission": "categorical",
            "symbols": ["walk", "shop", "clean"], "learning": ["mode": "frozen"],
            "init": ["start": params["start"]!, "transitions": params["transitions"]!, "emissions": params["emissions"]!],
        ]
        let daemon = try DaemonHarness(models: [model])
        try daemon.start()
        try daemon.send("weather", #"{"seq":"bob","x":"walk"}"#)
        try daemon.send("weather", #"{"seq":"bob","x":"shop"}"#)
        try daemon.send("weather", #"{"seq":"bob","x":"clean","end":true}"#)
        var collector = OutputCollector(daemon)
        try collector.collect { !$0.viterbis.isEmpty }
        let v = collector.viterbis["bob"] ?? [:]
        #expect(ints(v["path"]) == [1, 0, 0], "Sunny, Rainy, Rainy")
        #expect(abs(exp(number(v["loglik"])) - 0.033612) < 1e-12)
        let reply = try daemon.request(["cmd": "score", "model": "weather", "xs": ["walk", "shop", "clean"]])
        #expect(ints(reply["path"]) == [1, 0, 0])
        #expect(abs(exp(number(reply["path_loglik"])) - 0.01344) < 1e-12)
        #expect(abs(exp(number(reply["loglik"])) - 0.033612) < 1e-12)
        #expect(daemon.stop() == 0)
    }

    static func coreModel(_ c: [String: Any]) throws -> FixtureHMM {
        let params = c["params"] as! [String: Any]
        let start = doubles(params["start"]), transitions = matrix(params["transitions"]).flatMap { $0 }
        if c["kind"] as? String == "categorical" {
            let e = matrix(params["emissions"])
            let emissions = try CategoricalEmissions(states: start.count, symbols: e[0].count, probabilities: e.flatMap { $0 })
            return .categorical(try HiddenMarkovModel(start: start, transitions: transitions, emissions: emissions))
        }
        let type = CovarianceType(rawValue: c["covariance_type"] as! String)!
        let means = matrix(params["means"]).flatMap { $0 }
        let cov = flatten(params["covariances"] as! [Any])
        let emissions = try GaussianEmissions(states: start.count, means: means, covariances: cov, covarianceType: type)
        return .gaussian(try HiddenMarkovModel(start: start, transitions: transitions, emissions: emissions))
    }

    static func flatten(_ v: [Any]) -> [Double] {
        v.flatMap { item -> [Double] in
            if let list = item as? [Any] { return flatten(list) }
            return [(item as! NSNumber).doubleValue]
        }
    }

    static func deviation(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}

/// Either kind of fixture model, for the reference computations above.
enum FixtureHMM {
    case gaussian(HiddenMarkovModel<GaussianEmissions>)
    case categorical(HiddenMarkovModel<CategoricalEmissions>)

    var states: Int {
        switch self {
        case .gaussian(let m): return m.states
        case .categorical(let m): return m.states
        }
    }

    func expectedCounts(_ xs: [[Double]]) -> (logLikelihood: Double, posteriors: [[Double]]) {
        switch self {
        case .gaussian(let m): let r = m.expectedCounts(xs); return (r.logLikelihood, r.posteriors)
        case .categorical(let m): let r = m.expectedCounts(xs); return (r.logLikelihood, r.posteriors)
        }
    }
}

/// JSON values as Swift numbers (JSONSerialization gives NSNumber).
func doubles(_ any: Any?) -> [Double] {
    guard let list = any as? [Any] else { return [] }
    return list.compactMap { ($0 as? NSNumber)?.doubleValue }
}
func ints(_ any: Any?) -> [Int] {
    guard let list = any as? [Any] else { return [] }
    return list.compactMap { ($0 as? NSNumber)?.intValue }
}
func number(_ any: Any?) -> Double { (any as? NSNumber)?.doubleValue ?? .nan }
func matrix(_ any: Any?) -> [[Double]] { (any as? [Any])?.map(doubles) ?? [] }

/// A fixture observation (number or list of numbers) as JSON text.
func jsonValue(_ any: Any) -> String {
    if let list = any as? [Any] { return json(list.map { ($0 as! NSNumber).doubleValue }) }
    if let s = any as? String { return "\"\(s)\"" }
    return "\((any as! NSNumber).intValue)"
}

/// Gathers everything the daemon publishes, by kind, so that tests can wait
/// for a condition on all of it without dropping messages of other topics.
struct OutputCollector {
    let daemon: DaemonHarness
    var posteriors: [String: [String: Any]] = [:]
    var viterbis: [String: [String: Any]] = [:]
    var errors: [[String: Any]] = []
    var params: [[String: Any]] = []
    var viterbiList: [[String: Any]] = []

    init(_ daemon: DaemonHarness) { self.daemon = daemon }

    mutating func collect(timeout: Double = 30, until done: (OutputCollector) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(self) {
            guard Date() < deadline else { throw HarnessError("timed out; have \(posteriors.count) posteriors, \(viterbis.count) viterbis, \(errors.count) errors") }
            guard let out = try daemon.receive(timeout: 200) else { continue }
            switch out.topic.split(separator: "/").first {
            case "posterior":
                if let id = out.body["id"] { posteriors["\(id)"] = out.body }
            case "viterbi":
                viterbis[out.body["seq"] as? String ?? ""] = out.body
                viterbiList.append(out.body)
            case "error": errors.append(out.body)
            case "params": params.append(out.body)
            default: break
            }
        }
    }
}
