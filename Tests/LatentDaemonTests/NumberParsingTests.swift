import Foundation
import Testing
@testable import LatentDaemon

/// The parser must convert decimal text exactly as a correctly rounded strtod would,
/// whichever of its two paths (Clinger fast path, strtod fallback) a number takes.
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
}
