import LatentCore
import Testing
@testable import LatentDaemon

/// The hand-written memory sums behind `status`'s `heap_bytes` against the
/// reflective oracle (`ReflectiveHeapBytes`): equal for the learners and the HMM
/// sequences, which hold nearly all of a model's memory, after warm-up and learning
/// (the iterate, its spare and the averages exist then); and for the hosts within a
/// few hundred bytes (topics, names and config the hand-written sum leaves out). An
/// array added to a learner or a sequence and not to its sum fails here.
@Suite struct LearnerHeapBytesTests {
    static func model(_ body: String) throws -> ModelConfig {
        try DaemonConfig.parse(yaml: "models:\n  - {name: a, topic: a, \(body)}").models[0]
    }

    static func feed(_ handle: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void, _ payloads: [String]) {
        let topic: [UInt8] = Array("a".utf8)
        for payload in payloads {
            let bytes = Array(payload.utf8)
            bytes.withUnsafeBytes { p in topic.withUnsafeBytes { handle($0, p) } }
        }
    }

    /// The slack for the hosts: their topic arrays and the model's config.
    static let hostSlack = 512

    @Test(arguments: [
        "kind: gmm, dimensions: 3, components: 4, covariance: full, learning: {warmup: 40, batch: 8, averaging: true}",
        "kind: gmm, dimensions: 3, components: 4, covariance: diag, learning: {warmup: 40, batch: 8}",
        "kind: gmm, dimensions: 3, components: 2, covariance: tied, learning: {warmup: 40, batch: 8}",
    ])
    func mixtureSumsMatchTheOracle(body: String) throws {
        let host = try MixtureHost(config: try Self.model(body))
        var rng = Xoshiro256StarStar(seed: 9)
        let rows = (0..<200).map { i in "[\(Double(i % 4) * 3 + rng.normal()),\(rng.normal()),\(rng.normal())]" }
        let payloads = rows.map { #"{"x":\#($0)}"# } + [#"{"xs":[\#(rows[0..<50].joined(separator: ","))]}"#]
        Self.feed({ host.handle(topic: $0, payload: $1, sink: CountingSink(), now: 0) }, payloads)
        #expect(host.rejected == 0 && host.learner.model != nil)
        #expect(host.learner.heapBytes == ReflectiveHeapBytes.reachable(from: host.learner))
        let oracle = ReflectiveHeapBytes.reachable(from: host)
        #expect(host.heapBytes <= oracle && oracle <= host.heapBytes + Self.hostSlack, "host \(host.heapBytes), oracle \(oracle)")
    }

    @Test(arguments: [
        "kind: hmm, states: 3, dimensions: 2, covariance: diag, lag: 2, window: 8, learning: {warmup: 40, batch: 8}",
        "kind: hmm, states: 3, emission: categorical, symbols: 4, lag: 2, learning: {warmup: 40, batch: 8, hmm_estimator: recursive}",
    ])
    func hmmSumsMatchTheOracle(body: String) throws {
        let config = try Self.model(body)
        var rng = Xoshiro256StarStar(seed: 9)
        let gaussian = config.emission == .gaussian
        let payloads = (0..<300).map { i -> String in
            let x = gaussian ? "[\(Double(i / 20 % 3) * 3 + rng.normal()),\(rng.normal())]" : "\(Int(rng.uniform() * 4) % 4)"
            return #"{"seq":"s\#(i % 3)","x":\#(x)\#(i % 50 == 49 ? #","end":true"# : "")}"#
        }
        if gaussian {
            let host = try HMMHost<GaussianEmissions>(config: config)
            Self.feed({ host.handle(topic: $0, payload: $1, sink: CountingSink(), now: 0) }, payloads)
            check(host)
        } else {
            let host = try HMMHost<CategoricalEmissions>(config: config)
            Self.feed({ host.handle(topic: $0, payload: $1, sink: CountingSink(), now: 0) }, payloads)
            check(host)
        }
    }

    func check<E>(_ host: HMMHost<E>) {
        #expect(host.rejected == 0 && host.learner.model != nil)
        #expect(host.learner.heapBytes == ReflectiveHeapBytes.reachable(from: host.learner))
        for state in host.table.states { #expect(state.heapBytes == ReflectiveHeapBytes.reachable(from: state)) }
        let explicit = host.heapBytes(sequences: host.table.sequenceBytes().all)
        // The table's sequences are walked by the oracle; its key index is estimated by the
        // explicit sum and skipped by the oracle (a Dictionary's storage is not an array).
        let oracle = ReflectiveHeapBytes.reachable(from: host) + host.table.indexBytes
        #expect(explicit <= oracle && oracle <= explicit + Self.hostSlack, "host \(explicit), oracle \(oracle)")
    }
}
