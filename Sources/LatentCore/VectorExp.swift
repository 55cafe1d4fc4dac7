/// exp of four doubles at once, for the E-step's normalization (one exp per
/// component per observation, the largest single cost of a diagonal E-step
/// through libm). Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-13
/// Taylor polynomial for e^r (truncation error < 2e-17), then 2^n by building
/// the exponent bits. Accurate to a few ulp; arguments below −708 give 0 (the
/// E-step's shifted log-densities are ≤ 0, so overflow cannot occur; above 709
/// the result is clamped to 2^1023·e^r).
@inline(__always)
func vectorExp(_ x: SIMD4<Double>) -> SIMD4<Double> {
    // Masked selects, not `clamped(lowerBound:upperBound:)`: that went through
    // unspecialized pointwiseMin/Max calls, 8 % of a diagonal E-step.
    let below = x .< -708.0
    let clamped = x.replacing(with: -708.0, where: below).replacing(with: 709.0, where: x .> 709.0)
    // Adding 1.5·2^52 rounds to the nearest integer n and leaves n in the low bits.
    let magic = SIMD4<Double>(repeating: 6755399441055744.0)
    let shifted = clamped * 1.4426950408889634 + magic
    let n = shifted - magic
    let r = (clamped - n * 0.693147180369123816490) - n * 1.90821492927058770002e-10
    // Σ_{k≤13} r^k / k! by Estrin's scheme: pairs c_k + c_{k+1}·r, then r², r⁴, r⁸.
    // Four dependent multiply-adds instead of Horner's thirteen: with K = 4 there is
    // a single vector per observation, and the Horner chain's latency was the E-step.
    @inline(__always) func pair(_ a: Double, _ b: Double) -> SIMD4<Double> {
        multiplyAdd(SIMD4(repeating: b), r, SIMD4(repeating: a))
    }
    let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
    let q0 = multiplyAdd(pair(1.0 / 2.0, 1.0 / 6.0), r2, pair(1.0, 1.0))
    let q1 = multiplyAdd(pair(1.0 / 720.0, 1.0 / 5040.0), r2, pair(1.0 / 24.0, 1.0 / 120.0))
    let q2 = multiplyAdd(pair(1.0 / 3628800.0, 1.0 / 39916800.0), r2, pair(1.0 / 40320.0, 1.0 / 362880.0))
    let q3 = pair(1.0 / 479001600.0, 1.0 / 6227020800.0)
    let p = multiplyAdd(multiplyAdd(q3, r4, q2), r8, multiplyAdd(q1, r4, q0))
    // 2^n: the low 12 bits of (bits(shifted) + 1023) are n + 1023 (1.5·2^52 is a
    // multiple of 4096 in those bits), shifted into the exponent field.
    let exponent = (unsafeBitCast(shifted, to: SIMD4<UInt64>.self) &+ 1023) &<< 52
    let scale = unsafeBitCast(exponent, to: SIMD4<Double>.self)
    return (p * scale).replacing(with: 0, where: below)
}

/// a·b + c, fused where the build targets a CPU with FMA (Package.swift defines
/// LATENTD_FMA): one instruction and one rounding instead of two. Without the
/// hardware a fused multiply-add is a libm call per lane, so it stays a·b + c.
@inline(__always) func multiplyAdd(_ a: SIMD4<Double>, _ b: SIMD4<Double>, _ c: SIMD4<Double>) -> SIMD4<Double> {
    #if LATENTD_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

/// The scalar `multiplyAdd`, for the tails of vector loops: the same rounding as its lanes.
@inline(__always) func multiplyAdd(_ a: Double, _ b: Double, _ c: Double) -> Double {
    #if LATENTD_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

/// Loads and stores of four doubles at any alignment.
@inline(__always) func load4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
}

@inline(__always) func store4(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Double>.self)
}
