import Foundation
import ArgumentParser
import LatentCore
import LatentDaemon

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the per-observation hot paths (ns), as JSON lines.",
        discussion: """
            Without --hmm-states: the mixture's E-step + statistics cost, one
            observation at a time (ns_per_obs) and, for full and diagonal
            covariances, over 16-row mini-batch segments as the learner runs
            batch messages (segment_ns_per_obs).
            scripts/compare_sklearn.py runs it next to scikit-learn's EM.
            With --hmm-states: the HMM forward step, window expected counts,
            fixed-lag smoother push and online Viterbi step, one line per
            (emission, states). scripts/compare_hmmlearn.py runs it next to hmmlearn.
            With --parse FILE: the JSON observation parser on the payloads in FILE,
            one per line ({"x": [...]} or {"xs": [[...], ...]}, D from the first of
            --dimensions). scripts/compare_simdjson.py runs it next to simdjson on
            the same file.
            Build with -c release for meaningful numbers.
            """
    )

    @Option(help: "Covariance types, comma-separated.") var covariance = "diag,full"
    @Option(help: "Components K, comma-separated.") var components = "8"
    @Option(help: "Dimensions D, comma-separated.") var dimensions = "8"
    @Option(help: "Observations per run.") var observations = 200_000
    @Option(help: "Runs; the fastest is reported.") var repeats = 5
    @Option(help: "HMM states N, comma-separated; switches to the HMM benchmark.") var hmmStates: String?
    @Option(help: "HMM emissions, comma-separated (gaussian: diagonal, D from --dimensions).") var emission = "gaussian,categorical"
    @Option(help: "Symbols M of categorical emissions, comma-separated.") var symbols = "16"
    @Option(help: "HMM observations per forward-backward window.") var window = 8
    @Option(help: "HMM fixed-lag smoother lag.") var lag = 8
    @Flag(help: "Also time the whole online learner: GMM on 100-row messages with batch 16 (learner_ns_per_obs, M-steps included); HMM per estimator (windowed, recursive; window 64, batch 16).")
    var learners = false
    @Option(help: ArgumentHelp("Time the JSON observation parser on the payloads in this file, one per line, instead.", valueName: "file"))
    var parse: String?

    func run() throws {
        if let hmmStates { return try runHMM(hmmStates) }
        if let parse { return try runParser(parse) }
        for c in covariance.split(separator: ",") {
            guard let type = CovarianceType(rawValue: String(c)) else {
                throw ValidationError("unknown covariance type \(c) (full, diag, spherical, tied)")
            }
            for k in components.split(separator: ",").compactMap({ Int($0) }) {
                for d in dimensions.split(separator: ",").compactMap({ Int($0) }) {
                    let r = MixtureBenchmark.run(type, components: k, dimensions: d, observations: observations, repeats: repeats,
                                                 learner: learners)
                    let segment = r.segmentNanosecondsPerObservation.map { #","segment_ns_per_obs":\#($0)"# } ?? ""
                    let learner = r.learnerNanosecondsPerObservation.map { #","learner_ns_per_obs":\#($0)"# } ?? ""
                    print(#"{"covariance":"\#(type.rawValue)","k":\#(k),"d":\#(d),"n":\#(r.observations),"ns_per_obs":\#(r.nanosecondsPerObservation)\#(segment)\#(learner)}"#)
                }
            }
        }
    }

    func runHMM(_ states: String) throws {
        guard observations >= 1, repeats >= 1, window >= 1, lag >= 1 else {
            throw ValidationError("--observations, --repeats, --window and --lag must be at least 1")
        }
        for e in emission.split(separator: ",") {
            guard let kind = HMMBenchmark.Emission(rawValue: String(e)) else {
                throw ValidationError("unknown emission \(e) (gaussian, categorical)")
            }
            let widths = try Self.integers(kind == .gaussian ? dimensions : symbols, kind == .gaussian ? "--dimensions" : "--symbols")
            for n in try Self.integers(states, "--hmm-states") {
                for width in widths {
                    let r = HMMBenchmark.run(kind, states: n, width: width, observations: observations, repeats: repeats,
                                             window: window, lag: lag, learners: learners)
                    print(r.json)
                }
            }
        }
    }

    func runParser(_ path: String) throws {
        guard observations >= 1, repeats >= 1 else { throw ValidationError("--observations and --repeats must be at least 1") }
        guard let d = try Self.integers(dimensions, "--dimensions").first else { throw ValidationError("--dimensions: none given") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--parse: cannot read \(path)") }
        var lines: [(line: Int, bytes: [UInt8])] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            lines.append((i + 1, Array(line)))
        }
        do {
            print(try ParserBenchmark.run(payloads: lines, dimensions: d, observations: observations, repeats: repeats).json)
        } catch {
            throw ValidationError("--parse \(path): \(error)")
        }
    }

    /// A comma-separated list of positive integers; anything else is an error
    /// rather than silently skipped.
    static func integers(_ list: String, _ flag: String) throws -> [Int] {
        try list.split(separator: ",").map { item in
            guard let v = Int(item), v >= 1 else { throw ValidationError("\(flag): \(item) is not a positive integer") }
            return v
        }
    }
}
