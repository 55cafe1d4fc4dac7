import Testing
@testable import LatentCore

/// The factorization and the triangular inverse the E-steps use, on random
/// positive definite matrices of every size up to 33 (every SIMD tail length).
struct CholeskyTests {
    /// A Aᵀ / d + I for a random A: symmetric positive definite, well conditioned.
    static func spd(_ d: Int, _ rng: inout Xoshiro256StarStar) -> [Double] {
        let a = (0..<(d * d)).map { _ in rng.normal() }
        var m = [Double](repeating: 0, count: d * d)
        for r in 0..<d { for c in 0..<d {
            var s = 0.0
            for t in 0..<d { s += a[r * d + t] * a[c * d + t] }
            m[r * d + c] = s / Double(d) + (r == c ? 1 : 0)
        } }
        return m
    }

    @Test(arguments: Array(1...33))
    func factorReconstructsAndInverseInverts(_ d: Int) {
        var rng = Xoshiro256StarStar(seed: UInt64(d))
        let a = Self.spd(d, &rng)
        var l = a
        let ok = l.withUnsafeMutableBufferPointer { Cholesky.factor($0.baseAddress!, d) }
        #expect(ok)
        var worst = 0.0
        for r in 0..<d { for c in 0..<d {
            if c > r { #expect(l[r * d + c] == 0) }
            var s = 0.0
            for t in 0..<d { s += l[r * d + t] * l[c * d + t] }
            worst = max(worst, abs(s - a[r * d + c]))
        } }
        #expect(worst < 1e-12, "L Lᵀ differs from A by \(worst)")
        var inverse = l
        inverse.withUnsafeMutableBufferPointer { Cholesky.invertLower($0.baseAddress!, d) }
        worst = 0
        for r in 0..<d { for c in 0..<d {
            if c > r { #expect(inverse[r * d + c] == 0) }
            var s = 0.0
            for t in 0..<d { s += inverse[r * d + t] * l[t * d + c] }
            worst = max(worst, abs(s - (r == c ? 1 : 0)))
        } }
        #expect(worst < 1e-12, "L⁻¹ L differs from I by \(worst)")
    }

    @Test func indefiniteMatricesAreRefused() {
        var m: [Double] = [1, 2, 2, 1]  // eigenvalues 3 and −1
        #expect(!m.withUnsafeMutableBufferPointer { Cholesky.factor($0.baseAddress!, 2) })
        #expect(!Cholesky.isPositiveDefinite([1, 0, 0, .nan], dimensions: 2))
    }
}
