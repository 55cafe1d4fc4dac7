import Foundation
import Testing
@testable import LatentDaemon

/// `JSONWriter.format` (Schubfach for normal values) must write exactly what the
/// standard library's `description` writes: the same shortest digits, the same
/// choice among equally short ones, the same layout. The standard library's printer
/// is an independent implementation (SwiftDtoa), so agreement over these values is
/// strong evidence; `JSONWriterTests` checks that the output parses back bit for bit.
@Suite struct ShortestDecimalTests {
    /// The values whose output differs from `description`, as "bits: ours ≠ theirs".
    func mismatches(_ values: [Double]) -> [String] {
        var found: [String] = []
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONWriter.doubleScratch) { buffer in
            for v in values {
                let count = JSONWriter.format(v, into: buffer.baseAddress!)
                let ours = Array(buffer[..<count])
                let theirs = v.isFinite ? Array(v.description.utf8) : Array("null".utf8)
                if ours != theirs, found.count < 10 {
                    found.append("\(String(v.bitPattern, radix: 16)): \(String(decoding: ours, as: UTF8.self)) ≠ \(v.description)")
                }
            }
        }
        return found
    }

    @Test func randomBitPatterns() {
        var rng = SeededGenerator(seed: 2026)
        let values = (0..<200_000).map { _ in Double(bitPattern: rng.next()) }
        #expect(mismatches(values) == [])
    }

    /// What posteriors carry: probabilities (many tiny), log-likelihoods, and values
    /// with few digits.
    @Test func posteriorLikeValues() {
        var rng = SeededGenerator(seed: 7)
        var values: [Double] = []
        for _ in 0..<50_000 {
            let u = Double(rng.next() >> 11) * 0x1p-53
            values.append(u)
            values.append(Foundation.exp(-745 * u))
            values.append(-50 * u)
            values.append((u * 1000).rounded() / 1000)
            values.append(Double(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)))
        }
        #expect(mismatches(values) == [])
    }

    /// Every power of ten and of two in range with its neighbours: the ends of the
    /// table, the asymmetric interval at powers of two, exact decimal ties.
    @Test func powersAndTheirNeighbours() {
        var values: [Double] = []
        func around(_ v: Double) {
            guard v.isFinite, v > 0 else { return }
            values += [v, v.nextUp, v.nextDown, -v, v.nextUp.nextUp, v.nextDown.nextDown]
        }
        for e in -325...309 { around(Double("1e\(e)")!) }
        for e in -1074...1023 { around(Double(sign: .plus, exponent: e, significand: 1)) }
        for v in [0.5, 0.25, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 100, 123.456, 1.5e16, 1e22, 1e23, 4503599627370496.5,
                  9007199254740992, 9_999_999_999_999_998, 99_999_999_999_999_984, 0.0001, 0.00012, 9.999999999999999e-5,
                  .leastNormalMagnitude, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 2 * .leastNonzeroMagnitude, 3 * .leastNonzeroMagnitude] {
            around(v)
        }
        values += [0, -0.0, .nan, .infinity, -.infinity]
        #expect(mismatches(values) == [])
    }

    /// Integers: the conversion's own fast path below 2^53, and the layout's switch
    /// to scientific notation above it.
    @Test func integers() {
        var rng = SeededGenerator(seed: 3)
        var values: [Double] = []
        for _ in 0..<50_000 {
            let bits = Int(rng.next() % 60)
            values.append(Double(rng.next() >> UInt64(64 - bits - 1)))
        }
        for v in stride(from: 9_007_199_254_740_000.0, through: 9_007_199_254_741_000, by: 1) { values.append(v) }
        #expect(mismatches(values) == [])
    }

    /// `doubles` formats sixteen at a time into one buffer: lengths around that and
    /// the widest values must come out the same as one at a time.
    @Test func batchedArraysMatchOneAtATime() {
        var rng = SeededGenerator(seed: 5)
        for count in [1, 2, 15, 16, 17, 31, 32, 33, 100] {
            let values = (0..<count).map { i -> Double in
                i % 3 == 0 ? -1.2345678901234567e-300 : Double(bitPattern: rng.next() & 0xBFFF_FFFF_FFFF_FFFF)
            }
            var batched = JSONWriter(), single = JSONWriter()
            batched.doubles(values)
            single.beginArray()
            for v in values { single.double(v) }
            single.endArray()
            #expect(batched.bytes == single.bytes, "count \(count)")
        }
    }
}
