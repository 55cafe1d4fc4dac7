/// Natural log of four doubles at once, for the E-step's one log per observation
/// (log p(x) = max + log Σ exp, whose argument lies in [1, K]): four rows of a
/// segment take one vector instead of four libm calls, which were a tenth of the
/// learner's time on batch messages (perf).
///
/// fdlibm's algorithm (e_log.c, as in musl): x = 2^k·(1 + f) with 1 + f in
/// [√2/2, √2), s = f/(2 + f), log(1 + f) = 2s + s·R(s²) with a degree-14 minimax
/// polynomial; error below 1 ulp. For positive, finite, normal x below 2^1023 (no
/// special cases: the E-step never passes anything else).
@inline(__always)
func vectorLog(_ x: SIMD4<Double>) -> SIMD4<Double> {
    // Moving the √2/2 boundary of the mantissa to the exponent's: after this add the
    // exponent field is k + 1023, and the mantissa bits with 0x3fe6a09e… re-added give 1 + f.
    let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self) &+ SIMD4(repeating: UInt64(0x3ff0_0000 - 0x3fe6_a09e) << 32)
    // k as a double, exactly: the biased exponent in the low bits of 2^52 (as bits), minus both.
    let biased = unsafeBitCast((bits &>> 52) | SIMD4(repeating: 0x4330_0000_0000_0000), to: SIMD4<Double>.self)
    let k = biased - (4503599627370496.0 + 1023.0)
    let mantissa = (bits & SIMD4(repeating: 0x000f_ffff_ffff_ffff)) &+ SIMD4(repeating: UInt64(0x3fe6_a09e) << 32)
    let f = unsafeBitCast(mantissa, to: SIMD4<Double>.self) - 1
    let hfsq = 0.5 * f * f
    let s = f / (2 + f)
    let z = s * s, w = z * z
    let t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    let t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
        + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    let r = t2 + t1
    // ln 2 split in two (the high part has trailing zero bits, so k·ln2Hi is exact).
    return s * (hfsq + r) + k * 1.90821492927058770002e-10 - hfsq + f + k * 6.93147180369123816490e-01
}
