import Foundation
import LatentCore
import Testing

/// Learning quality through the real daemon (issue 3): one pass over 200
/// training sequences of 300 observations, ten live at a time, then the
/// held-out log-likelihood per observation from the control socket's `score`,
/// against hmmlearn's batch Baum–Welch (100 iterations, best of several
/// restarts) on exactly the same data (Tests/LatentCoreTests/Fixtures/
/// hmm_learning_reference.json; the data is drawn by HMMScenarios, which the
/// fixture script replicates draw for draw).
@Suite struct HMMLearningQualityTests {
    static func reference(_ scenario: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../LatentCoreTests/Fixtures/hmm_learning_reference.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return root[scenario] as! [String: Any]
    }

    /// Streams the training set (ten sequences interleaved, 30 observations per
    /// message) and returns the held-out log-likelihood per observation.
    static func learn(model: [String: Any], train: [[Double]], heldOut: [[Double]], width: Int,
                      encode: ([Double]) -> String) throws -> Double {
        let daemon = try DaemonHarness(models: [model])
        try daemon.start()
        let length = train[0].count / width
        for group in stride(from: 0, to: train.count, by: 10) {
            let live = group..<min(group + 10, train.count)
            for start in stride(from: 0, to: length, by: 30) {
                for i in live {
                    let rows = (start..<min(start + 30, length)).map { encode(Array(train[i][($0 * width)..<(($0 + 1) * width)])) }
                    let end = start + 30 >= length ? #","end":true"# : ""
                    try daemon.send("train", #"{"seq":"s\#(i)","xs":[\#(rows.joined(separator: ","))]\#(end)}"#)
                }
            }
        }
        try daemon.sync()
        var total = 0.0, count = 0
        for xs in heldOut {
            let rows: [Any] = stride(from: 0, to: xs.count, by: width).map { width == 1 ? Int(xs[$0]) as Any : Array(xs[$0..<($0 + width)]) as Any }
            let reply = try daemon.request(["cmd": "score", "model": "hmm", "xs": rows])
            #expect(reply["ok"] as? Bool == true, "\(reply)")
            total += number(reply["loglik"])
            count += rows.count
        }
        let status = try daemon.request(["cmd": "status"])
        let entry = (status["models"] as! [[String: Any]]).first { $0["name"] as? String == "hmm" } ?? [:]
        #expect(entry["n"] as? Int == train.count * length && entry["rejected"] as? Int == 0, "\(entry)")
        #expect(daemon.stop() == 0)
        return total / Double(count)
    }

    static var learning: [String: Any] { ["warmup": 600, "batch": 64, "alpha": 0.6, "n_init": 3] }

    /// Both online estimators: windowed forward–backward (the default) and
    /// Cappé's recursive one (noisier: it steps once per observation).
    @Test(arguments: ["windowed", "recursive"])
    func stickyGaussianOnePassIsWithinHmmlearn(_ estimator: String) throws {
        let ref = try Self.reference("sticky_gaussian")
        let truth = HMMScenarios.stickyGaussian()
        var learning = Self.learning
        learning["hmm_estimator"] = estimator
        // The recursive estimator steps once per observation, and the stream
        // brings 30 consecutive observations of one sequence at a time: with
        // alpha 0.6 those bursts pull S too far (held-out −3.25, two states
        // merged; −2.986 when the sequences alternate observation by
        // observation). A faster-decaying step suits it: alpha 0.8 gives −2.978.
        if estimator == "recursive" { learning["alpha"] = 0.8 }
        let model: [String: Any] = [
            "name": "hmm", "topic": "train", "kind": "hmm", "states": 3, "emission": "gaussian", "dimensions": 2,
            "covariance": "diag", "window": 32, "seed": 3, "learning": learning, "publish": ["posteriors": false],
        ]
        let ours = try Self.learn(model: model, train: HMMScenarios.trainingSet(truth), heldOut: HMMScenarios.heldOutSet(truth),
                                  width: 2, encode: json)
        let hmmlearn = number((ref["hmmlearn"] as? [String: Any])?["heldout_loglik_per_obs"])
        print("HMM quality, sticky Gaussian (\(estimator)): latentd one pass \(ours), hmmlearn Baum-Welch \(hmmlearn), true \(number(ref["true_heldout_loglik_per_obs"]))")
        #expect(ours > hmmlearn - 0.02, "one pass: \(ours), hmmlearn: \(hmmlearn)")
    }

    /// The casino's hidden state is worth only 0.011 nats per observation over a
    /// one-state model, so "within 0.02" alone would pass without learning it;
    /// the one pass must also close most of that gap.
    @Test func casinoOnePassIsWithinHmmlearn() throws {
        let ref = try Self.reference("casino")
        let truth = HMMScenarios.dishonestCasino()
        let model: [String: Any] = [
            "name": "hmm", "topic": "train", "kind": "hmm", "states": 2, "emission": "categorical", "symbols": 6,
            "window": 32, "seed": 3, "learning": Self.learning, "publish": ["posteriors": false],
        ]
        let ours = try Self.learn(model: model, train: HMMScenarios.trainingSet(truth), heldOut: HMMScenarios.heldOutSet(truth),
                                  width: 1, encode: { "\(Int($0[0]))" })
        let hmmlearn = number((ref["hmmlearn"] as? [String: Any])?["heldout_loglik_per_obs"])
        let oneState = number(ref["one_state_heldout_loglik_per_obs"])
        let closed = (ours - oneState) / (hmmlearn - oneState)
        print("HMM quality, casino: latentd one pass \(ours), hmmlearn Baum-Welch \(hmmlearn), one state \(oneState): \(Int(closed * 100))% of the gap closed")
        #expect(ours > hmmlearn - 0.02)
        #expect(closed > 0.8, "one pass closes \(closed) of the gap between one state and hmmlearn")
    }
}
