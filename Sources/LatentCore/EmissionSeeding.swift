/// What an HMM's emissions look like before any parameters exist: enough to
/// build empty statistics and to seed a first model from warm-up data.
public enum EmissionShape: Sendable, Hashable {
    case gaussian(dimensions: Int, covariance: CovarianceType)
    case categorical(symbols: Int)

    /// Doubles per observation.
    public var observationWidth: Int {
        switch self {
        case .gaussian(let d, _): return d
        case .categorical: return 1
        }
    }
}

/// Emissions that can start from data alone (the warm-up of SPEC §5). Separate
/// from `EmissionModel` because only the learner needs it.
public protocol SeedableEmissions: EmissionModel {
    /// Empty statistics of the given shape.
    static func emptyStatistics(states: Int, shape: EmissionShape) -> Statistics
    /// A first guess from pooled observations (row-major); nil if the data
    /// cannot support one. Randomized by `rng`, so restarts differ.
    static func seeded(from data: [Double], states: Int, shape: EmissionShape, options: EmissionOptions,
                       rng: inout Xoshiro256StarStar) -> Self?
    /// The statistics N observations with state weights `w` would give if they
    /// followed these emissions exactly: how given `init` parameters become the
    /// learner's starting statistics.
    func impliedStatistics(stateWeights w: [Double]) -> Statistics
    /// The parameters as plain arrays, and back with their exact bits (checkpoints).
    var parameterArrays: [[Double]] { get }
    init(restoring arrays: [[Double]], states: Int, shape: EmissionShape) throws(MixtureError)
}

extension GaussianEmissions: SeedableEmissions {
    public static func emptyStatistics(states: Int, shape: EmissionShape) -> MixtureStatistics {
        guard case .gaussian(let d, let type) = shape else { preconditionFailure("Gaussian emissions need a Gaussian shape") }
        return MixtureStatistics(components: states, dimensions: d, covarianceType: type)
    }

    /// k-means++ then Lloyd on the pooled warm-up observations, one state per
    /// cluster, covariances from the clusters (as the mixture's warm-up does).
    public static func seeded(from data: [Double], states n: Int, shape: EmissionShape, options: EmissionOptions,
                              rng: inout Xoshiro256StarStar) -> GaussianEmissions? {
        guard case .gaussian(let d, _) = shape, data.count >= n * d else { return nil }
        let centers = KMeansPlusPlus.seed(data, dimensions: d, clusters: n, rng: &rng)
        let (_, labels) = KMeansPlusPlus.lloyd(data, dimensions: d, centers: centers, iterations: 10)
        var stats = emptyStatistics(states: n, shape: shape)
        var onehot = [Double](repeating: 0, count: n)
        var scratch = [Double](repeating: 0, count: max(d, packedCount(d)))
        data.withUnsafeBufferPointer { xs in
            scratch.withUnsafeMutableBufferPointer { s in
                for (row, label) in labels.enumerated() {
                    onehot[label] = 1
                    stats.accumulate(xs.baseAddress! + row * d, gamma: onehot, scratch: s.baseAddress!)
                    onehot[label] = 0
                }
            }
        }
        return try? GaussianEmissions(statistics: stats, options: options)
    }

    public func impliedStatistics(stateWeights w: [Double]) -> MixtureStatistics {
        guard let weighted = try? GaussianMixture(
            weights: w, means: means, covariances: covariances, covarianceType: covarianceType, normalize: false)
        else { return emptyStatistics() }
        return MixtureStatistics(expectedUnder: weighted, regularization: 0)
    }

    public var parameterArrays: [[Double]] { [means, covariances] }

    public init(restoring arrays: [[Double]], states: Int, shape: EmissionShape) throws(MixtureError) {
        guard arrays.count == 2, case .gaussian(_, let type) = shape else { throw .shape("Gaussian emissions store means and covariances") }
        try self.init(states: states, means: arrays[0], covariances: arrays[1], covarianceType: type)
    }
}

extension CategoricalEmissions: SeedableEmissions {
    public static func emptyStatistics(states: Int, shape: EmissionShape) -> SymbolCounts {
        guard case .categorical(let m) = shape else { preconditionFailure("categorical emissions need a categorical shape") }
        return SymbolCounts(states: states, symbols: m)
    }

    /// The pooled symbol frequencies, each state's row perturbed at random
    /// (×U(0.5, 1.5)): identical rows would be a fixed point of Baum–Welch.
    public static func seeded(from data: [Double], states n: Int, shape: EmissionShape, options: EmissionOptions,
                              rng: inout Xoshiro256StarStar) -> CategoricalEmissions? {
        guard case .categorical(let m) = shape, !data.isEmpty else { return nil }
        var frequency = [Double](repeating: 1, count: m)
        for x in data { frequency[Int(x)] += 1 }
        var p = [Double](repeating: 0, count: n * m)
        for j in 0..<n { for s in 0..<m { p[j * m + s] = frequency[s] * (0.5 + rng.uniform()) } }
        return try? CategoricalEmissions(states: n, symbols: m, probabilities: p)
    }

    public func impliedStatistics(stateWeights w: [Double]) -> SymbolCounts {
        var counts = SymbolCounts(states: states, symbols: symbols)
        for j in 0..<states { for m in 0..<symbols { counts.counts[j * symbols + m] = w[j] * probabilities[j * symbols + m] } }
        return counts
    }

    public var parameterArrays: [[Double]] { [probabilities] }

    public init(restoring arrays: [[Double]], states: Int, shape: EmissionShape) throws(MixtureError) {
        guard arrays.count == 1, case .categorical(let m) = shape else { throw .shape("categorical emissions store one N×M table") }
        try self.init(states: states, symbols: m, probabilities: arrays[0], normalize: false)
    }
}
