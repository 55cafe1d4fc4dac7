import Foundation
import Testing
@testable import LatentDaemon

/// Mutated payloads must never crash the parser, and whatever it accepts must be JSON
/// that a general-purpose parser agrees with (we echo `id` verbatim, so accepting
/// invalid JSON would make our own output invalid).
@Suite struct ParserFuzzTests {
    static let seeds: [String] = [
        #"{"x":[1.5,-2]}"#,
        #"{"xs":[[1,2],[3e-5,4E+10],[-0.0,6]],"learn":false}"#,
        #"{"id":{"a":[1,"b\"c",null,true,{"d":[]}]},"x":[0.1,1e22]}"#,
        #" { "learn" : true , "x" : [ 123456789.123456789 , -1e-300 ] , "id" : "r\u00e9-\ud83d\ude00" } "#,
        #"{"seq":"machine-7","x":[1,2],"end":true,"reset":false,"id":[[[[1]]]]}"#,
        #"{"x":"H","seq":"s\n","id":-12.5e3}"#,
        #"{"xs":["T",0,"H",1],"reset":true}"#,
        "{\"id\":\"h\u{E9}llo \u{1F600}\",\"x\":[7,8]}",
    ]
    static let tokens: [String] = ["[", "]", "{", "}", "\"", ",", ":", "\\", "\\u", "1e400", "-", ".", "e", "0",
                                   "null", "true", "\"x\"", "\"xs\"", "\"id\"", " ", "\u{0}", "\u{FF}", "\\ud800"]

    @Test func mutatedPayloadsNeverCrash() throws {
        let vector = ObservationParser(dimensions: 2, maxObservationsPerMessage: 8, acceptsSequenceKeys: true)
        let categorical = ObservationParser(symbols: ["H", "T"], maxObservationsPerMessage: 8)
        var rng = SeededGenerator(seed: 42)
        var values: [Double] = []
        var symbols: [Int32] = []
        var accepted = 0
        var rejected = 0
        for _ in 0..<200_000 {
            var bytes = Array(Self.seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutate(&bytes, &rng)
            }
            try bytes.withUnsafeBytes { payload in
                do {
                    let m = try vector.parse(payload, into: &values)
                    accepted += 1
                    #expect(values.count == 2 * m.count)
                    try checkAcceptedJSON(payload, m)
                } catch let error as ObservationError {
                    rejected += 1
                    #expect(!error.description.isEmpty)
                }
                do {
                    let m = try categorical.parse(payload, intoSymbols: &symbols)
                    #expect(symbols.count == m.count && symbols.allSatisfy { $0 == 0 || $0 == 1 })
                    try checkAcceptedJSON(payload, m)
                } catch is ObservationError {}
            }
        }
        // The mutations should exercise both outcomes, or the test proves little.
        #expect(accepted > 1000 && rejected > 1000)
    }

    func mutate(_ bytes: inout [UInt8], _ rng: inout SeededGenerator) {
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &rng)
        case 1 where !bytes.isEmpty: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 2: bytes.removeLast(bytes.count - at)
        case 3: bytes.insert(contentsOf: Self.tokens.randomElement(using: &rng)!.utf8, at: at)
        case 4 where !bytes.isEmpty:
            let end = Int.random(in: at...min(bytes.count, at + 8), using: &rng)
            bytes.removeSubrange(at..<end)
        default:
            let end = min(bytes.count, at + Int.random(in: 0...12, using: &rng))
            bytes.insert(contentsOf: bytes[at..<end], at: at)
        }
    }

    func checkAcceptedJSON(_ payload: UnsafeRawBufferPointer, _ m: ParsedMessage) throws {
        let data = Data(payload)
        #expect((try? JSONSerialization.jsonObject(with: data)) != nil,
                "accepted but not JSON: \(String(decoding: payload, as: UTF8.self))")
        if let id = m.idRange {
            let text = Data(payload[id])
            #expect((try? JSONSerialization.jsonObject(with: text, options: .fragmentsAllowed)) != nil)
        }
    }
}
