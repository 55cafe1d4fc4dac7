import ArgumentParser
import LatentCore
import LatentDaemon

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the E-step + statistics cost per observation (ns), as JSON lines.",
        discussion: """
            Build with -c release for meaningful numbers. scripts/compare_sklearn.py runs
            this next to scikit-learn's EM on the same sizes and prints the ratios.
            """
    )

    @Option(help: "Covariance types, comma-separated.") var covariance = "diag,full"
    @Option(help: "Components K, comma-separated.") var components = "8"
    @Option(help: "Dimensions D, comma-separated.") var dimensions = "8"
    @Option(help: "Observations per run.") var observations = 200_000
    @Option(help: "Runs; the fastest is reported.") var repeats = 5

    func run() throws {
        for c in covariance.split(separator: ",") {
            guard let type = CovarianceType(rawValue: String(c)) else {
                throw ValidationError("unknown covariance type \(c) (full, diag, spherical, tied)")
            }
            for k in components.split(separator: ",").compactMap({ Int($0) }) {
                for d in dimensions.split(separator: ",").compactMap({ Int($0) }) {
                    let r = MixtureBenchmark.run(type, components: k, dimensions: d, observations: observations, repeats: repeats)
                    print(#"{"covariance":"\#(type.rawValue)","k":\#(k),"d":\#(d),"n":\#(r.observations),"ns_per_obs":\#(r.nanosecondsPerObservation)}"#)
                }
            }
        }
    }
}
