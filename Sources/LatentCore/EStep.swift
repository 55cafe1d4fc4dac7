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
        let k = components, d = dimensions
        means.withUnsafeBufferPointer { mu in
            precisionFactors.withUnsafeBufferPointer { pf in
                logNormalizers.withUnsafeBufferPointer { ln in
                    let mu = mu.baseAddress!, pf = pf.baseAddress!, ln = ln.baseAddress!
                    for j in 0..<k {
                        let m = mu + j * d
                        var maha = 0.0
                        switch covarianceType {
                        case .diag:
                            let p = pf + j * d
                            for i in 0..<d { let z = x[i] - m[i]; maha += z * z * p[i] }
                        case .spherical:
                            var s = 0.0
                            for i in 0..<d { let z = x[i] - m[i]; s += z * z }
                            maha = s * pf[j]
                        case .full, .tied:
                            let l = covarianceType == .full ? pf + j * d * d : pf
                            for i in 0..<d { scratch[i] = x[i] - m[i] }
                            for i in 0..<d {
                                let row = l + i * d
                                var y = 0.0
                                for p in 0...i { y += row[p] * scratch[p] }
                                maha += y * y
                            }
                        }
                        logJoint[j] = ln[j] - 0.5 * maha
                    }
                }
            }
        }
        return logSumExp(logJoint, k)
    }

    /// Responsibilities γ_k(x) = p(z=k | x) (Bishop eq. 9.23) written into
    /// `resp`; returns log p(x). `scratch` needs `dimensions` doubles.
    @inline(__always)
    public func responsibilities(
        _ x: UnsafePointer<Double>, into resp: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        let logLikelihood = logJoint(x, into: resp, scratch: scratch)
        for j in 0..<components { resp[j] = _exp(resp[j] - logLikelihood) }
        return logLikelihood
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
