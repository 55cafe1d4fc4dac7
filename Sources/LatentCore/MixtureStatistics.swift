/// Sufficient statistics of a Gaussian mixture: Σγ, Σγx and the second moments
/// (Σγxxᵀ, or its diagonal / trace / pooled reduction), as plain arrays.
///
/// They are the learner's state; parameters are derived from them (`MStep`).
/// The same value serves as a running sum over a mini-batch and as the
/// normalized (per-observation) average that stepwise EM blends.
public struct MixtureStatistics: Sendable, Equatable {
    public let components: Int
    public let dimensions: Int
    public let covarianceType: CovarianceType
    /// Σ_n γ_nk (K).
    public var counts: [Double]
    /// Σ_n γ_nk x_n (K×D).
    public var sums: [Double]
    /// full: K packed lower triangles of Σγxxᵀ; diag: K×D Σγx²; spherical: K Σγ‖x‖²;
    /// tied: one packed lower triangle of Σ(Σ_k γ)xxᵀ.
    public var secondMoments: [Double]

    public init(components: Int, dimensions: Int, covarianceType: CovarianceType) {
        self.components = components
        self.dimensions = dimensions
        self.covarianceType = covarianceType
        counts = [Double](repeating: 0, count: components)
        sums = [Double](repeating: 0, count: components * dimensions)
        secondMoments = [Double](
            repeating: 0, count: covarianceType.secondMomentCount(components: components, dimensions: dimensions))
    }

    /// Total weight accumulated (Σ_k counts).
    /// An index loop, not `reduce(0, +)` or `for c in counts`: the learner asks every
    /// mini-batch, and unspecialized (debug) array iteration allocates, which the
    /// allocation tests would count.
    public var total: Double {
        var sum = 0.0
        for j in counts.indices { sum += counts[j] }
        return sum
    }

    public mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
        for i in sums.indices { sums[i] = 0 }
        for i in secondMoments.indices { secondMoments[i] = 0 }
    }

    /// Adds one observation with per-component weights `gamma` (responsibilities
    /// times the sample weight). `scratch` needs D(D+1)/2 doubles for full/tied.
    @inline(__always)
    public mutating func accumulate(
        _ x: UnsafePointer<Double>, gamma: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        let k = components, d = dimensions, type = covarianceType
        if type == .diag { return accumulateDiagonal(x, gamma: gamma) }
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s1 in
                secondMoments.withUnsafeMutableBufferPointer { s2 in
                    let c = c.baseAddress!, s1 = s1.baseAddress!, s2 = s2.baseAddress!
                    // x xᵀ once, then one axpy per component on contiguous storage.
                    if type == .full || type == .tied { packedOuterProduct(x, d, into: scratch) }
                    let packed = packedCount(d)
                    var totalGamma = 0.0
                    for j in 0..<k {
                        let g = gamma[j]
                        totalGamma += g
                        if g == 0 { continue }
                        c[j] += g
                        let row = s1 + j * d
                        for i in 0..<d { row[i] += g * x[i] }
                        switch type {
                        case .full:
                            let m = s2 + j * packed
                            let gv = SIMD4<Double>(repeating: g)
                            var i = 0
                            // Fused, as the segment kernel (`addWeightedProducts`): a row adds
                            // the same bits alone or in a segment.
                            while i + 4 <= packed { store4(multiplyAdd(gv, load4(scratch + i), load4(m + i)), m + i); i += 4 }
                            while i < packed { m[i] = multiplyAdd(g, scratch[i], m[i]); i += 1 }
                        case .diag:
                            break  // not reached: accumulateDiagonal, above
                        case .spherical:
                            var q = 0.0
                            for i in 0..<d { q += x[i] * x[i] }
                            s2[j] += g * q
                        case .tied:
                            break
                        }
                    }
                    if type == .tied {
                        for i in 0..<packed { s2[i] += totalGamma * scratch[i] }
                    }
                }
            }
        }
    }

    /// `accumulate` for diagonal covariances: Σγ, Σγx and Σγx², four dimensions at a
    /// time (the scalar loop's products, (γ·x)·x), in a loop of its own. Through the
    /// loop shared with the other types (a type test per component, the zero-weight
    /// skip) it executed 367 instructions per observation at K=4 D=8; here 239
    /// (cachegrind). A γ of 0 is added like any other: adding 0 changes no sum.
    @inline(__always)
    mutating func accumulateDiagonal(_ x: UnsafePointer<Double>, gamma: UnsafePointer<Double>) {
        let k = components, d = dimensions
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s1 in
                secondMoments.withUnsafeMutableBufferPointer { s2 in
                    var row = s1.baseAddress!, m = s2.baseAddress!
                    for j in 0..<k {
                        let g = gamma[j]
                        c[j] += g
                        let gv = SIMD4<Double>(repeating: g)
                        var i = 0
                        while i + 4 <= d {
                            let xv = load4(x + i), gx = gv * xv
                            store4(load4(row + i) + gx, row + i)
                            store4(multiplyAdd(gx, xv, load4(m + i)), m + i)  // as the segment kernel
                            i += 4
                        }
                        while i < d { let gx = g * x[i]; row[i] += gx; m[i] = multiplyAdd(gx, x[i], m[i]); i += 1 }
                        row += d
                        m += d
                    }
                }
            }
        }
    }

    /// Multiplies every statistic by `factor` (normalizing a mini-batch sum).
    public mutating func scale(by factor: Double) {
        for i in counts.indices { counts[i] *= factor }
        for i in sums.indices { sums[i] *= factor }
        for i in secondMoments.indices { secondMoments[i] *= factor }
    }

    /// Stepwise-EM update s ← (1 − η)·s + η·s̄ (Cappé & Moulines 2009, eq. 6),
    /// where `other` holds the normalized statistics s̄ of the latest mini-batch.
    public mutating func blend(toward other: MixtureStatistics, step eta: Double) {
        precondition(other.counts.count == counts.count && other.secondMoments.count == secondMoments.count)
        let keep = 1 - eta
        for i in counts.indices { counts[i] = keep * counts[i] + eta * other.counts[i] }
        for i in sums.indices { sums[i] = keep * sums[i] + eta * other.sums[i] }
        for i in secondMoments.indices { secondMoments[i] = keep * secondMoments[i] + eta * other.secondMoments[i] }
    }

    /// `batch.scale(by: 1 / count)`, `blend(toward: batch, step: eta)` and
    /// `batch.reset()` in one pass: the same operations on every entry, so the same
    /// bits, but each array is read and written once instead of three times (the
    /// learner does this every mini-batch).
    public mutating func blend(emptying batch: inout MixtureStatistics, count: Int, step eta: Double) {
        precondition(batch.counts.count == counts.count && batch.secondMoments.count == secondMoments.count)
        let keep = 1 - eta, factor = 1 / Double(count)
        blendEmptying(&counts, &batch.counts, keep: keep, eta: eta, factor: factor)
        blendEmptying(&sums, &batch.sums, keep: keep, eta: eta, factor: factor)
        blendEmptying(&secondMoments, &batch.secondMoments, keep: keep, eta: eta, factor: factor)
    }

    /// Σγ (K), Σγx (K×D) and the second moments as pointers, for the M-steps' loops.
    @inline(__always)
    func withUnsafeSums<R>(
        _ body: (_ counts: UnsafePointer<Double>, _ sums: UnsafePointer<Double>, _ second: UnsafePointer<Double>) -> R
    ) -> R {
        counts.withUnsafeBufferPointer { c in
            sums.withUnsafeBufferPointer { s in
                secondMoments.withUnsafeBufferPointer { q in body(c.baseAddress!, s.baseAddress!, q.baseAddress!) }
            }
        }
    }

    /// Adds another set of statistics (merging shards or batches).
    public mutating func add(_ other: MixtureStatistics) {
        blendAdd(other, factor: 1)
    }

    private mutating func blendAdd(_ other: MixtureStatistics, factor: Double) {
        for i in counts.indices { counts[i] += factor * other.counts[i] }
        for i in sums.indices { sums[i] += factor * other.sums[i] }
        for i in secondMoments.indices { secondMoments[i] += factor * other.secondMoments[i] }
    }

    /// The statistics a mixture would produce in expectation per observation:
    /// counts = w, sums = wμ, second moments = w(Σ − reg·I + μμᵀ). Used to start
    /// learning from `init` parameters, so that the M-step returns them again.
    public init(expectedUnder model: GaussianMixture, regularization reg: Double) {
        self.init(components: model.components, dimensions: model.dimensions, covarianceType: model.covarianceType)
        let k = components, d = dimensions
        let packed = packedCount(d)
        for j in 0..<k {
            let w = model.weights[j]
            counts[j] = w
            for i in 0..<d { sums[j * d + i] = w * model.means[j * d + i] }
        }
        func covariance(_ j: Int, _ r: Int, _ c: Int) -> Double {
            let v: Double
            switch covarianceType {
            case .full: v = model.covariances[j * d * d + r * d + c]
            case .tied: v = model.covariances[r * d + c]
            case .diag: v = r == c ? model.covariances[j * d + r] : 0
            case .spherical: v = r == c ? model.covariances[j] : 0
            }
            return r == c ? v - reg : v
        }
        switch covarianceType {
        case .full:
            for j in 0..<k {
                var p = 0
                for r in 0..<d { for c in 0...r {
                    let m = model.means
                    secondMoments[j * packed + p] = counts[j] * (covariance(j, r, c) + m[j * d + r] * m[j * d + c])
                    p += 1
                } }
            }
        case .diag:
            for j in 0..<k { for i in 0..<d {
                let mu = model.means[j * d + i]
                secondMoments[j * d + i] = counts[j] * (covariance(j, i, i) + mu * mu)
            } }
        case .spherical:
            for j in 0..<k {
                var q = 0.0
                for i in 0..<d { let mu = model.means[j * d + i]; q += mu * mu }
                secondMoments[j] = counts[j] * (Double(d) * covariance(j, 0, 0) + q)
            }
        case .tied:
            var p = 0
            for r in 0..<d { for c in 0...r {
                var s = covariance(0, r, c)
                for j in 0..<k { s += counts[j] * model.means[j * d + r] * model.means[j * d + c] }
                secondMoments[p] = s
                p += 1
            } }
        }
    }
}

/// The packed lower triangle of x xᵀ (row i holds x_i·x_0 … x_i·x_i), four products at
/// a time: what `accumulate` adds for one observation and `accumulateSegment` for each
/// row of a segment, computed the same way so that both add the same bits.
@inline(__always)
func packedOuterProduct(_ x: UnsafePointer<Double>, _ d: Int, into out: UnsafeMutablePointer<Double>) {
    var row = out
    for i in 0..<d {
        let xi = SIMD4<Double>(repeating: x[i])
        var j = 0
        while j + 4 <= i + 1 { store4(xi * load4(x + j), row + j); j += 4 }
        while j <= i { row[j] = x[i] * x[j]; j += 1 }
        row += i + 1
    }
}

/// s ← (1 − η)·s + η·(b·factor), b ← 0, entry by entry (`blend(emptying:…)`).
@inline(__always)
private func blendEmptying(_ s: inout [Double], _ b: inout [Double], keep: Double, eta: Double, factor: Double) {
    let n = s.count
    s.withUnsafeMutableBufferPointer { s in
        b.withUnsafeMutableBufferPointer { b in
            let s = s.baseAddress!, b = b.baseAddress!
            for i in 0..<n {
                s[i] = keep * s[i] + eta * (b[i] * factor)
                b[i] = 0
            }
        }
    }
}
