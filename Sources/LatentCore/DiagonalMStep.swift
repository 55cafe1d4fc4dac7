/// The diagonal M-step (Bishop 2006, eqs. 9.24–9.26, as in `update(statistics:options:)`)
/// fused with the factors the E-step needs from it, one pass per component.
///
/// A learner runs this every mini-batch (16 observations by default), so on batch
/// messages it was a quarter of the daemon's learning thread: the general M-step and
/// `refreshFactors` walk the parameters in seven short loops (means, weights,
/// covariances, checks, repair, precisions, SIMD layout), each paying its set-up for
/// D = 8 values. Here each component's means, variances, precisions, E-step lanes
/// and log-determinant product come out of one loop, four dimensions at a time.
///
/// Every value gets the general path's operations in the general path's order, so the
/// bits are the same (`DiagonalMStepTests` compares the two). Empty components take
/// the general path, which gives them the pooled moments.
extension GaussianMixture {
    /// False, with nothing written, when a component is empty: the caller then runs the
    /// general M-step. Throws what the general M-step throws.
    mutating func updateDiagonal(statistics s: MixtureStatistics, options: MStepOptions) throws(MixtureError) -> Bool {
        let k = components, d = dimensions
        let eps10 = 10 * Double.ulpOfOne
        let total = s.total
        guard total > 0, total.isFinite else { throw .invalidWeights("statistics hold no observations") }
        for j in 0..<k where !(s.counts[j] > 1e-10 * total) { return false }
        let nu = options.covariancePriorWeight, shrink = nu * options.covariancePriorScale
        let reg = SIMD4<Double>(repeating: options.regCovar), minimum = SIMD4<Double>(repeating: max(options.regCovar, 1e-12))
        let constant = 0.5 * Double(d) * log2Pi
        var valid = true
        s.withUnsafeSums { counts, sums, second in
        weights.withUnsafeMutableBufferPointer { weights in
        means.withUnsafeMutableBufferPointer { means in
        covariances.withUnsafeMutableBufferPointer { cov in
        precisionFactors.withUnsafeMutableBufferPointer { precision in
        logNormalizers.withUnsafeMutableBufferPointer { ln in
        diagonalBlocks.withUnsafeMutableBufferPointer { blocks in
        blocks.withMemoryRebound(to: Double.self) { lanes in
            let w = weights.baseAddress!, ln = ln.baseAddress!
            let weightSum = Self.unnormalizedWeights(counts, k, concentration: options.weightConcentration, into: w)
            for j in 0..<k where !(w[j] >= 0 && w[j].isFinite) { valid = false }

            var finite = SIMDMask<SIMD4<Int64>>(repeating: true)
            for j in 0..<k {
                let count = counts[j] + eps10, inverse = 1 / count
                let sj = sums + j * d, qj = second + j * d
                let mj = means.baseAddress! + j * d, vj = cov.baseAddress! + j * d, pj = precision.baseAddress! + j * d
                // Lane j % 4 of block (j / 4, i): mean at 8·((j/4)·D + i) + j % 4, precision 4 after.
                var lane = lanes.baseAddress! + 8 * (j / 4) * d + j % 4
                /// ML variance, the prior's shrinkage, reg_covar, then `repair`'s floor.
                @inline(__always) func variance(_ mean: SIMD4<Double>, _ q: SIMD4<Double>) -> SIMD4<Double> {
                    var v = q * inverse - mean * mean
                    if nu > 0 { v = (SIMD4(repeating: shrink) + count * v) / SIMD4(repeating: nu + count) }
                    v += reg
                    // `repair`'s test, v > 0 and finite, as v > 0 and v + v ≠ v (false for
                    // +∞ only): written with < ∞, LLVM turns it into a class test that
                    // AVX2 spells in fifteen integer instructions.
                    return v.replacing(with: minimum, where: .!(v .> 0 .& (v + v .!= v)))
                }
                var product = 1.0
                var i = 0
                while i + 4 <= d {
                    let mean = load4(sj + i) * inverse
                    let v = variance(mean, load4(qj + i))
                    let p = 1 / v
                    finite = finite .& (mean - mean .== 0)  // false for ±∞ and NaN
                    store4(mean, mj + i); store4(v, vj + i); store4(p, pj + i)
                    for t in 0..<4 {
                        product *= v[t]
                        lane[0] = mean[t]; lane[4] = p[t]
                        lane += 8
                    }
                    i += 4
                }
                while i < d {  // the same operations in lane 0
                    let mean = sj[i] * inverse
                    let v = variance(SIMD4(repeating: mean), SIMD4(repeating: qj[i]))[0]
                    let p = 1 / v
                    if !mean.isFinite { valid = false }
                    mj[i] = mean; vj[i] = v; pj[i] = p
                    product *= v
                    lane[0] = mean; lane[4] = p
                    lane += 8
                    i += 1
                }
                ln[j] = product
            }
            if !all(finite) { valid = false }
            guard valid else { return }
            for j in 0..<k { w[j] /= weightSum }
            Self.diagonalLogNormalizers(ln, covariances: cov.baseAddress!, weights: w, components: k, dimensions: d,
                                        constant: constant)
        } } } } } } } }
        guard valid else { throw .invalidWeights("parameters must be finite and weights non-negative") }
        return true
    }

    /// log w_k − (D/2)·log 2π − ½·log Π_i σ²_ki into `ln`, which holds the products
    /// Π_i σ²_ki on entry. One log per component where possible, of w_k / √Π σ², four
    /// components at a time (`vectorLog`, the E-step's log; a lane's bits do not depend
    /// on its neighbours); a log per variance where the product or the ratio leaves the
    /// normal range. `w` holds the normalized weights.
    static func diagonalLogNormalizers(
        _ ln: UnsafeMutablePointer<Double>, covariances cov: UnsafePointer<Double>, weights w: UnsafePointer<Double>,
        components k: Int, dimensions d: Int, constant: Double
    ) {
        for j in 0..<k {  // NaN marks the per-variance path
            let product = ln[j], ratio = w[j] / product.squareRoot()
            ln[j] = product.isNormal && ratio.isNormal ? ratio : .nan
        }
        var j = 0
        while j + 4 <= k && all(load4(ln + j) .> 0) {
            store4(vectorLog(load4(ln + j)) - SIMD4(repeating: constant), ln + j)
            j += 4
        }
        while j < k {
            if ln[j] > 0 {
                ln[j] = vectorLog(SIMD4(repeating: ln[j]))[0] - constant
            } else {
                let v = cov + j * d
                var logDet = 0.0
                for t in 0..<d { logDet -= 0.5 * _log(v[t]) }
                ln[j] = _log(w[j]) - constant + logDet
            }
            j += 1
        }
    }
}
