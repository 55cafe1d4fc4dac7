/// Regularization and priors applied by the M-step.
public struct MStepOptions: Sendable, Hashable {
    /// Added to every covariance diagonal (scikit-learn's `reg_covar`).
    public var regCovar: Double
    /// Symmetric Dirichlet concentration on the weights; 1 means no prior (ML).
    /// MAP weights are w_k ∝ max(N_k + c − 1, 0) (Bishop 2006, eq. 2.51 mode).
    public var weightConcentration: Double
    /// Covariance prior ψ·I with the strength of `covariancePriorWeight` (ν)
    /// pseudo-observations: Σ_k = (ν·ψ·I + N_k·Σ̂_k) / (ν + N_k), the posterior mode
    /// of a conjugate inverse-Wishart prior up to its degrees-of-freedom offset
    /// (hmmlearn's covars_prior/covars_weight play the same role). ν = 0 is ML.
    public var covariancePriorScale: Double
    public var covariancePriorWeight: Double

    public init(
        regCovar: Double = 1e-6, weightConcentration: Double = 1,
        covariancePriorScale: Double = 0, covariancePriorWeight: Double = 0
    ) {
        self.regCovar = regCovar
        self.weightConcentration = weightConcentration
        self.covariancePriorScale = covariancePriorScale
        self.covariancePriorWeight = covariancePriorWeight
    }
}

/// The M-step: parameters from sufficient statistics (Bishop 2006, eqs. 9.24–9.26,
/// with scikit-learn's conventions: N_k + 10ε, reg_covar on the diagonal).
///
/// It never returns NaN or a covariance that is not positive definite: empty
/// components borrow the pooled moments, and a matrix that fails its Cholesky
/// factorization gets growing diagonal jitter.
extension GaussianMixture {
    public init(statistics s: MixtureStatistics, options: MStepOptions = MStepOptions()) throws(MixtureError) {
        let k = s.components, d = s.dimensions
        let packed = packedCount(d)
        let eps10 = 10 * Double.ulpOfOne
        let total = s.counts.reduce(0, +)
        guard total > 0, total.isFinite else { throw .invalidWeights("statistics hold no observations") }
        let nk = s.counts.map { $0 + eps10 }
        let alive = s.counts.map { $0 > 1e-10 * total }

        // Pooled mean and per-dimension variance: the fallback for empty components.
        var pooledMean = [Double](repeating: 0, count: d)
        for j in 0..<k { for i in 0..<d { pooledMean[i] += s.sums[j * d + i] } }
        for i in 0..<d { pooledMean[i] /= total }

        var means = [Double](repeating: 0, count: k * d)
        // One reciprocal per component, not a division per statistic: the M-step runs
        // every mini-batch, and K·D (or K·D(D+1)/2) divisions stalled on divsd.
        for j in 0..<k {
            let inverse = 1 / nk[j]
            for i in 0..<d { means[j * d + i] = alive[j] ? s.sums[j * d + i] * inverse : pooledMean[i] }
        }

        let c = options.weightConcentration
        var weights = nk.map { max($0 + c - 1, 0) }
        if weights.reduce(0, +) <= 0 { weights = nk }

        let nu = options.covariancePriorWeight, psi = options.covariancePriorScale
        /// Shrinks an ML covariance entry toward the prior, then regularizes.
        func finish(_ ml: Double, diagonal: Bool, count: Double) -> Double {
            let v = nu > 0 ? (nu * (diagonal ? psi : 0) + count * ml) / (nu + count) : ml
            return diagonal ? v + options.regCovar : v
        }

        var cov = [Double](repeating: 0, count: s.covarianceType.parameterCount(components: k, dimensions: d))
        switch s.covarianceType {
        case .full:
            for j in 0..<k {
                var p = 0
                let inverse = 1 / nk[j]
                for r in 0..<d { for q in 0...r {
                    let ml = alive[j]
                        ? s.secondMoments[j * packed + p] * inverse - means[j * d + r] * means[j * d + q]
                        : (r == q ? pooledVariance(s, r, pooledMean, total) : 0)
                    let v = finish(ml, diagonal: r == q, count: nk[j])
                    cov[j * d * d + r * d + q] = v
                    cov[j * d * d + q * d + r] = v
                    p += 1
                } }
            }
        case .tied:
            var p = 0
            let n = nk.reduce(0, +)
            for r in 0..<d { for q in 0...r {
                var m2 = 0.0
                for j in 0..<k { m2 += nk[j] * means[j * d + r] * means[j * d + q] }
                let v = finish((s.secondMoments[p] - m2) / n, diagonal: r == q, count: n)
                cov[r * d + q] = v
                cov[q * d + r] = v
                p += 1
            } }
        case .diag:
            for j in 0..<k {
                let inverse = 1 / nk[j]
                for i in 0..<d {
                    let mu = means[j * d + i]
                    let ml = alive[j] ? s.secondMoments[j * d + i] * inverse - mu * mu : pooledVariance(s, i, pooledMean, total)
                    cov[j * d + i] = finish(ml, diagonal: true, count: nk[j])
                }
            }
        case .spherical:
            for j in 0..<k {
                var ml = 0.0
                if alive[j] {
                    var q = 0.0
                    for i in 0..<d { q += means[j * d + i] * means[j * d + i] }
                    ml = (s.secondMoments[j] / nk[j] - q) / Double(d)
                } else {
                    for i in 0..<d { ml += pooledVariance(s, i, pooledMean, total) }
                    ml /= Double(d)
                }
                cov[j] = finish(ml, diagonal: true, count: nk[j])
            }
        }
        Self.repair(&cov, type: s.covarianceType, components: k, dimensions: d, floor: options.regCovar)
        try self.init(weights: weights, means: means, covariances: cov, covarianceType: s.covarianceType)
    }

    /// Makes each covariance block positive definite: non-finite or non-positive
    /// variances become the floor; a full block that fails Cholesky gets diagonal
    /// jitter growing tenfold until it factors (cancellation in S/N − μμᵀ can
    /// leave tiny negative eigenvalues when a component collapses).
    static func repair(_ cov: inout [Double], type: CovarianceType, components k: Int, dimensions d: Int, floor: Double) {
        let minimum = max(floor, 1e-12)
        switch type {
        case .diag, .spherical:
            for i in cov.indices where !(cov[i] > 0) || !cov[i].isFinite { cov[i] = minimum }
        case .full, .tied:
            let blocks = type == .full ? k : 1
            for b in 0..<blocks {
                let range = (b * d * d)..<((b + 1) * d * d)
                if cov[range].contains(where: { !$0.isFinite }) {
                    for i in 0..<d { for j in 0..<d { cov[b * d * d + i * d + j] = i == j ? 1 : 0 } }
                }
                var jitter = minimum
                while !Cholesky.isPositiveDefinite(Array(cov[range]), dimensions: d) {
                    for i in 0..<d { cov[b * d * d + i * d + i] += jitter }
                    jitter *= 10
                }
            }
        }
    }
}

/// Variance of dimension i over all components' pooled statistics.
private func pooledVariance(_ s: MixtureStatistics, _ i: Int, _ mean: [Double], _ total: Double) -> Double {
    let d = s.dimensions, k = s.components
    var second = 0.0
    switch s.covarianceType {
    case .full:
        let packed = packedCount(d)
        for j in 0..<k { second += s.secondMoments[j * packed + i * (i + 1) / 2 + i] }
    case .tied:
        second = s.secondMoments[i * (i + 1) / 2 + i]
    case .diag:
        for j in 0..<k { second += s.secondMoments[j * d + i] }
    case .spherical:
        for j in 0..<k { second += s.secondMoments[j] / Double(d) }
    }
    return max(second / total - mean[i] * mean[i], 0)
}
