/// `latentd bench --parse FILE`: the JSON observation parser's cost on payloads read
/// from a file, one per line, so that another parser can be timed on the very same
/// bytes. The JSON-batch goal of issue 4 is set by parsing (README, Performance), and
/// a ratio against the transport alone cannot say whether a faster parser exists;
/// `scripts/compare_simdjson.py` runs simdjson on the same file next to this.
public enum ParserBenchmark {
    public struct Result: Sendable {
        public var payloads: Int
        /// Observations parsed per timed pass (the payloads cycled to reach at least
        /// the requested number).
        public var observations: Int
        public var bytesPerObservation: Double
        public var nanosecondsPerObservation: Double
        public var checksum: Double

        public var json: String {
            #"{"parse":"json","payloads":\#(payloads),"n":\#(observations),"bytes_per_obs":\#(bytesPerObservation),"ns_per_obs":\#(nanosecondsPerObservation)}"#
        }
    }

    /// Why the payloads cannot be timed: a benchmark of a parser that rejects its
    /// input would time the error path.
    public enum Failure: Error, CustomStringConvertible {
        case noPayloads
        case rejected(line: Int, ObservationError)

        public var description: String {
            switch self {
            case .noPayloads: "no payloads (the file has no non-empty line)"
            case .rejected(let line, let error): "line \(line): the parser rejects this payload: \(error)"
            }
        }
    }

    /// Each payload is parsed once, unmeasured, to check it is accepted; then
    /// `repeats` passes over the payloads in order (cycled until at least
    /// `observations` observations), the fastest reported. Cycling through distinct
    /// payloads matters: one payload over and over lets the branch predictor learn
    /// its digits (CodecBenchmarks).
    public static func run(payloads lines: [(line: Int, bytes: [UInt8])], dimensions: Int, observations: Int,
                           repeats: Int) throws(Failure) -> Result {
        guard !lines.isEmpty else { throw .noPayloads }
        // The daemon's own parser for a mixture of this dimension, limit included.
        let parser = ObservationParser(dimensions: dimensions, maxObservationsPerMessage: MixtureHost.maxObservationsPerMessage)
        var values: [Double] = []
        var counts: [Int] = []
        for (line, bytes) in lines {
            let parsed = bytes.withUnsafeBytes { p -> Swift.Result<ParsedMessage, ObservationError> in
                do throws(ObservationError) { return .success(try parser.parse(p, into: &values)) } catch { return .failure(error) }
            }
            switch parsed {
            case .success(let message): counts.append(message.count)
            case .failure(let error): throw .rejected(line: line, error)
            }
        }
        var passMessages = 0, passObservations = 0, passBytes = 0
        while passObservations < max(observations, 1) {
            let i = passMessages % lines.count
            passObservations += counts[i]
            passBytes += lines[i].bytes.count
            passMessages += 1
        }
        var checksum = 0.0
        let best = MixtureBenchmark.fastest(repeats, observations: passObservations) {
            for m in 0..<passMessages {
                lines[m % lines.count].bytes.withUnsafeBytes { p in _ = try? parser.parse(p, into: &values) }
                checksum += values[0]
            }
        }
        return Result(payloads: lines.count, observations: passObservations,
                      bytesPerObservation: Double(passBytes) / Double(passObservations),
                      nanosecondsPerObservation: best, checksum: checksum)
    }
}
