@testable import LatentDaemon

/// SplitMix64: a tiny seeded generator so randomized tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ObservationParser {
    /// Test convenience: parse a Swift string.
    func parse(_ text: String) throws(ObservationError) -> (ParsedMessage, [Double]) {
        var values: [Double] = []
        let bytes = Array(text.utf8)
        let message = try bytes.withUnsafeBytes { payload in
            Result { () throws(ObservationError) in try parse(payload, into: &values) }
        }.get()
        return (message, values)
    }

    func parseSymbols(_ text: String) throws(ObservationError) -> (ParsedMessage, [Int32]) {
        var indices: [Int32] = []
        let bytes = Array(text.utf8)
        let message = try bytes.withUnsafeBytes { payload in
            Result { () throws(ObservationError) in try parse(payload, intoSymbols: &indices) }
        }.get()
        return (message, indices)
    }
}

/// The error a parse throws, or nil if it succeeds.
func parseError(_ parser: ObservationParser, _ text: String) -> ObservationError? {
    do { _ = try parser.parse(text); return nil } catch { return error }
}

func symbolError(_ parser: ObservationParser, _ text: String) -> ObservationError? {
    do { _ = try parser.parseSymbols(text); return nil } catch { return error }
}
