import Foundation
import Testing
@testable import LatentCore

/// The E-step's SIMD log against libm: within 1 ulp where the E-step uses it
/// (log Σ exp over K components, in [1, K]) and over the normal range.
@Suite struct VectorLogTests {
    static func worstUlp(_ values: () -> Double, count: Int) -> (ulp: Double, at: Double) {
        var worst = (ulp: 0.0, at: 0.0)
        for _ in 0..<count {
            let v = SIMD4<Double>(values(), values(), values(), values())
            let got = vectorLog(v)
            for lane in 0..<4 {
                let want = Foundation.log(v[lane])
                let error = want == 0 ? abs(got[lane]) / Double.leastNormalMagnitude : abs(got[lane] - want) / want.ulp
                if error > worst.ulp { worst = (error, v[lane]) }
            }
        }
        return worst
    }

    @Test func agreesWithLibmWithinOneUlpOnTheEStepsRange() {
        var rng = Xoshiro256StarStar(seed: 9)
        let worst = Self.worstUlp({ 1 + rng.uniform() * 1023 }, count: 50_000)
        #expect(worst.ulp <= 1, "worst error \(worst.ulp) ulp at \(worst.at)")
    }

    @Test func agreesWithLibmWithinOneUlpOverTheNormalRange() {
        var rng = Xoshiro256StarStar(seed: 10)
        // Mantissa and exponent drawn separately, exponents −1020 … 1020.
        let worst = Self.worstUlp({ Foundation.exp2(Double(Int(rng.uniform() * 2041) - 1020)) * (1 + rng.uniform()) },
                                  count: 50_000)
        #expect(worst.ulp <= 1, "worst error \(worst.ulp) ulp at \(worst.at)")
    }

    @Test func edges() {
        let xs = [1, 2, 2.squareRoot(), Double.leastNormalMagnitude]
        let got = vectorLog(SIMD4(xs))
        #expect(got[0] == 0, "log 1 is exactly 0: a row with one component that explains it all")
        for lane in 1..<4 {
            let want = Foundation.log(xs[lane])
            #expect(abs(got[lane] - want) <= want.ulp, "log \(xs[lane]): \(got[lane]), libm \(want)")
        }
    }
}
