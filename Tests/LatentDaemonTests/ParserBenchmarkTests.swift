import Testing
@testable import LatentDaemon

/// `latentd bench --parse`: the passes cycle the payloads in order until they reach
/// the requested observations, count rows rather than messages, and refuse a file
/// whose payloads the parser rejects (timing the error path would be meaningless).
/// No timing is asserted.
@Suite struct ParserBenchmarkTests {
    static let batch = Array(#"{"xs":[[1,2],[3,4],[5,6]]}"#.utf8)
    static let single = Array(#"{"x":[10,20]}"#.utf8)

    @Test func passesCycleThePayloadsUntilTheObservationsAreReached() throws {
        // 3 + 1 + 3 + 1 + 3 = 11 observations (exactly those asked for) in five messages; the checksum adds
        // each message's first value once per pass: (1 + 10 + 1 + 10 + 1) × 2.
        let r = try ParserBenchmark.run(payloads: [(1, Self.batch), (2, Self.single)], dimensions: 2,
                                        observations: 11, repeats: 2)
        #expect(r.payloads == 2)
        #expect(r.observations == 11)
        #expect(r.checksum == 46)
        #expect(r.bytesPerObservation == Double(3 * Self.batch.count + 2 * Self.single.count) / 11)
        #expect(r.nanosecondsPerObservation.isFinite && r.nanosecondsPerObservation > 0)
    }

    @Test func aRejectedPayloadIsNamedByItsLine() {
        do {
            _ = try ParserBenchmark.run(payloads: [(1, Self.batch), (3, Array(#"{"x":[1]}"#.utf8))], dimensions: 2,
                                        observations: 10, repeats: 1)
            Issue.record("a payload with one value for D = 2 was timed")
        } catch {
            guard case .rejected(let line, let reason) = error else { Issue.record("\(error)"); return }
            #expect(line == 3)
            #expect(reason == .wrongCount(path: "x", expected: 2, got: 1))
            #expect(error.description.hasPrefix("line 3: "), "\(error)")
        }
    }

    @Test func noPayloadsIsAnError() {
        #expect(throws: ParserBenchmark.Failure.self) {
            try ParserBenchmark.run(payloads: [], dimensions: 2, observations: 10, repeats: 1)
        }
    }
}
