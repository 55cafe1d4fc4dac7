/// The E-step: log-densities, responsibilities and per-observation log-likelihood.
///
/// Everything works on raw pointers into caller-owned buffers so that the hot
/// path (one call per observation) allocates nothing.
extension GaussianMixture {
    /// Fills `logJoint[k] = log w_k + log N(x | μ_k, Σ_k)` and returns
    /// log p(x) = logsumexp_k logJoint[k] (Bishop 2006, eq. 9.28 in log space).
    /// `scratch` needs `dimensions` doubles.
    @inline(__always)
    public func logJoint(
        _ x: UnsafePointer<Double>, into logJoint: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        fillLogJoint(x, into: logJoint, scratch: scratch)
        return logSumExp(logJoint, components)
    }

    /// The per-component terms of `logJoint` without the normalizer.
    @inline(__always)
    func fillLogJoint(
        _ x: UnsafePointer<Double>, into logJoint: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        let k = components, d = dimensions
        means.withUnsafeBufferPointer { mu in
            precisionFactors.withUnsafeBufferPointer { pf in
                logNormalizers.withUnsafeBufferPointer { ln in
                    let mu = mu.baseAddress!, pf = pf.baseAddress!, ln = ln.baseAddress!
                    // One loop per covariance type, so the inner loops carry no branches.
                    switch covarianceType {
                    case .diag:
                        // Four components per SIMD4 lane; each lane sums its terms in
                        // the same order as a scalar loop would (bit-identical results).
                        diagonalBlocks.withUnsafeBufferPointer { blocks in
                            var b = blocks.baseAddress!
                            var j = 0
                            while j < k {
                                var maha = SIMD4<Double>.zero
                                for i in 0..<d {
                                    let z = SIMD4<Double>(repeating: x[i]) - b[0]
                                    maha = multiplyAdd(z * z, b[1], maha)  // as the segment kernel
                                    b += 2
                                }
                                if j + 4 <= k {  // as the segment kernel: one vector store
                                    store4(load4(ln + j) - 0.5 * maha, logJoint + j)
                                } else {
                                    for lane in 0..<(k - j) { logJoint[j + lane] = ln[j + lane] - 0.5 * maha[lane] }
                                }
                                j += 4
                            }
                        }
                    case .spherical:
                        for j in 0..<k {
                            let m = mu + j * d
                            var s = 0.0
                            for i in 0..<d { let z = x[i] - m[i]; s += z * z }
                            logJoint[j] = ln[j] - 0.5 * s * pf[j]
                        }
                    case .full, .tied:
                        // y = L⁻¹(x − μ) four rows at a time from the row panels; maha = Σ y²
                        // (`panelSquaredNorm`, shared with the segment E-step).
                        let stride = covarianceType == .full ? panelBlockSize : 0
                        factorPanels.withUnsafeBufferPointer { panels in
                            for j in 0..<k {
                                let m = mu + j * d
                                for i in 0..<d { scratch[i] = x[i] - m[i] }
                                logJoint[j] = ln[j] - 0.5 * panelSquaredNorm(scratch, panels.baseAddress! + j * stride, d)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Responsibilities γ_k(x) = p(z=k | x) (Bishop eq. 9.23) written into
    /// `resp`; returns log p(x). `scratch` needs `dimensions` doubles.
    @inline(__always)
    public func responsibilities(
        _ x: UnsafePointer<Double>, into resp: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        fillLogJoint(x, into: resp, scratch: scratch)
        return normalizeResponsibilities(resp, components)
    }

    /// `responsibilities`, declared `mutating` (it changes nothing) so that a caller
    /// holding the mixture in an optional stored property runs it in place with
    /// `model!.responsibilitiesInPlace(…)`: a non-mutating call on `model!` copies
    /// the struct, retaining and releasing its six arrays per observation. (Moving it
    /// out with `take()` and back, as HMMLearner does, kept the retains here: the
    /// value is captured by the scratch buffer's closure.)
    @inline(__always)
    mutating func responsibilitiesInPlace(
        _ x: UnsafePointer<Double>, into resp: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        responsibilities(x, into: resp, scratch: scratch)
    }

    /// Convenience for tests and non-hot callers.
    public func responsibilities(_ x: [Double]) -> (resp: [Double], logLikelihood: Double) {
        var resp = [Double](repeating: 0, count: components)
        var scratch = [Double](repeating: 0, count: dimensions)
        let ll = x.withUnsafeBufferPointer { xp in
            resp.withUnsafeMutableBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { s in
                    responsibilities(xp.baseAddress!, into: r.baseAddress!, scratch: s.baseAddress!)
                }
            }
        }
        return (resp, ll)
    }

    /// Mean log-likelihood of row-major observations (`data.count / D` rows).
    public func meanLogLikelihood(_ data: [Double]) -> Double {
        let n = data.count / dimensions
        guard n > 0 else { return 0 }
        var logJoint = [Double](repeating: 0, count: components)
        var scratch = [Double](repeating: 0, count: dimensions)
        var total = 0.0
        data.withUnsafeBufferPointer { xs in
            logJoint.withUnsafeMutableBufferPointer { lj in
                scratch.withUnsafeMutableBufferPointer { s in
                    for r in 0..<n {
                        total += self.logJoint(xs.baseAddress! + r * dimensions, into: lj.baseAddress!, scratch: s.baseAddress!)
                    }
                }
            }
        }
        return total / Double(n)
    }
}

/// Turns K log joint densities into responsibilities in place and returns their
/// log-sum-exp, log p(x). One exp per component (exp dominates the cost of a
/// diagonal E-step), four at a time, then a single log (`vectorLog`, as four rows
/// take theirs together in the rows function).
@inline(__always)
func normalizeResponsibilities(_ resp: UnsafeMutablePointer<Double>, _ k: Int) -> Double {
    var m = -Double.infinity
    for j in 0..<k where resp[j] > m { m = resp[j] }
    guard m.isFinite else {
        for j in 0..<k { resp[j] = 1 / Double(k) }
        return m
    }
    // Lane sums, reduced once: a scalar running sum was a chain of K dependent adds.
    var lanes = SIMD4<Double>.zero
    var j = 0
    let shift = SIMD4<Double>(repeating: m)
    while j + 4 <= k {
        let e = vectorExp(load4(resp + j) - shift)
        store4(e, resp + j)
        lanes += e
        j += 4
    }
    // In a fixed order, which `normalizeResponsibilities(rows:…)` repeats lane by lane.
    var total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    while j < k { let e = _exp(resp[j] - m); resp[j] = e; total += e; j += 1 }
    let inverse = 1 / total
    for j in 0..<k { resp[j] *= inverse }
    return m + vectorLog(SIMD4(repeating: total))[0]  // the rows function's log, lane for lane
}

/// `normalizeResponsibilities` for `rows` rows of K log joint densities (rows × K,
/// row-major), writing each row's log p(x) to `logLikelihoods`. Four rows go
/// through the SIMD lanes together, one vector per component: each row gets the
/// operations of the one-row function in its order (its exp, lane sums, reciprocal
/// and log), so the same bits, while the four exps, maxima and sums are independent
/// instead of one short chain per row. At K = 4 the one-row function waits on its
/// single exp; that chain was most of a diagonal E-step.
@inline(__always)
func normalizeResponsibilities(
    rows: Int, _ resp: UnsafeMutablePointer<Double>, _ k: Int, logLikelihoods: UnsafeMutablePointer<Double>
) {
    var n = 0
    let blocked = k / 4 * 4
    while n + 4 <= rows {
        let r0 = resp + n * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k
        var m = SIMD4<Double>(repeating: -.infinity)
        for j in 0..<k {
            let v = SIMD4(r0[j], r1[j], r2[j], r3[j])
            m = m.replacing(with: v, where: v .> m)
        }
        guard m[0].isFinite && m[1].isFinite && m[2].isFinite && m[3].isFinite else {
            for r in n..<(n + 4) { logLikelihoods[r] = normalizeResponsibilities(resp + r * k, k) }
            n += 4
            continue
        }
        // Lane c of the one-row function sums the exps of components c, c+4, c+8, …
        var p0 = SIMD4<Double>.zero, p1 = p0, p2 = p0, p3 = p0
        var j = 0
        while j < blocked {
            let e0 = vectorExp(SIMD4(r0[j], r1[j], r2[j], r3[j]) - m)
            let e1 = vectorExp(SIMD4(r0[j + 1], r1[j + 1], r2[j + 1], r3[j + 1]) - m)
            let e2 = vectorExp(SIMD4(r0[j + 2], r1[j + 2], r2[j + 2], r3[j + 2]) - m)
            let e3 = vectorExp(SIMD4(r0[j + 3], r1[j + 3], r2[j + 3], r3[j + 3]) - m)
            p0 += e0; p1 += e1; p2 += e2; p3 += e3
            r0[j] = e0[0]; r1[j] = e0[1]; r2[j] = e0[2]; r3[j] = e0[3]
            r0[j + 1] = e1[0]; r1[j + 1] = e1[1]; r2[j + 1] = e1[2]; r3[j + 1] = e1[3]
            r0[j + 2] = e2[0]; r1[j + 2] = e2[1]; r2[j + 2] = e2[2]; r3[j + 2] = e2[3]
            r0[j + 3] = e3[0]; r1[j + 3] = e3[1]; r2[j + 3] = e3[2]; r3[j + 3] = e3[3]
            j += 4
        }
        var total = (p0 + p1) + (p2 + p3)
        while j < k {  // the one-row function's libm tail
            let e = SIMD4(_exp(r0[j] - m[0]), _exp(r1[j] - m[1]), _exp(r2[j] - m[2]), _exp(r3[j] - m[3]))
            r0[j] = e[0]; r1[j] = e[1]; r2[j] = e[2]; r3[j] = e[3]
            total += e
            j += 1
        }
        let inverse = 1 / total
        let v0 = inverse[0], v1 = inverse[1], v2 = inverse[2], v3 = inverse[3]
        for j in 0..<k { r0[j] *= v0; r1[j] *= v1; r2[j] *= v2; r3[j] *= v3 }
        let logLikelihood = m + vectorLog(total)
        logLikelihoods[n] = logLikelihood[0]
        logLikelihoods[n + 1] = logLikelihood[1]
        logLikelihoods[n + 2] = logLikelihood[2]
        logLikelihoods[n + 3] = logLikelihood[3]
        n += 4
    }
    while n < rows {
        logLikelihoods[n] = normalizeResponsibilities(resp + n * k, k)
        n += 1
    }
}
