/// The emission side of a hidden Markov model: p(x | z = j) and its statistics.
///
/// A protocol because there are real alternatives (Gaussian, categorical)
/// behind the same forward–backward, Viterbi and Baum–Welch code. Every
/// observation is `observationWidth` doubles: a D-vector, or one symbol index.
public protocol EmissionModel: Sendable, Equatable {
    associatedtype Statistics: EmissionStatistics
    var states: Int { get }
    /// Bytes of array storage the parameters hold (HeapBytes.swift).
    var heapBytes: Int { get }
    var observationWidth: Int { get }
    /// Doubles of scratch `logDensities` and `accumulate` need.
    var scratchCount: Int { get }
    /// log p(x | z = j) for every state j.
    func logDensities(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>)
    /// e_j = p(x | z = j)·exp(−m) for every state j, with e_j ≤ 1 for the
    /// largest (what the forward filter multiplies in); returns m (−∞ when no
    /// state can emit x). A requirement, not only an extension, so that
    /// categorical emissions can read their probabilities instead of paying
    /// N exps for the logarithms of them.
    func scaledLikelihoods(_ x: UnsafePointer<Double>, into e: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) -> Double
    func emptyStatistics() -> Statistics
    /// The emission M-step.
    init(statistics: Statistics, options: EmissionOptions) throws(MixtureError)
    /// The emission M-step into this model's storage: the same bits as
    /// `init(statistics:options:)`, without allocating. On a throw the model is
    /// garbage (the HMM learner double-buffers its models).
    mutating func update(statistics: Statistics, options: EmissionOptions) throws(MixtureError)
    /// Draws one observation from state `state` into `x` (`observationWidth`
    /// doubles). Synthetic data for learning-quality checks must be
    /// reproducible outside Swift, so each model documents its exact draws.
    func sample(state: Int, rng: inout Xoshiro256StarStar, into x: UnsafeMutablePointer<Double>)
}

extension EmissionModel {
    /// exp(log p(x | j) − max_k log p(x | k)): nothing underflows however far x is.
    @inline(__always)
    public func scaledLikelihoods(_ x: UnsafePointer<Double>, into e: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) -> Double {
        logDensities(x, into: e, scratch: scratch)
        return shiftedExponentials(e, states)
    }
}

/// Emission sufficient statistics: γ-weighted sums that blend like the GMM's.
public protocol EmissionStatistics: Sendable, Equatable {
    /// Bytes of array storage the statistics hold (HeapBytes.swift).
    var heapBytes: Int { get }
    mutating func accumulate(_ x: UnsafePointer<Double>, gamma: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>)
    mutating func scale(by factor: Double)
    mutating func blend(toward other: Self, step eta: Double)
    mutating func reset()
    /// Every array, in a fixed order, for exact encoding.
    var arrays: [[Double]] { get set }

    // Flat access: the arrays of `arrays` concatenated into one vector, without
    // allocating. The recursive online EM (`RecursiveEstimator.swift`) carries
    // the emission statistics inside per-state vectors it combines linearly, so
    // it needs them as plain doubles rather than as a value of `Self`.

    /// Doubles in the flat layout (the total length of `arrays`).
    var flatCount: Int { get }
    /// Writes the flat layout to `flat` (`flatCount` doubles).
    func copyFlat(into flat: UnsafeMutablePointer<Double>)
    /// Reads every statistic back from a flat layout; the shape is unchanged.
    mutating func setFlat(from flat: UnsafePointer<Double>)
    /// Adds w times the statistic of one observation x assigned to state k with
    /// certainty (what `accumulate` adds with γ = w·e_k) to a flat vector. Only
    /// the shape of `self` is used. `scratch` as for `accumulate`.
    func addOneHot(_ x: UnsafePointer<Double>, state k: Int, weight w: Double,
                   into flat: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>)
}

/// Regularization of the emission M-step.
public struct EmissionOptions: Sendable, Hashable {
    /// Gaussian: the mixture M-step's options (reg_covar and the covariance prior).
    public var gaussian: MStepOptions
    /// Categorical: Dirichlet concentration on each state's symbol distribution (1 = none).
    public var symbolConcentration: Double

    public init(gaussian: MStepOptions = MStepOptions(), symbolConcentration: Double = 1) {
        self.gaussian = gaussian
        self.symbolConcentration = symbolConcentration
    }
}

extension MixtureStatistics: EmissionStatistics {
    public var arrays: [[Double]] {
        get { [counts, sums, secondMoments] }
        set { counts = newValue[0]; sums = newValue[1]; secondMoments = newValue[2] }
    }

    /// [counts K | sums K×D | secondMoments].
    public var flatCount: Int { counts.count + sums.count + secondMoments.count }

    public func copyFlat(into flat: UnsafeMutablePointer<Double>) {
        var p = flat
        for v in counts { p.pointee = v; p += 1 }
        for v in sums { p.pointee = v; p += 1 }
        for v in secondMoments { p.pointee = v; p += 1 }
    }

    public mutating func setFlat(from flat: UnsafePointer<Double>) {
        var p = flat
        for i in counts.indices { counts[i] = p.pointee; p += 1 }
        for i in sums.indices { sums[i] = p.pointee; p += 1 }
        for i in secondMoments.indices { secondMoments[i] = p.pointee; p += 1 }
    }

    /// The one-state case of `accumulate`: count w, sum w·x, second moment w·xxᵀ
    /// (or its diagonal, trace, or, for tied, the pooled triangle). xxᵀ is
    /// formed on the fly, so `scratch` is not used.
    @inline(__always)
    public func addOneHot(_ x: UnsafePointer<Double>, state k: Int, weight w: Double,
                          into flat: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let d = dimensions
        flat[k] += w
        let row = flat + components + k * d
        for i in 0..<d { row[i] += w * x[i] }
        let second = flat + components + components * d
        switch covarianceType {
        case .full, .tied:
            var m = second + (covarianceType == .full ? k * packedCount(d) : 0)
            for i in 0..<d {
                let wx = w * x[i]
                for j in 0...i { m.pointee += wx * x[j]; m += 1 }
            }
        case .diag:
            let m = second + k * d
            for i in 0..<d { m[i] += w * x[i] * x[i] }
        case .spherical:
            var q = 0.0
            for i in 0..<d { q += x[i] * x[i] }
            second[k] += w * q
        }
    }
}

/// Gaussian emissions: one Gaussian per state. The densities and statistics are
/// the mixture's own code, with equal weights so that log N(x | μ_j, Σ_j) is the
/// mixture's log-joint plus log N.
public struct GaussianEmissions: EmissionModel {
    public private(set) var densities: GaussianMixture
    private let logStates: Double

    public init(states: Int, means: [Double], covariances: [Double], covarianceType: CovarianceType) throws(MixtureError) {
        densities = try GaussianMixture(
            weights: [Double](repeating: 1, count: states), means: means, covariances: covariances, covarianceType: covarianceType)
        logStates = _log(Double(states))
    }

    public var states: Int { densities.components }
    public var observationWidth: Int { densities.dimensions }
    public var scratchCount: Int { max(densities.dimensions, packedCount(densities.dimensions)) }

    @inline(__always)
    public func logDensities(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        densities.fillLogJoint(x, into: out, scratch: scratch)
        for j in 0..<states { out[j] += logStates }
    }

    public func emptyStatistics() -> MixtureStatistics {
        MixtureStatistics(components: states, dimensions: observationWidth, covarianceType: densities.covarianceType)
    }

    /// Means and covariances from γ-weighted statistics; the mixture weights the
    /// M-step also computes play no part in emissions and are dropped.
    public init(statistics: MixtureStatistics, options: EmissionOptions) throws(MixtureError) {
        let fitted = try GaussianMixture(statistics: statistics, options: options.gaussian)
        try self.init(states: fitted.components, means: fitted.means, covariances: fitted.covariances,
                      covarianceType: fitted.covarianceType)
    }

    /// The mixture M-step in place, then the equal weights and factors that
    /// `init(states:means:covariances:covarianceType:)` gives the fitted parameters.
    public mutating func update(statistics: MixtureStatistics, options: EmissionOptions) throws(MixtureError) {
        try densities.update(statistics: statistics, options: options.gaussian)
        try densities.equalizeWeights()
    }

    /// x = μ_j + L_j·z with z = D standard normals drawn in order i = 0..<D
    /// (`rng.normal()`, two uniforms each) and L_j the lower Cholesky factor
    /// of Σ_j from `Cholesky.factor`; x_i = μ_ji + ((L_i0·z_0 + L_i1·z_1) + …)
    /// summed in increasing column, no fused multiply-add. For diag and
    /// spherical, x_i = μ_ji + √σ²_ji·z_i. L is recomputed per draw (stack
    /// scratch) rather than stored, so fitting, which never samples, pays nothing.
    public func sample(state j: Int, rng: inout Xoshiro256StarStar, into x: UnsafeMutablePointer<Double>) {
        let d = observationWidth
        let means = densities.means, covariances = densities.covariances
        switch covarianceType {
        case .diag:
            for i in 0..<d { x[i] = means[j * d + i] + covariances[j * d + i].squareRoot() * rng.normal() }
        case .spherical:
            let sd = covariances[j].squareRoot()
            for i in 0..<d { x[i] = means[j * d + i] + sd * rng.normal() }
        case .full, .tied:
            let offset = covarianceType == .full ? j * d * d : 0
            withUnsafeTemporaryAllocation(of: Double.self, capacity: d * d + d) { buffer in
                let l = buffer.baseAddress!, z = l + d * d
                for i in 0..<(d * d) { l[i] = covariances[offset + i] }
                Cholesky.factor(l, d)  // cannot fail: the initializer checked positive definiteness
                for i in 0..<d { z[i] = rng.normal() }
                for i in 0..<d {
                    var s = l[i * d] * z[0]
                    for k in stride(from: 1, through: i, by: 1) { s += l[i * d + k] * z[k] }
                    x[i] = means[j * d + i] + s
                }
            }
        }
    }

    public var means: [Double] { densities.means }
    public var covariances: [Double] { densities.covariances }
    public var covarianceType: CovarianceType { densities.covarianceType }
}
