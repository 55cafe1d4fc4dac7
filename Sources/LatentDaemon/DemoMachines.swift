import Foundation
import LatentCore
import ZeroMQ

/// The sequence-labeling half of `latentd demo`: machines that switch between
/// regimes (idle, running, fault), each machine one sequence (`seq` = its id)
/// of 2-D readings, all interleaved on one topic and learned online by a
/// `kind: hmm` model.
///
/// The true regimes are drawn here, so the demo can say how well the three
/// kinds of labels the daemon publishes recover them: the filtered label of
/// each reading (at once), the fixed-lag smoothed one (`lag` readings later)
/// and the Viterbi path (when the machine's sequence ends). The readings of
/// neighbouring regimes overlap, so a single reading is often ambiguous and
/// the temporal structure visibly helps.
struct DemoMachines {
    static let regimes = ["idle", "running", "fault"]
    static let topic = "machines"
    static let model = "machines"
    static let lag = 5

    /// The `models:` entry of the demo's config.
    static let yamlEntry = """
          - {name: \(model), topic: \(topic), kind: hmm, states: 3, emission: gaussian, dimensions: 2, covariance: diag,
             lag: \(lag), window: 32, seed: 7, learning: {warmup: 600, batch: 32}, publish: {params_every: 1000}}
        """

    /// Sticky regimes; a fault is rare, short, and mostly ends in idle (repair).
    /// Readings are (temperature °C, vibration mm/s). With these parameters the
    /// true model labels about 97 % of readings right when filtering and 99 %
    /// when smoothing (checked with hmmlearn on sequences like these).
    static func truth() -> HiddenMarkovModel<GaussianEmissions> {
        let emissions = try! GaussianEmissions(
            states: 3,
            means: [40, 1.0, 46, 2.0, 52, 3.5],
            covariances: [9, 0.25, 9, 0.36, 16, 1.0],
            covarianceType: .diag)
        return try! HiddenMarkovModel(
            start: [0.5, 0.45, 0.05],
            transitions: [0.96, 0.035, 0.005, 0.03, 0.96, 0.01, 0.08, 0.02, 0.90],
            emissions: emissions)
    }

    let machines: Int
    /// Per machine: readings row-major (2 per observation) and true regimes.
    let readings: [[Double]]
    let regimesByMachine: [[Int]]
    let total: Int
    private var sentPerMachine: [Int]
    private var cursor = 0
    private(set) var sent = 0
    private(set) var posteriors = 0
    private(set) var paths = 0
    /// Posteriors that came back during the warm-up (no label yet).
    private(set) var warmupReadings = 0
    /// Confusion counts [learned state][true regime] per kind of label.
    private var filtered: [[Int]]
    private var smoothed: [[Int]]
    private var viterbi: [[Int]]

    init(machines: Int, seed: UInt64) {
        self.machines = machines
        let model = Self.truth()
        var rng = Xoshiro256StarStar(seed: seed)
        var readings: [[Double]] = [], regimes: [[Int]] = []
        for i in 0..<machines {
            // Unequal lengths, so the sequences end (and their paths come out) at different times.
            let (xs, zs) = model.sample(length: 400 + 40 * (i % 6), rng: &rng)
            readings.append(xs)
            regimes.append(zs)
        }
        self.readings = readings
        regimesByMachine = regimes
        total = regimes.reduce(0) { $0 + $1.count }
        sentPerMachine = [Int](repeating: 0, count: machines)
        let n = Self.regimes.count
        filtered = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        smoothed = filtered
        viterbi = filtered
    }

    /// Every reading labelled and every sequence's Viterbi path received.
    var finished: Bool { posteriors >= total && paths >= machines }

    static func id(_ machine: Int) -> String { "m\(machine + 1)" }

    /// Sends readings round-robin over the machines that have some left until
    /// `fraction` of all readings are out; a machine's last reading ends its sequence.
    mutating func send(upTo fraction: Double, on producer: Socket) throws {
        let due = min(total, Int(fraction * Double(total)))
        while sent < due {
            while sentPerMachine[cursor] >= regimesByMachine[cursor].count { cursor = (cursor + 1) % machines }
            let m = cursor, t = sentPerMachine[m]
            let end = t + 1 == regimesByMachine[m].count ? #","end":true"# : ""
            let x = String(format: "%.3f,%.3f", readings[m][2 * t], readings[m][2 * t + 1])
            let payload = #"{"seq":"\#(Self.id(m))","x":[\#(x)]\#(end)}"#
            _ = try producer.send(parts: [Self.topic, payload])
            sentPerMachine[m] += 1
            sent += 1
            cursor = (cursor + 1) % machines
        }
    }

    /// Counts a `posterior/machines` or `viterbi/machines` message against the truth.
    mutating func receive(topic: String, _ object: [String: Any]) {
        guard let seq = object["seq"] as? String, let m = Int(seq.dropFirst()).map({ $0 - 1 }),
              regimesByMachine.indices.contains(m) else { return }
        let truth = regimesByMachine[m]
        if topic.hasPrefix("viterbi/") {
            paths += 1
            if let path = object["path"] as? [Int] {
                for (t, state) in path.enumerated() where t < truth.count { count(&viterbi, state, truth[t]) }
            }
            return
        }
        posteriors += 1
        guard let t = object["t"] as? Int, t >= 1, t <= truth.count else { return }
        guard let label = object["label"] as? Int else {
            warmupReadings += 1
            return
        }
        count(&filtered, label, truth[t - 1])
        if let s = object["smoothed"] as? [String: Any], let st = s["t"] as? Int, st >= 1, st <= truth.count,
           let p = s["p"] as? [Double], let best = p.indices.max(by: { p[$0] < p[$1] }) {
            count(&smoothed, best, truth[st - 1])
        }
    }

    private func count(_ confusion: inout [[Int]], _ learned: Int, _ truth: Int) {
        guard confusion.indices.contains(learned) else { return }
        confusion[learned][truth] += 1
    }

    /// Filtered-label accuracy so far under the best matching (for the live line).
    var filteredAccuracy: Double {
        let (hits, all) = Self.score(filtered, matching())
        return all == 0 ? .nan : Double(hits) / Double(all)
    }

    /// learned state → true regime: the permutation under which the three kinds
    /// of labels agree most with the truth (EM numbers states arbitrarily).
    func matching() -> [Int] {
        let n = Self.regimes.count
        var pooled = filtered
        for i in 0..<n {
            for j in 0..<n { pooled[i][j] += smoothed[i][j] + viterbi[i][j] }
        }
        var best = Array(0..<n), bestHits = -1
        for p in permutations(Array(0..<n)) {
            let hits = Self.score(pooled, p).hits
            if hits > bestHits { (best, bestHits) = (p, hits) }
        }
        return best
    }

    private static func score(_ confusion: [[Int]], _ matching: [Int]) -> (hits: Int, all: Int) {
        var hits = 0, all = 0
        for (i, row) in confusion.enumerated() {
            for (j, c) in row.enumerated() {
                all += c
                if matching[i] == j { hits += c }
            }
        }
        return (hits, all)
    }

    /// The end-of-demo summary: accuracy of each kind of label, then the learned
    /// means and transitions (rows and columns put in the true regimes' order).
    func summary(params: [String: Any]?) -> [String] {
        let match = matching()
        let n = Self.regimes.count
        var inverse = Array(0..<n)
        for (learned, truth) in match.enumerated() { inverse[truth] = learned }
        let names = match.enumerated().map { "state \($0.offset) = \(Self.regimes[$0.element])" }.joined(separator: ", ")
        var lines = ["machines: \(machines) sequences (\(Self.id(0))..\(Self.id(machines - 1))), \(total) readings, "
                     + "\(warmupReadings) labelled null during the warm-up; learned \(names)",
                     "  labels     accuracy  readings"]
        for (name, confusion, what) in [
            ("filtered", filtered, "argmax p(z_t | x_1..t), published with each reading"),
            ("smoothed", smoothed, "argmax p(z_t | x_1..t+\(Self.lag)), \(Self.lag) readings later"),
            ("viterbi", viterbi, "the most likely path, published when a sequence ends"),
        ] {
            let (hits, all) = Self.score(confusion, match)
            let accuracy = all == 0 ? Double.nan : 100 * Double(hits) / Double(all)
            lines.append("  " + pad(name, 9) + String(format: " %6.1f %%  %8d  ", accuracy, all) + what)
        }
        let truth = Self.truth()
        guard let p = params?["params"] as? [String: Any], let a = p["transitions"] as? [[Double]],
              let means = p["means"] as? [[Double]], a.count == n, means.count == n else {
            lines.append("  (no learned parameters)")
            return lines
        }
        lines.append("  regime    mean learned (true)          transitions learned -> idle running fault (true)")
        for r in 0..<n {
            let l = inverse[r]
            let learnedRow = (0..<n).map { String(format: "%.3f", a[l][inverse[$0]]) }.joined(separator: " ")
            let trueRow = (0..<n).map { String(format: "%.3f", truth.transitions[r * n + $0]) }.joined(separator: " ")
            lines.append("  " + pad(Self.regimes[r], 8)
                         + String(format: " (%4.1f, %4.2f) (%4.1f, %4.2f)    ", means[l][0], means[l][1],
                                  truth.emissions.means[2 * r], truth.emissions.means[2 * r + 1])
                         + "\(learnedRow)   (\(trueRow))")
        }
        return lines
    }
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

/// All orderings of a small array (N! of them: only for the demo's N = 3).
private func permutations(_ items: [Int]) -> [[Int]] {
    guard items.count > 1 else { return [items] }
    var out: [[Int]] = []
    for (i, first) in items.enumerated() {
        var rest = items
        rest.remove(at: i)
        for tail in permutations(rest) { out.append([first] + tail) }
    }
    return out
}
