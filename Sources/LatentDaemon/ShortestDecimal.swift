/// Doubles as the shortest decimal that parses back to the same bits, laid out as
/// the standard library's `description` lays them out ("0.1", "1e-05", "100.0",
/// "1.5e+16"), for the JSON the daemon publishes.
///
/// Why not `description`: with posteriors on, every message carries K + 1 doubles
/// (a batch message K + 1 per row), and the standard library's printer and its
/// 128-bit helpers were a fifth of the daemon's time at one JSON observation per
/// message (perf). This is Giulietti's Schubfach ("The Schubfach way to render
/// doubles", 2020): three 128-bit products against one table entry choose among at
/// most four candidates, without big integers or a loop over digits; it takes half
/// the instructions per double (callgrind, with the writer's own work).
///
/// Only normal doubles take this path (`format` is nil for the rest): `JSONWriter`
/// writes zeros and non-finite values itself and leaves subnormals, where the
/// paper's rule for the shortest length and `description`'s can pick different
/// digits, to the standard library. `ShortestDecimalTests` checks the output byte
/// for byte against `description`.
enum ShortestDecimal {
    /// Bytes `format` needs at `out`: it writes at most 24 ("-1.2345678901234567e-308")
    /// but copies digits in fixed 24-byte blocks past them.
    static var scratchLength: Int { 64 }

    /// Writes `value`'s shortest round-trip form at `out` (`scratchLength` bytes) and
    /// returns its length, or nil unless `value` is normal.
    @inline(__always)
    static func format(_ value: Double, into out: UnsafeMutablePointer<UInt8>) -> Int? {
        guard value.isNormal else { return nil }
        let (d, e) = shortestDigits(abs(value))
        // The sign without a branch: random signs were mispredicted.
        out.pointee = UInt8(ascii: "-")
        let sign = value < 0 ? 1 : 0
        return sign + write(digits: d, exponent: e, magnitude: abs(value), at: out + sign)
    }

    /// (d, e) with d·10^e the shortest decimal that rounds to `v` (positive, normal),
    /// the closest to it when several are as short, an even d on a tie (Giulietti,
    /// figure 4 and section 8.3). d may end in zeros.
    @inline(__always)
    static func shortestDigits(_ v: Double) -> (UInt64, Int) {
        let bits = v.bitPattern
        let c = (1 << 52) | (bits & ((1 << 52) - 1))
        let q = Int(bits >> 52) - 1075  // v = c·2^q
        // Integers below 2^53 are their own shortest decimal.
        if q < 0 && q > -53 {
            let f = c >> UInt64(-q)
            if f << UInt64(-q) == c { return (f, 0) }
        }
        let odd = c & 1  // the rounding interval is open for odd c, closed for even
        let cb = c << 2, cbr = cb + 2
        let cbl: UInt64
        let k: Int
        if c != 1 << 52 || q == -1074 {
            cbl = cb - 2
            k = (q * 661_971_961_083) >> 41  // ⌊q·log10 2⌋
        } else {
            // At a power of two the interval below is half as wide.
            cbl = cb - 1
            k = (q * 661_971_961_083 - 274_743_187_321) >> 41  // ⌊log10(¾·2^q)⌋
        }
        let h = q + ((-k * 913_124_641_741) >> 38) + 2  // 1...4
        let (g1, g0) = powersOfTen126.withUnsafeBufferPointer { t in (t[2 * (k + 324)], t[2 * (k + 324) + 1]) }
        let vb = roundToOdd(g1, g0, cb << UInt64(h))
        let vbl = roundToOdd(g1, g0, cbl << UInt64(h))
        let vbr = roundToOdd(g1, g0, cbr << UInt64(h))
        let s = vb >> 2
        if s >= 100 {
            // One digit shorter: the multiples of ten around s.
            let sp10 = 10 * s.multipliedFullWidth(by: 1_844_674_407_370_955_168).high  // 10·⌊s/10⌋
            let tp10 = sp10 + 10
            let lowerIn = vbl + odd <= sp10 << 2
            let upperIn = (tp10 << 2) + odd <= vbr
            if lowerIn != upperIn { return (lowerIn ? sp10 : tp10, k) }
        }
        let t = s + 1
        let lowerIn = vbl + odd <= s << 2
        let upperIn = (t << 2) + odd <= vbr
        if lowerIn != upperIn { return (lowerIn ? s : t, k) }
        // Both in: the closer, s on a tie if it is even.
        let cmp = Int64(bitPattern: vb &- ((s + t) << 1))
        return (cmp < 0 || (cmp == 0 && s & 1 == 0) ? s : t, k)
    }

    /// ⌊g·cp / 2^127⌋ rounded to odd (its lowest bit set when the dropped bits are
    /// not all zero): enough to compare the scaled interval ends exactly (section 9).
    @inline(__always)
    private static func roundToOdd(_ g1: UInt64, _ g0: UInt64, _ cp: UInt64) -> UInt64 {
        let x1 = g0.multipliedFullWidth(by: cp).high
        let (y1, y0) = g1.multipliedFullWidth(by: cp)
        let z = (y0 >> 1) &+ x1
        let vbp = y1 &+ (z >> 63)
        let mask: UInt64 = (1 << 63) - 1
        return vbp | (((z & mask) &+ mask) >> 63)
    }

    /// `description`'s layout of d·10^e: positional between 10^-4 and 2^53
    /// ("0.0001", "9007199254740992.0"), otherwise scientific with a signed exponent of
    /// at least two digits ("1e-05", "1.5e+16"). d < 10^18 may end in zeros (Schubfach
    /// chose a multiple of ten); they are dropped.
    ///
    /// Digits are copied in fixed 24-byte blocks and the lengths computed rather than
    /// branched on: the layout, the digit count and the trailing zeros change from one
    /// value to the next, and each branch on them was a likely misprediction.
    @inline(__always)
    private static func write(digits d: UInt64, exponent e: Int, magnitude: Double, at out: UnsafeMutablePointer<UInt8>) -> Int {
        // All 18 digits, zero-padded, in two-digit steps (a digit at a time was a chain
        // of 17 dependent divisions), then 24 bytes of slack for the block copies.
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { raw -> Int in
            let buffer = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let high = d / 100_000_000, low = d &- high &* 100_000_000
            let top = high / 100_000_000, middle = high &- top &* 100_000_000
            // As little-endian words: the first digit in the lowest byte. The zero
            // digits at either end are counted in registers; loading them back from
            // the buffer stalled on the narrower stores that had just written it.
            let topWord = UInt64(twoDigits(top)), middleWord = eightDigits(middle), lowWord = eightDigits(low)
            let raw = UnsafeMutableRawPointer(buffer)
            raw.storeBytes(of: UInt16(truncatingIfNeeded: topWord), as: UInt16.self)
            raw.storeBytes(of: middleWord, toByteOffset: 2, as: UInt64.self)
            raw.storeBytes(of: lowWord, toByteOffset: 10, as: UInt64.self)
            let zeros: UInt64 = 0x3030_3030_3030_3030
            // Leading zeros (18 less the digit count): more than two only below 10^16.
            var leadingZeros = ((topWord ^ 0x3030) | 0x1_0000).trailingZeroBitCount >> 3
            if leadingZeros == 2 {
                let inMiddle = (middleWord ^ zeros).trailingZeroBitCount >> 3
                leadingZeros += inMiddle
                if inMiddle == 8 { leadingZeros += (lowWord ^ zeros).trailingZeroBitCount >> 3 }
            }
            // Trailing zeros: more than eight only for round numbers.
            var trailingZeros = (lowWord ^ zeros).leadingZeroBitCount >> 3
            if trailingZeros == 8 {
                trailingZeros += (middleWord ^ zeros).leadingZeroBitCount >> 3
                if trailingZeros == 16 { trailingZeros += ((topWord ^ 0x3030) << 48).leadingZeroBitCount >> 3 }
            }
            let count = 18 - leadingZeros - trailingZeros  // d > 0: at least one digit
            let exponent = e + trailingZeros
            let digits = buffer + leadingZeros
            let leading = exponent + count - 1  // the decimal exponent of the first digit
            if leading < -4 || magnitude > 9_007_199_254_740_992 {
                // d[.ddd]e±XX: the point is overwritten by the "e" when there is one digit.
                out[0] = digits[0]
                out[1] = UInt8(ascii: ".")
                copy24(digits + 1, out + 2)
                let p = out + (count > 1 ? count + 1 : 1)
                p[0] = UInt8(ascii: "e")
                p[1] = leading < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
                let x = UInt64(abs(leading)), wide = x >= 100 ? 1 : 0
                p[2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: x / 100)
                writeTwo(x % 100, p + 2 + wide)
                return p - out + 4 + wide
            }
            if leading < 0 {
                // 0.000ddd: "0." and up to three zeros, then the digits over the rest.
                UnsafeMutableRawPointer(out).storeBytes(of: 0x3030_3030_302E_30, toByteOffset: 0, as: UInt64.self)
                copy24(digits, out + 1 - leading)
                return 1 - leading + count
            }
            if count > leading + 1 {
                // ddd.ddd
                copy24(digits, out)
                copy24(digits + leading + 1, out + leading + 2)
                out[leading + 1] = UInt8(ascii: ".")
                return count + 1
            }
            // An integer: its digits, zeros up to the point, ".0" (rare in posteriors).
            copy24(digits, out)
            for i in count...(leading + 2) { out[i] = UInt8(ascii: "0") }
            out[leading + 1] = UInt8(ascii: ".")
            return leading + 3
        }
    }

    /// Copies 24 bytes (three unaligned words).
    @inline(__always)
    private static func copy24(_ source: UnsafePointer<UInt8>, _ target: UnsafeMutablePointer<UInt8>) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        let a = from.loadUnaligned(as: UInt64.self), b = from.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let c = from.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        to.storeBytes(of: a, as: UInt64.self)
        to.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
        to.storeBytes(of: c, toByteOffset: 16, as: UInt64.self)
    }

    /// The two digits of 0 ≤ x < 100 as ASCII, the first in the low byte.
    @inline(__always)
    private static func twoDigits(_ x: UInt64) -> UInt16 {
        // The read below is unchecked; debug builds (the tests) catch a caller out of range.
        assert(x < 100, "twoDigits(\(x)): not two digits")
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        return UnsafeRawPointer(pairs.utf8Start).loadUnaligned(fromByteOffset: 2 &* Int(x), as: UInt16.self)
    }

    /// The two digits of 0 ≤ x < 100 at p, p + 1 (also `JSONWriter`'s integers).
    @inline(__always)
    static func writeTwo(_ x: UInt64, _ p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: twoDigits(x), as: UInt16.self)
    }

    /// The eight digits of 0 ≤ x < 10^8, zero-padded, as ASCII, the first in the low byte.
    @inline(__always)
    private static func eightDigits(_ x: UInt64) -> UInt64 {
        let high = x / 10_000, low = x &- high &* 10_000
        let a = high / 100, c = low / 100
        return UInt64(twoDigits(a)) | UInt64(twoDigits(high &- a &* 100)) << 16
            | UInt64(twoDigits(c)) << 32 | UInt64(twoDigits(low &- c &* 100)) << 48
    }
}
