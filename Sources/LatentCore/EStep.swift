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
                                    maha += z * z * b[1]
                                    b += 2
                                }
                                for lane in 0..<min(4, k - j) { logJoint[j + lane] = ln[j + lane] - 0.5 * maha[lane] }
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
/// diagonal E-step), four at a time, then a single log.
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
    var total = lanes.sum()
    while j < k { let e = _exp(resp[j] - m); resp[j] = e; total += e; j += 1 }
    let inverse = 1 / total
    for j in 0..<k { resp[j] *= inverse }
    return m + _log(total)
}
