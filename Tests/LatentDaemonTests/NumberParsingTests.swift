import Foundation
import Testing
@testable import LatentDaemon

/// The parser must convert decimal text exactly as a correctly rounded strtod would,
/// whichever of its paths (the branch-light `fastNumber`, Clinger, Eisel–Lemire,
/// strtod) a number takes.
@Suite struct NumberParsingTests {
    /// Parses `text` as one JSON number with the production scanner.
    func scan(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { bytes in
            var s = JSONScanner(bytes)
            guard let v = try? s.number(), s.atEnd else { return nil }
            return v
        }
    }

    func randomFinite(_ rng: inout SeededGenerator) -> Double {
        while true {
            let v = Double(bitPattern: rng.next())
            if v.isFinite { return v }
        }
    }

    @Test func randomBitPatternsPrintedWith17Digits() {
        var rng = SeededGenerator(seed: 1)
        var mismatches = 0
        for _ in 0..<100_000 {
            let text = String(format: "%.17g", randomFinite(&rng))
            if scan(text)?.bitPattern != Double(text)?.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func randomBitPatternsPrintedShortest() {
        var rng = SeededGenerator(seed: 2)
        var mismatches = 0
        for _ in 0..<100_000 {
            let v = randomFinite(&rng)
            if scan(v.description)?.bitPattern != v.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// Short decimals with small exponents are what sensors send and what the fast path
    /// handles; this also covers the boundaries of that path (2^53, 10^±22).
    @Test func randomShortDecimals() {
        var rng = SeededGenerator(seed: 3)
        var mismatches: [String] = []
        for _ in 0..<100_000 {
            let digits = Int.random(in: 1...20, using: &rng)
            var text = Bool.random(using: &rng) ? "-" : ""
            let first = Int.random(in: 1...9, using: &rng)
            text += String(first) + (1..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
            if Bool.random(using: &rng) && digits > 1 {
                let point = Int.random(in: 1..<digits, using: &rng) + (text.hasPrefix("-") ? 1 : 0)
                text.insert(".", at: text.index(text.startIndex, offsetBy: point))
            }
            if Bool.random(using: &rng) { text += "e" + String(Int.random(in: -40...40, using: &rng)) }
            if scan(text)?.bitPattern != Double(text)?.bitPattern { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// The Eisel-Lemire path over its whole exponent range: up to 19 exact digits,
    /// exponents from -360 to 320 (subnormals, overflow, the table's both ends),
    /// and exact halfway points between neighbouring doubles (round to even).
    @Test func nineteenDigitMantissasOverEveryExponent() {
        var rng = SeededGenerator(seed: 4)
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            let digits = Int.random(in: 1...19, using: &rng)
            var mantissa = String(Int.random(in: 1...9, using: &rng))
            for _ in 1..<digits { mantissa += String(Int.random(in: 0...9, using: &rng)) }
            let text = mantissa + "e" + String(Int.random(in: -360...320, using: &rng))
            if scan(text)?.bitPattern != Double(text)?.bitPattern { mismatches.append(text) }
        }
        for _ in 0..<20_000 {
            // (m + 1/2) · 2^e for a random 53-bit m: printed exactly, it is a tie.
            let m = UInt64.random(in: (1 << 52)..<(1 << 53), using: &rng)
            let halfway = (Decimal(m) + 0.5) * pow(Decimal(2), Int.random(in: 0...10, using: &rng))
            let text = "\(halfway)"
            if scan(text)?.bitPattern != Double(text)?.bitPattern { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func hardCases() {
        let cases = [
            "9007199254740993", "9007199254740992", "9007199254740991e22", "1e23", "8.98846567431158e307",
            "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324", "2.4703282292062328e-324",
            "2.4703282292062327e-324", "1.7976931348623157e308", "1.7976931348623158e308",
            "0.1000000000000000055511151231257827021181583404541015625",
            "123456789012345678901234567890", "0.000000000000000000000000000000000000001234",
            "1" + String(repeating: "0", count: 400) + "e-400", "0e999999999999", "1e-999999999999",
            "7.2057594037927933e16", "3.0000000000000004440892098500626161694526672363281250000000001",
        ]
        for text in cases {
            #expect(scan(text)?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
        #expect(scan("1e400") == .infinity)
        #expect(scan("-1e400") == -.infinity)
        #expect(scan("1e-400") == 0)
    }

    /// `fastNumber` on a number followed by more payload (the daemon's case; the tests
    /// above end every number at the end of the buffer): when it answers, the same
    /// bits as strtod and the number's exact length.
    @Test func fastPathMidPayloadAgreesWithStrtod() {
        var rng = SeededGenerator(seed: 5)
        var mismatches: [String] = []
        var taken = 0
        let suffixes = [",", "]", "}", " ", ",1.5]", "]}", "\n"]
        for _ in 0..<200_000 {
            let magnitude = pow(10, Double.random(in: -6...6, using: &rng))
            let v = Double.random(in: -1...1, using: &rng) * magnitude
            let text: String
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: text = v.description
            case 1: text = String(format: "%.17g", v)
            case 2: text = String(format: "%.\(Int.random(in: 0...21, using: &rng))f", v)
            case 3: text = String(format: "%.\(Int.random(in: 1...17, using: &rng))e", v)
            case 4: text = String(Int(v))
            default: text = String(format: "%.16f", v) + String(repeating: "0", count: Int.random(in: 0...3, using: &rng))
            }
            let payload = Array((text + suffixes.randomElement(using: &rng)!).utf8)
            let result = payload.withUnsafeBytes { p in JSONScanner.fastNumber(p.baseAddress!, 0, p.count) }
            // Far from the end, reading without checks must give the same answer.
            let padded = payload + Array(repeating: UInt8(ascii: "7"), count: JSONScanner.uncheckedReach)
            let unchecked = padded.withUnsafeBytes { p in JSONScanner.fastNumber(p.baseAddress!, 0, p.count, unchecked: true) }
            if unchecked?.0.bitPattern != result?.0.bitPattern || unchecked?.1 != result?.1 { mismatches.append("unchecked: " + text) }
            guard let (value, next) = result else { continue }
            taken += 1
            if value.bitPattern != Double(text)?.bitPattern || next != text.utf8.count { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(taken > 100_000)
    }

    /// What JSON encoders print for sensor-sized values (shortest round-trip digits,
    /// one to three integer digits, or "0." and up to 19 digits) all takes the fast
    /// path, so the test above covers the daemon's common case and a change that sent
    /// it digit by digit shows here.
    @Test func fastPathTakesShortestDigitsOfSensorValues() {
        var rng = SeededGenerator(seed: 6)
        var declined: [String] = []
        for i in 0..<100_000 {
            let range = i % 2 == 0 ? 1..<1000 : 0.001..<1
            let v = Double.random(in: range, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
            let payload = Array((v.description + ",").utf8)
            let result = payload.withUnsafeBytes { p in JSONScanner.fastNumber(p.baseAddress!, 0, p.count) }
            if result == nil { declined.append(v.description) }
        }
        #expect(declined.isEmpty, "\(declined.prefix(5))")
    }

    /// Malformed numbers are left to the digit-by-digit parser, which names the problem.
    @Test(arguments: ["01", "-01", "1.", "1.e5", "-", "1e", "1e+", "1e+-3", "-a", "00.5", "1.5e"])
    func fastPathDeclinesMalformedNumbers(text: String) {
        let payload = Array((text + ",2]").utf8)
        #expect(payload.withUnsafeBytes { p in JSONScanner.fastNumber(p.baseAddress!, 0, p.count) } == nil)
    }

    /// Observations whose numbers mix every path and every spacing JSON allows: the
    /// parser's direct array loop must give each the bits strtod gives.
    @Test func observationArraysOfMixedNumbers() throws {
        var rng = SeededGenerator(seed: 7)
        let parser = ObservationParser(dimensions: 8, maxObservationsPerMessage: 10)
        let spaces = ["", "", " ", "\n ", "\t"]
        for _ in 0..<5_000 {
            let texts = (0..<8).map { _ -> String in
                let v = Double.random(in: -1...1, using: &rng) * pow(10, Double.random(in: -8...8, using: &rng))
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: return v.description
                case 1: return String(format: "%.17g", v)
                case 2: return String(format: "%.3e", v)
                default: return String(format: "%.20f", v)
                }
            }
            func space() -> String { spaces.randomElement(using: &rng)! }
            let body = texts.map { space() + $0 + space() }.joined(separator: ",")
            var values: [Double] = []
            let payload = Array(#"{"x":["#.utf8) + Array(body.utf8) + Array("]}".utf8)
            let message = try payload.withUnsafeBytes { p throws(ObservationError) in try parser.parse(p, into: &values) }
            #expect(message.count == 1)
            #expect(values.map(\.bitPattern) == texts.map { Double($0)!.bitPattern }, "\(body)")
        }
    }
}
