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
        self.init(storageFor: s.components, dimensions: s.dimensions, covarianceType: s.covarianceType)
        try update(statistics: s, options: options)
    }

    /// The M-step into this mixture's own storage. A learner runs it every mini-batch;
    /// writing in place (no arrays built, none copied while uniquely referenced) keeps
    /// the update free of allocations. On a throw the parameters are partly written:
    /// callers keep the previous mixture elsewhere (`MixtureLearner` double-buffers).
    public mutating func update(statistics s: MixtureStatistics, options: MStepOptions) throws(MixtureError) {
        precondition(s.components == components && s.dimensions == dimensions && s.covarianceType == covarianceType,
                     "statistics of another shape")
        if covarianceType == .diag, try updateDiagonal(statistics: s, options: options) { return }
        try updateGeneral(statistics: s, options: options)
    }

    /// w_k ∝ max(N_k + c − 1, 0) (the Dirichlet prior's mode), or N_k when that leaves
    /// every weight 0, with N_k = Σγ_k + 10ε; returns their sum.
    @inline(__always)
    static func unnormalizedWeights(
        _ counts: UnsafePointer<Double>, _ k: Int, concentration c: Double, into w: UnsafeMutablePointer<Double>
    ) -> Double {
        let eps10 = 10 * Double.ulpOfOne
        var sum = 0.0
        for j in 0..<k { w[j] = max(counts[j] + eps10 + c - 1, 0); sum += w[j] }
        if sum <= 0 {
            sum = 0
            for j in 0..<k { w[j] = counts[j] + eps10; sum += w[j] }
        }
        return sum
    }

    /// Every covariance type, and diagonal mixtures with an empty component; the
    /// reference for `updateDiagonal`.
    mutating func updateGeneral(statistics s: MixtureStatistics, options: MStepOptions) throws(MixtureError) {
        let k = components, d = dimensions
        let packed = packedCount(d)
        let eps10 = 10 * Double.ulpOfOne
        let total = s.total
        guard total > 0, total.isFinite else { throw .invalidWeights("statistics hold no observations") }
        let type = covarianceType
        let c = options.weightConcentration
        let nu = options.covariancePriorWeight, psi = options.covariancePriorScale
        /// Shrinks an ML covariance entry toward the prior, then regularizes.
        @inline(__always) func finish(_ ml: Double, diagonal: Bool, count: Double) -> Double {
            let v = nu > 0 ? (nu * (diagonal ? psi : 0) + count * ml) / (nu + count) : ml
            return diagonal ? v + options.regCovar : v
        }
        var valid = true
        s.withUnsafeSums { counts, sums, second in
        weights.withUnsafeMutableBufferPointer { weights in
        means.withUnsafeMutableBufferPointer { means in
        covariances.withUnsafeMutableBufferPointer { cov in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: d) { pooledMean in
            @inline(__always) func nk(_ j: Int) -> Double { counts[j] + eps10 }
            @inline(__always) func alive(_ j: Int) -> Bool { counts[j] > 1e-10 * total }
            // Pooled mean and per-dimension variance: the fallback for empty components,
            // computed only when there is one (a quarter of a diagonal M-step went to the
            // pooled mean's sums, every mini-batch, for nothing).
            var anyDead = false
            for j in 0..<k where !alive(j) { anyDead = true }
            if anyDead {
                for i in 0..<d { pooledMean[i] = 0 }
                for j in 0..<k { for i in 0..<d { pooledMean[i] += sums[j * d + i] } }
                for i in 0..<d { pooledMean[i] /= total }
            }
            /// Variance of dimension i over all components' pooled statistics.
            func pooledVariance(_ i: Int) -> Double {
                var m2 = 0.0
                switch type {
                case .full: for j in 0..<k { m2 += second[j * packed + i * (i + 1) / 2 + i] }
                case .tied: m2 = second[i * (i + 1) / 2 + i]
                case .diag: for j in 0..<k { m2 += second[j * d + i] }
                case .spherical: for j in 0..<k { m2 += second[j] / Double(d) }
                }
                return max(m2 / total - pooledMean[i] * pooledMean[i], 0)
            }

            // One reciprocal per component, not a division per statistic: the M-step runs
            // every mini-batch, and K·D (or K·D(D+1)/2) divisions stalled on divsd. The
            // component's test outside its loop, and rows through pointers, so the loops
            // vectorize: per entry, a test and checked index arithmetic were most of a
            // diagonal M-step's instructions.
            let mu = means.baseAddress!
            for j in 0..<k {
                let row = mu + j * d, s = sums + j * d
                if alive(j) {
                    let inverse = 1 / nk(j)
                    for i in 0..<d { row[i] = s[i] * inverse }
                } else {
                    for i in 0..<d { row[i] = pooledMean[i] }
                }
            }

            let weightSum = Self.unnormalizedWeights(counts, k, concentration: c, into: weights.baseAddress!)

            switch type {
            case .full:
                for j in 0..<k {
                    var p = 0
                    let inverse = 1 / nk(j)
                    for r in 0..<d { for q in 0...r {
                        let ml = alive(j)
                            ? second[j * packed + p] * inverse - means[j * d + r] * means[j * d + q]
                            : (r == q ? pooledVariance(r) : 0)
                        let v = finish(ml, diagonal: r == q, count: nk(j))
                        cov[j * d * d + r * d + q] = v
                        cov[j * d * d + q * d + r] = v
                        p += 1
                    } }
                }
            case .tied:
                var p = 0
                var n = 0.0
                for j in 0..<k { n += nk(j) }
                for r in 0..<d { for q in 0...r {
                    var m2 = 0.0
                    for j in 0..<k { m2 += nk(j) * means[j * d + r] * means[j * d + q] }
                    let v = finish((second[p] - m2) / n, diagonal: r == q, count: n)
                    cov[r * d + q] = v
                    cov[q * d + r] = v
                    p += 1
                } }
            case .diag:
                let c = cov.baseAddress!
                for j in 0..<k {
                    let out = c + j * d, m = mu + j * d, q = second + j * d, count = nk(j)
                    if alive(j) {
                        let inverse = 1 / count
                        for i in 0..<d { out[i] = finish(q[i] * inverse - m[i] * m[i], diagonal: true, count: count) }
                    } else {
                        for i in 0..<d { out[i] = finish(pooledVariance(i), diagonal: true, count: count) }
                    }
                }
            case .spherical:
                for j in 0..<k {
                    var ml = 0.0
                    if alive(j) {
                        var q = 0.0
                        for i in 0..<d { q += means[j * d + i] * means[j * d + i] }
                        ml = (second[j] / nk(j) - q) / Double(d)
                    } else {
                        for i in 0..<d { ml += pooledVariance(i) }
                        ml /= Double(d)
                    }
                    cov[j] = finish(ml, diagonal: true, count: nk(j))
                }
            }

            // The same checks as the validating initializer, then its normalization.
            for j in 0..<k where !(weights[j] >= 0 && weights[j].isFinite) { valid = false }
            for i in 0..<(k * d) where !mu[i].isFinite { valid = false }
            for j in 0..<k { weights[j] /= weightSum }
            Self.repair(cov, type: type, components: k, dimensions: d, floor: options.regCovar)
        } } } } }
        guard valid else { throw .invalidWeights("parameters must be finite and weights non-negative") }
        try refreshFactors(jitterFloor: max(options.regCovar, 1e-12))
    }

    /// Makes each covariance block usable: non-finite or non-positive variances
    /// become the floor; a full block with a non-finite entry becomes the identity.
    /// (A full block that is finite but fails Cholesky gets growing diagonal jitter
    /// in `refreshFactors`: cancellation in S/N − μμᵀ can leave tiny negative
    /// eigenvalues when a component collapses.)
    static func repair(
        _ cov: UnsafeMutableBufferPointer<Double>, type: CovarianceType, components k: Int, dimensions d: Int,
        floor: Double
    ) {
        let minimum = max(floor, 1e-12)
        switch type {
        case .diag, .spherical:
            for i in cov.indices where !(cov[i] > 0) || !cov[i].isFinite { cov[i] = minimum }
        case .full, .tied:
            let blocks = type == .full ? k : 1
            for b in 0..<blocks {
                let block = cov.baseAddress! + b * d * d
                var finite = true
                for i in 0..<(d * d) where !block[i].isFinite { finite = false }
                if !finite {
                    for i in 0..<d { for j in 0..<d { block[i * d + j] = i == j ? 1 : 0 } }
                }
            }
        }
    }
}
