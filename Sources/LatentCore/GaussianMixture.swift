/// Why a set of mixture parameters was refused.
public enum MixtureError: Error, Equatable, CustomStringConvertible {
    case shape(String)
    case notPositiveDefinite(component: Int)
    case invalidWeights(String)

    public var description: String {
        switch self {
        case .shape(let s): return s
        case .notPositiveDefinite(let k): return "covariance of component \(k) is not positive definite"
        case .invalidWeights(let s): return s
        }
    }
}

/// A Gaussian mixture's parameters together with what the E-step needs from
/// them, precomputed once per parameter update: inverse Cholesky factors (or
/// precisions) and the per-component log normalizers.
public struct GaussianMixture: Sendable, Equatable {
    public let components: Int
    public let dimensions: Int
    public let covarianceType: CovarianceType
    public internal(set) var weights: [Double]
    /// K×D row-major.
    public internal(set) var means: [Double]
    /// full: K×D×D; diag: K×D; spherical: K; tied: D×D (row-major).
    public internal(set) var covariances: [Double]
    /// full: K lower-triangular L⁻¹ (D×D each); tied: one; diag: K×D precisions; spherical: K precisions.
    var precisionFactors: [Double]
    /// log w_k − (D/2)·log 2π − ½·log|Σ_k|.
    var logNormalizers: [Double]
    /// diag only: means and precisions of 4 components side by side, so the
    /// E-step runs 4 independent Mahalanobis sums per SIMD lane instead of one
    /// serial chain per component. Layout [block][dimension][means, precisions];
    /// padding lanes have precision 0.
    var diagonalBlocks: [SIMD4<Double>]
    /// full/tied: L⁻¹ in panels of four rows, column by column (lane = row), so
    /// the E-step forms four entries of L⁻¹(x − μ) per SIMD multiply-add with no
    /// horizontal sums. Panel r holds columns 0..<min(4r + 4, D); entries above
    /// the diagonal and rows past D are 0. `panelBlockSize` vectors per block.
    var factorPanels: [SIMD4<Double>]
    var panelBlockSize: Int

    /// Validates and normalizes the weights (they need only be proportional).
    public init(
        weights: [Double], means: [Double], covariances: [Double], covarianceType: CovarianceType
    ) throws(MixtureError) {
        try self.init(weights: weights, means: means, covariances: covariances, covarianceType: covarianceType, normalize: true)
    }

    /// `normalize: false` keeps the weights' exact bits (restoring a checkpoint).
    init(
        weights: [Double], means: [Double], covariances: [Double], covarianceType: CovarianceType, normalize: Bool
    ) throws(MixtureError) {
        let k = weights.count
        guard k >= 1 else { throw .shape("a mixture needs at least one component") }
        guard means.count % k == 0, means.count >= k else {
            throw .shape("means must have K×D values, got \(means.count) for K=\(k)")
        }
        let d = means.count / k
        let expected = covarianceType.parameterCount(components: k, dimensions: d)
        guard covariances.count == expected else {
            throw .shape("\(covarianceType) covariances for K=\(k), D=\(d) need \(expected) values, got \(covariances.count)")
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }), means.allSatisfy(\.isFinite),
              covariances.allSatisfy(\.isFinite) else {
            throw .invalidWeights("parameters must be finite and weights non-negative")
        }
        let total = weights.reduce(0, +)
        guard total > 0 else { throw .invalidWeights("weights must not all be zero") }
        var mixture = GaussianMixture(storageFor: k, dimensions: d, covarianceType: covarianceType)
        mixture.weights = normalize ? weights.map { $0 / total } : weights
        mixture.means = means
        mixture.covariances = covariances
        try mixture.refreshFactors()
        self = mixture
    }

    /// Weights 1/K and the factors for them, in place: what the validating
    /// initializer gives K equal weights (each 1 / (1 + … + 1), and that sum is K
    /// exactly) with these means and covariances. Gaussian HMM emissions are a
    /// mixture with equal weights.
    mutating func equalizeWeights() throws(MixtureError) {
        let k = components, weight = 1 / Double(k)
        weights.withUnsafeMutableBufferPointer { w in for j in 0..<k { w[j] = weight } }
        try refreshFactors()
    }

    /// Zeroed storage of the right shapes, for the M-step to fill (`init(statistics:)`).
    init(storageFor k: Int, dimensions d: Int, covarianceType: CovarianceType) {
        components = k
        dimensions = d
        self.covarianceType = covarianceType
        let count = covarianceType.parameterCount(components: k, dimensions: d)
        weights = [Double](repeating: 0, count: k)
        means = [Double](repeating: 0, count: k * d)
        covariances = [Double](repeating: 0, count: count)
        precisionFactors = [Double](repeating: 0, count: count)
        logNormalizers = [Double](repeating: 0, count: k)
        diagonalBlocks = covarianceType == .diag ? [SIMD4<Double>](repeating: .zero, count: (k + 3) / 4 * d * 2) : []
        panelBlockSize = 0
        for r in 0..<((d + 3) / 4) { panelBlockSize += min(4 * r + 4, d) }
        let panels = covarianceType == .full ? k : covarianceType == .tied ? 1 : 0
        factorPanels = [SIMD4<Double>](repeating: .zero, count: panels * panelBlockSize)
    }

    /// Recomputes the precision factors and normalizers from the covariances, in
    /// place. With `jitterFloor` (the M-step), a full block that fails Cholesky gets
    /// diagonal jitter growing tenfold from the floor until it factors; without it
    /// (parameters given by a user or a checkpoint) that is an error.
    mutating func refreshFactors(jitterFloor: Double? = nil) throws(MixtureError) {
        let k = components, d = dimensions
        // logNormalizers holds ½·log|Σ⁻¹| = Σ log diag(L⁻¹) until the last loop (diag: whole).
        switch covarianceType {
        case .full, .tied:
            let blocks = covarianceType == .full ? k : 1
            for b in 0..<blocks {
                var jitter = jitterFloor ?? 0
                while true {
                    let factored = precisionFactors.withUnsafeMutableBufferPointer { f in
                        covariances.withUnsafeBufferPointer { c in
                            let m = f.baseAddress! + b * d * d
                            for i in 0..<(d * d) { m[i] = c[b * d * d + i] }
                            return Cholesky.factor(m, d)
                        }
                    }
                    if factored { break }
                    guard jitterFloor != nil else { throw .notPositiveDefinite(component: b) }
                    for i in 0..<d { covariances[b * d * d + i * d + i] += jitter }
                    jitter *= 10
                }
                var logDet = 0.0
                precisionFactors.withUnsafeMutableBufferPointer { f in
                    let m = f.baseAddress! + b * d * d
                    Cholesky.invertLower(m, d)
                    for i in 0..<d { logDet += _log(m[i * d + i]) }
                }
                if covarianceType == .full { logNormalizers[b] = logDet } else {
                    for j in 0..<k { logNormalizers[j] = logDet }
                }
            }
        case .diag:
            // One log per component where possible: log w_k − ½·log Π_i σ²_ki as
            // log(w_k / √Π σ²), instead of a log per weight and per variance. The M-step
            // runs every mini-batch, and its logs were a sixth of diag ingest (perf).
            // Products or ratios outside the normal range fall back to a log per variance.
            // Through buffer pointers, four reciprocals per vector division: array
            // subscripts and a scalar division per variance were a tenth of diagonal
            // ingest on batches (perf), where the M-step runs every 16 observations.
            // The positivity test as a vector mask beside the divisions; a scalar loop
            // with an early exit was a sixth of this function.
            var failed: Int? = nil
            covariances.withUnsafeBufferPointer { cov in
                precisionFactors.withUnsafeMutableBufferPointer { f in
                    let cov = cov.baseAddress!, f = f.baseAddress!, n = k * d
                    var positive = SIMDMask<SIMD4<Int64>>(repeating: true), tailPositive = true
                    var i = 0
                    while i + 4 <= n {
                        let v = load4(cov + i)
                        positive = positive .& (v .> 0)
                        store4(1 / v, f + i)
                        i += 4
                    }
                    while i < n { tailPositive = tailPositive && cov[i] > 0; f[i] = 1 / cov[i]; i += 1 }
                    if !all(positive) || !tailPositive {
                        for i in 0..<n where !(cov[i] > 0) { failed = i / d; break }
                    }
                }
            }
            if let failed { throw .notPositiveDefinite(component: failed) }
            // Each component's product Π σ², then `diagonalLogNormalizers`.
            let constant = 0.5 * Double(d) * log2Pi
            covariances.withUnsafeBufferPointer { cov in
                weights.withUnsafeBufferPointer { w in
                    logNormalizers.withUnsafeMutableBufferPointer { ln in
                        let ln = ln.baseAddress!
                        for j in 0..<k {
                            let v = cov.baseAddress! + j * d
                            var product = 1.0
                            for t in 0..<d { product *= v[t] }
                            ln[j] = product
                        }
                        Self.diagonalLogNormalizers(ln, covariances: cov.baseAddress!, weights: w.baseAddress!,
                                                    components: k, dimensions: d, constant: constant)
                    }
                }
            }
        case .spherical:
            for j in 0..<k {
                let v = covariances[j]
                guard v > 0 else { throw .notPositiveDefinite(component: j) }
                precisionFactors[j] = 1 / v
                logNormalizers[j] = -0.5 * Double(d) * _log(v)
            }
        }
        // The SIMD layouts, through buffer pointers: element-wise array subscripts paid
        // a uniqueness check per entry, a fifth of a full D=32 M-step.
        let blockSize = panelBlockSize
        precisionFactors.withUnsafeBufferPointer { f in
            if covarianceType == .full || covarianceType == .tied {
                factorPanels.withUnsafeMutableBufferPointer { panels in
                    for b in 0..<(covarianceType == .full ? k : 1) {
                        var offset = b * blockSize
                        for r in 0..<((d + 3) / 4) {
                            for p in 0..<min(4 * r + 4, d) {
                                for lane in 0..<4 where 4 * r + lane < d && p <= 4 * r + lane {
                                    panels[offset + p][lane] = f[b * d * d + (4 * r + lane) * d + p]
                                }
                            }
                            offset += min(4 * r + 4, d)
                        }
                    }
                }
            }
            if covarianceType == .diag {
                means.withUnsafeBufferPointer { mu in
                    diagonalBlocks.withUnsafeMutableBufferPointer { blocks in
                        // As doubles: lane j % 4 of block (j / 4, i) is double 8·((j/4)·D + i) + j % 4
                        // (means) and 4 after it (precisions). Lane inserts per entry cost more.
                        blocks.withMemoryRebound(to: Double.self) { lanes in
                            for j in 0..<k {
                                let m = mu.baseAddress! + j * d, p = f.baseAddress! + j * d
                                var out = lanes.baseAddress! + 8 * (j / 4) * d + j % 4
                                for i in 0..<d {
                                    out[0] = m[i]
                                    out[4] = p[i]
                                    out += 8
                                }
                            }
                        }
                    }
                }
            }
        }
        if covarianceType != .diag {  // diag wrote its normalizers whole
            for j in 0..<k {
                logNormalizers[j] = _log(weights[j]) - 0.5 * Double(d) * log2Pi + logNormalizers[j]
            }
        }
    }

}

extension GaussianMixture {
    /// Component j's covariance as a dense D×D row-major matrix, whatever the type.
    public func covarianceMatrix(_ j: Int) -> [Double] {
        let d = dimensions
        var m = [Double](repeating: 0, count: d * d)
        switch covarianceType {
        case .full: for i in 0..<(d * d) { m[i] = covariances[j * d * d + i] }
        case .tied: m = covariances
        case .diag: for i in 0..<d { m[i * d + i] = covariances[j * d + i] }
        case .spherical: for i in 0..<d { m[i * d + i] = covariances[j] }
        }
        return m
    }

    /// Σ_k w_k Σ_k, a typical component covariance: its lower triangle, packed row by
    /// row (entry (r, c), c ≤ r, at r(r+1)/2 + c), into `out` (D(D+1)/2 doubles),
    /// summed over k in order. Without allocating: re-seeding a dead component runs
    /// inside learning, where the D×D version this replaced built K + 1 arrays.
    public func packedAverageCovariance(into out: UnsafeMutablePointer<Double>) {
        let k = components, d = dimensions
        out.update(repeating: 0, count: d * (d + 1) / 2)
        weights.withUnsafeBufferPointer { w in
            covariances.withUnsafeBufferPointer { cov in
                for j in 0..<k {
                    var p = 0
                    for r in 0..<d {
                        for c in 0...r {
                            let entry: Double
                            switch covarianceType {
                            case .full: entry = cov[j * d * d + r * d + c]
                            case .tied: entry = cov[r * d + c]
                            case .diag: entry = r == c ? cov[j * d + r] : 0
                            case .spherical: entry = r == c ? cov[j] : 0
                            }
                            out[p] += w[j] * entry
                            p += 1
                        }
                    }
                }
            }
        }
    }
}
