/// Decimal to double without strtod for the common case: `w × 10^q` with w an
/// exact decimal mantissa of at most 19 digits (Lemire, "Number Parsing at a
/// Gigabyte per Second", Softw. Pract. Exper. 2021, algorithm 1; the
/// no-fallback proof for 19 digits is Mushtak & Lemire 2023). Full-precision
/// JSON numbers (`0.12345678901234567`, what Python and Swift print) miss the
/// exact Clinger fast path and went to strtod, a fifth of the JSON ingest time.
///
/// Returns nil where strtod must decide (the second 64-bit product word was
/// needed and still ambiguous); the result is otherwise correctly rounded.
@inline(__always)
func eiselLemire(mantissa w: UInt64, exponent q: Int, negative: Bool) -> Double? {
    guard w != 0 else { return negative ? -0.0 : 0.0 }
    if q < -342 { return negative ? -0.0 : 0.0 }
    if q > 308 { return negative ? -.infinity : .infinity }
    let lz = w.leadingZeroBitCount
    let normalized = w << lz
    let index = 2 * (q + 342)
    let (high, low) = powersOfFive128.withUnsafeBufferPointer { table -> (UInt64, UInt64) in
        var product = normalized.multipliedFullWidth(by: table[index])
        // 55 bits decide the result (52 + 3); look further only when they are all ones.
        let mask: UInt64 = 0xFFFF_FFFF_FFFF_FFFF >> 55
        if product.high & mask == mask {
            let second = normalized.multipliedFullWidth(by: table[index + 1])
            let (sum, carry) = product.low.addingReportingOverflow(second.high)
            product.low = sum
            if carry { product.high &+= 1 }
        }
        return (product.high, product.low)
    }
    if low == UInt64.max && (q < -27 || q > 55) { return nil }  // cannot prove the rounding
    let upperBit = Int(high >> 63)
    let shift = upperBit + 64 - 52 - 3
    var mantissa = high >> UInt64(shift)
    // power(q) = floor(q · log2(10)) + 63, exact over the table's range.
    var power2 = (((152_170 + 65_536) * q) >> 16) + 63 + upperBit - lz + 1023
    if power2 <= 0 {
        // Subnormal.
        guard -power2 + 1 < 64 else { return negative ? -0.0 : 0.0 }
        mantissa >>= UInt64(-power2 + 1)
        mantissa += mantissa & 1
        mantissa >>= 1
        power2 = mantissa < (1 << 52) ? 0 : 1
        return assemble(mantissa & ~(1 << 52), power2, negative)
    }
    // Exactly halfway between two doubles: round to even.
    if low <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && (mantissa << UInt64(shift)) == high {
        mantissa &= ~1
    }
    mantissa += mantissa & 1
    mantissa >>= 1
    if mantissa >= (2 << 52) {
        mantissa = 1 << 52
        power2 += 1
    }
    mantissa &= ~(1 << 52)
    if power2 >= 0x7FF { return negative ? -.infinity : .infinity }
    return assemble(mantissa, power2, negative)
}

@inline(__always)
private func assemble(_ mantissa: UInt64, _ power2: Int, _ negative: Bool) -> Double {
    Double(bitPattern: (negative ? 1 << 63 : 0) | (UInt64(power2) << 52) | mantissa)
}
