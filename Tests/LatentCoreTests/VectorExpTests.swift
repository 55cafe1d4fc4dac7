import Foundation
import Testing
@testable import LatentCore

/// The E-step's SIMD exp against libm: within 2 ulp over the range the E-step
/// uses (shifted log-densities, ≤ 0) and beyond, and exactly 0 below −708.
@Suite struct VectorExpTests {
    @Test func agreesWithLibmWithinTwoUlp() {
        var rng = Xoshiro256StarStar(seed: 8)
        var worst = 0.0
        for _ in 0..<50_000 {
            let v = SIMD4<Double>((0..<4).map { _ in rng.uniform() * 1400 - 705 })
            let got = vectorExp(v)
            for lane in 0..<4 {
                let want = Foundation.exp(v[lane])
                worst = max(worst, abs(got[lane] - want) / want.ulp)
            }
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
    }

    @Test func edges() {
        let got = vectorExp(SIMD4(0, -1e-300, -709, -1e6))
        #expect(got[0] == 1 && got[1] == 1)
        #expect(got[2] == 0 && got[3] == 0, "below −708 the E-step wants exactly 0")
        let small = vectorExp(SIMD4(-700, -1, 1, 700))
        for (lane, x) in [-700.0, -1, 1, 700].enumerated() {
            #expect(abs(small[lane] - Foundation.exp(x)) <= 2 * Foundation.exp(x).ulp)
        }
    }
}
