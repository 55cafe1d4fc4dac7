import Glibc

/// JSON numbers: the observation path's hottest code (a JSON observation of eight
/// values is eight of them).
extension JSONScanner {
    /// Validates a JSON number and returns its correctly rounded value (±infinity if
    /// it overflows; the caller decides whether that is an error).
    mutating func number() throws(ObservationError) -> Double {
        if let base = bytes.baseAddress, let (value, next) = Self.fastNumber(base, pos, bytes.count) {
            pos = next
            return value
        }
        return try generalNumber()
    }

    /// The shape sensors and JSON encoders send, `-?d{1,7}`, `-?d{1,3}.d{1,16}` or
    /// `-?0.d{17,19}`, then an optional exponent of up to four digits, parsed without a
    /// branch that depends on the digits (but for the third form); nil for anything
    /// else (`generalNumber` then decides, errors included, so they read the same).
    ///
    /// The fraction is read as sixteen bytes: its digits are the bytes before the first
    /// non-digit (one SWAR test per eight bytes), the bytes after them are masked to
    /// zero digits, and the mantissa is integer·10¹⁶ + fraction·10^(16−n) with the
    /// exponent −16: at most 19 digits, exact. Every such number goes through
    /// Eisel–Lemire, which rounds correctly. The digit-by-digit parser branched on
    /// every digit and on the number's length (Clinger's path or Eisel–Lemire); on a
    /// stream of distinct numbers those branches were mispredicted, and parsing a
    /// batch cost half as much again as parsing one payload over and over.
    @inline(__always)
    static func fastNumber(_ base: UnsafeRawPointer, _ start: Int, _ end: Int, unchecked: Bool = false) -> (Double, Int)? {
        // `unchecked` (the caller has checked that start + uncheckedReach <= end): every
        // read is inside the payload, so none is checked against its end. The checks
        // were a tenth of a batch's parsing (callgrind).
        @inline(__always) func at(_ j: Int) -> UInt8 { unchecked || j < end ? base.load(fromByteOffset: j, as: UInt8.self) : 0 }
        @inline(__always) func word(_ j: Int) -> UInt64 {
            unchecked ? UInt64(littleEndian: base.loadUnaligned(fromByteOffset: j, as: UInt64.self)) : Self.load8(base, j, end)
        }
        let zeros: UInt64 = 0x3030_3030_3030_3030
        let negative = at(start) == UInt8(ascii: "-")
        var i = start &+ (negative ? 1 : 0)
        let head = word(i)
        let integerDigits = nonDigits(head).trailingZeroBitCount &>> 3
        // One to seven digits, and no leading zero ("0" alone is fine).
        guard UInt(bitPattern: integerDigits &- 1) < 7, head & 0xFF != 0x30 || integerDigits == 1 else { return nil }
        var mantissa = eightDigitsValue((head &- zeros) &<< UInt64(64 &- 8 &* integerDigits))
        var exponent = 0
        i &+= integerDigits
        if at(i) == UInt8(ascii: ".") {
            let v1 = word(i &+ 1), v2 = word(i &+ 9)
            let stop1 = nonDigits(v1), stop2 = nonDigits(v2)
            // All ones when the first eight bytes are all digits, so the next eight count.
            let full = stop1 == 0 ? UInt64.max : 0
            let n1 = stop1.trailingZeroBitCount &>> 3
            let n2 = (stop2.trailingZeroBitCount &>> 3) & Int(truncatingIfNeeded: full)
            let fraction = n1 &+ n2
            // Sixteen digits and a seventeenth: more than this path holds. Tested with
            // arithmetic on a loaded byte: a branch on it would be as unpredictable as
            // the digits (after a shorter fraction it is the next number's).
            let seventeenth = (word(i &+ 10) &>> 56) &- 0x30
            let tooLong = (fraction &>> 4) & (seventeenth < 10 ? 1 : 0)
            let refused = (n1 == 0 ? 1 : 0) | (integerDigits > 3 ? 1 : 0) | tooLong
            if refused == 0 {
                let high = eightDigitsValue((v1 &- zeros) & digitsMask(stop1))
                let low = eightDigitsValue((v2 &- zeros) & digitsMask(stop2) & full)
                mantissa = mantissa &* 10_000_000_000_000_000 &+ high &* 100_000_000 &+ low
                exponent = -16
                i &+= 1 &+ fraction
            } else {
                // "0." and 17 to 19 digits: how shortest round-trip printing writes most
                // numbers in [0.001, 1), a tenth of the values of a stream centred near
                // zero. Without a digit before the point they still fit in 19 digits.
                let v3 = word(i &+ 17), stop3 = nonDigits(v3)
                let n3 = stop3.trailingZeroBitCount &>> 3
                guard tooLong == 1, integerDigits == 1, mantissa == 0, n3 <= 3 else { return nil }
                let third = eightDigitsValue((v3 &- zeros) & digitsMask(stop3)) / 100_000  // three digits, left-aligned
                mantissa = eightDigitsValue(v1 &- zeros) &* 100_000_000_000 &+ eightDigitsValue(v2 &- zeros) &* 1000 &+ third
                exponent = -19
                i &+= 17 &+ n3
            }
        }
        if at(i) | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            let sign = at(i)
            let expNegative = sign == UInt8(ascii: "-")
            if expNegative || sign == UInt8(ascii: "+") { i &+= 1 }
            let e = word(i)
            let n = nonDigits(e).trailingZeroBitCount &>> 3
            // One to four digits: anything longer over/underflows anyway (strtod decides).
            guard UInt(bitPattern: n &- 1) < 4 else { return nil }
            let magnitude = Int(eightDigitsValue((e &- zeros) &<< UInt64(64 &- 8 &* n)))
            exponent &+= expNegative ? -magnitude : magnitude
            i &+= n
        }
        guard let value = eiselLemire(mantissa: mantissa, exponent: exponent, negative: negative) else { return nil }
        return (value, i)
    }

    /// Bytes from the start of a number within which `fastNumber` reads (at most 38: a
    /// sign, seven integer digits, a point, 19 fraction digits, an exponent's marker
    /// and sign and eight bytes of its digits).
    static let uncheckedReach = 48

    /// The eight bytes at `i` (fewer at the end of the payload, zero-padded: a zero
    /// byte is not a digit), first byte lowest.
    @inline(__always)
    private static func load8(_ base: UnsafeRawPointer, _ i: Int, _ end: Int) -> UInt64 {
        if i &+ 8 <= end { return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
        var v: UInt64 = 0
        var k = end &- 1
        while k >= i {
            v = v &<< 8 | UInt64(base.load(fromByteOffset: k, as: UInt8.self))
            k &-= 1
        }
        return v
    }

    /// The top bit of each byte of `v` that is not an ASCII digit (first byte lowest),
    /// and maybe of bytes after such a byte. Per byte, c + 0x46 has its top bit set
    /// above '9' and c − 0x30 below '0'; a carry or borrow only reaches the bytes after
    /// a non-digit, so the lowest flag marks the first non-digit, and there is none
    /// when all eight are digits.
    @inline(__always)
    private static func nonDigits(_ v: UInt64) -> UInt64 {
        ((v &+ 0x4646_4646_4646_4646) | (v &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080
    }

    /// Ones over the bytes before the first non-digit flagged in `stop`, all ones if
    /// there is none.
    @inline(__always)
    private static func digitsMask(_ stop: UInt64) -> UInt64 { ((stop & (0 &- stop)) &>> 7) &- 1 }

    /// The eight-digit number in `x` (digit values, not ASCII; the first byte is the
    /// most significant digit): three multiplications instead of eight steps (Lemire,
    /// "Number Parsing at a Gigabyte per Second", 2021, §6).
    @inline(__always)
    private static func eightDigitsValue(_ digits: UInt64) -> UInt64 {
        var x = (digits &* 10) &+ (digits &>> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        x = ((x & mask) &* 0x000F_4240_0000_0064 &+ ((x &>> 16) & mask) &* 0x0000_2710_0000_0001) &>> 32
        return x & 0xFFFF_FFFF
    }

    /// Every JSON number, digit by digit: the reference for `fastNumber`, and where
    /// everything it declines goes (errors included, so they read the same).
    ///
    /// Clinger's fast path covers ≤ 15 significant digits with modest exponents: one
    /// exact conversion and one correctly rounded multiply or divide. Up to 19 exact
    /// digits go to Eisel–Lemire; anything else to glibc's strtod, which is correctly
    /// rounded, on a NUL-terminated copy in a stack buffer.
    mutating func generalNumber() throws(ObservationError) -> Double {
        // On locals (a raw pointer and an index) with wrapping arithmetic: through
        // `peek` and `pos` every digit stored the cursor back to memory and checked
        // for overflow, and numbers were a quarter of the daemon's time at one JSON
        // observation per message (perf). Indices stay below the payload's size.
        let start = pos, end = bytes.count
        guard let base = bytes.baseAddress else { throw fail("invalid number", at: start) }
        var i = start
        @inline(__always) func at(_ j: Int) -> UInt8 { j < end ? base.load(fromByteOffset: j, as: UInt8.self) : 0 }
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }
        var negative = false
        if at(i) == UInt8(ascii: "-") { negative = true; i &+= 1 }
        var mantissa: UInt64 = 0
        var significant = 0  // digits held in `mantissa`, leading zeros excluded
        var inexact = false  // a nonzero digit did not fit in `mantissa`
        var exponent = 0

        guard isDigit(at(i)) else { throw fail("invalid number", at: start) }
        if at(i) == UInt8(ascii: "0") {
            i &+= 1
            if isDigit(at(i)) { throw fail("invalid number (leading zero)", at: start) }
        } else {
            Self.takeEightDigitRuns(base, &i, end, into: &mantissa, significant: &significant)
            var c = at(i)
            while isDigit(c) {
                let d = UInt64(c &- UInt8(ascii: "0"))
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ d
                    significant &+= 1
                } else {
                    exponent &+= 1
                    if d != 0 { inexact = true }
                }
                i &+= 1
                c = at(i)
            }
        }
        if at(i) == UInt8(ascii: ".") {
            i &+= 1
            guard isDigit(at(i)) else { throw fail("invalid number (no digits after '.')", at: start) }
            if mantissa == 0 {
                // Leading zeros of the fraction are not significant.
                while at(i) == UInt8(ascii: "0") { exponent &-= 1; i &+= 1 }
            }
            exponent &-= Self.takeEightDigitRuns(base, &i, end, into: &mantissa, significant: &significant)
            var c = at(i)
            while isDigit(c) {
                let d = UInt64(c &- UInt8(ascii: "0"))
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ d
                    if mantissa != 0 { significant &+= 1 }
                    exponent &-= 1
                } else if d != 0 {
                    inexact = true
                }
                i &+= 1
                c = at(i)
            }
        }
        if at(i) | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            var expNegative = false
            if at(i) == UInt8(ascii: "-") || at(i) == UInt8(ascii: "+") {
                expNegative = at(i) == UInt8(ascii: "-")
                i &+= 1
            }
            guard isDigit(at(i)) else { throw fail("invalid number (empty exponent)", at: start) }
            var e = 0
            while isDigit(at(i)) {
                // Saturate: anything this large over/underflows anyway, and strtod decides.
                if e < 1_000_000 { e = e &* 10 &+ Int(at(i) &- UInt8(ascii: "0")) }
                i &+= 1
            }
            exponent &+= expNegative ? -e : e
        }
        pos = i

        if mantissa == 0 && !inexact { return negative ? -0.0 : 0.0 }
        if !inexact && mantissa <= 1 << 53 {
            var value = Double(mantissa)
            if exponent >= 0 && exponent <= 22 {
                value *= powersOfTen[exponent]
                return negative ? -value : value
            }
            if exponent < 0 && exponent >= -22 {
                value /= powersOfTen[-exponent]
                return negative ? -value : value
            }
            if exponent > 22 && exponent <= 22 + 15 {
                // "12e25": move the surplus power into the mantissa while it stays exact.
                let (m, overflow) = mantissa.multipliedReportingOverflow(by: UInt64(powersOfTen[exponent - 22]))
                if !overflow && m <= 1 << 53 {
                    value = Double(m) * powersOfTen[22]
                    return negative ? -value : value
                }
            }
        }
        if !inexact, let value = eiselLemire(mantissa: mantissa, exponent: exponent, negative: negative) { return value }
        return slowNumber(start..<pos)
    }

    /// Appends runs of eight digits at `i` to `mantissa` while it has room for them
    /// (19 digits); returns how many digits it took.
    @inline(__always) @discardableResult
    private static func takeEightDigitRuns(
        _ base: UnsafeRawPointer, _ i: inout Int, _ end: Int, into mantissa: inout UInt64, significant: inout Int
    ) -> Int {
        var taken = 0
        while significant <= 11, let chunk = eightDigits(base, i, end) {
            mantissa = mantissa &* 100_000_000 &+ chunk
            significant &+= 8
            i &+= 8
            taken &+= 8
        }
        return taken
    }

    /// The eight bytes at `i` as a number if they are all ASCII digits, nil otherwise.
    @inline(__always)
    private static func eightDigits(_ base: UnsafeRawPointer, _ i: Int, _ end: Int) -> UInt64? {
        guard i &+ 8 <= end else { return nil }
        let v = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        guard nonDigits(v) == 0 else { return nil }
        return eightDigitsValue(v &- 0x3030_3030_3030_3030)
    }

    private func slowNumber(_ range: Range<Int>) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: range.count + 1) { buffer in
            for (k, i) in range.enumerated() { buffer[k] = CChar(bitPattern: bytes[i]) }
            buffer[range.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }
}

/// 10^0 ... 10^22, all exactly representable as Doubles (Clinger's fast path).
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
