import LatentCore
import Foundation

/// One entry of `models:` (SPEC §3): a GMM or an HMM learned from one topic.
///
/// The schema for both kinds is one flat struct because the file is flat. Keys
/// that exist for one kind only are optional (`components`, `states`,
/// `symbols`) or carry the SPEC default (`lag`, `window`, ...); `validate()`
/// reports any of them written on the wrong kind, using `specifiedKeys`.
public struct ModelConfig: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case gmm, hmm }

    /// `tied` (one D×D matrix shared by all components) exists for GMMs only.
    /// The numerics module's own enum, so config and models cannot drift apart.
    public typealias CovarianceType = LatentCore.CovarianceType

    public enum Emission: String, Sendable, Hashable, CaseIterable { case gaussian, categorical }

    /// How input payloads are encoded (SPEC §4).
    public enum PayloadFormat: String, Sendable, Hashable, CaseIterable { case json, f64le, f32le }

    /// `[A-Za-z0-9_.-]+`, unique: used in topics (`posterior/<name>`) and file names.
    public var name: String
    /// Input topic prefix this model consumes.
    public var topic: String
    public var kind: Kind
    /// D. Required for a GMM and a gaussian HMM, absent for a categorical HMM.
    public var dimensions: Int?
    /// K, GMM only.
    public var components: Int?
    /// N, HMM only.
    public var states: Int?
    /// Meaningless for a categorical HMM (must then not be written).
    public var covariance: CovarianceType
    public var format: PayloadFormat
    /// Seeds k-means++ and re-seeding; same seed + same input = same parameters.
    public var seed: UInt64
    public var learning: LearningConfig
    /// YAML `init`: optional starting parameters (required for `mode: frozen`).
    public var initial: InitConfig?
    public var publish: PublishConfig

    // HMM only.
    public var emission: Emission
    /// Categorical HMM alphabet.
    public var symbols: Symbols?
    /// Fixed-lag smoothing delay in observations, 0 = off.
    public var lag: Int
    /// Observations per forward-backward expected-count window.
    public var window: Int
    /// An idle sequence is ended (and its Viterbi path published) after this.
    public var sequenceTimeout: ConfigDuration
    /// Bound on concurrently tracked sequences (memory).
    public var maxSequences: Int

    /// YAML keys written in the file for this model (empty when built in code).
    /// Only used to report kind-specific keys on the wrong kind; excluded from
    /// equality so that two configs meaning the same thing compare equal.
    public var specifiedKeys: SpecifiedKeys = SpecifiedKeys()

    public init(
        name: String, topic: String, kind: Kind,
        dimensions: Int? = nil, components: Int? = nil, states: Int? = nil,
        covariance: CovarianceType = .full, format: PayloadFormat = .json, seed: UInt64 = 1,
        learning: LearningConfig = LearningConfig(), initial: InitConfig? = nil,
        publish: PublishConfig = PublishConfig(),
        emission: Emission = .gaussian, symbols: Symbols? = nil, lag: Int = 0, window: Int = 64,
        sequenceTimeout: ConfigDuration = .minutes(5), maxSequences: Int = 100_000
    ) {
        self.name = name
        self.topic = topic
        self.kind = kind
        self.dimensions = dimensions
        self.components = components
        self.states = states
        self.covariance = covariance
        self.format = format
        self.seed = seed
        self.learning = learning
        self.initial = initial
        self.publish = publish
        self.emission = emission
        self.symbols = symbols
        self.lag = lag
        self.window = window
        self.sequenceTimeout = sequenceTimeout
        self.maxSequences = maxSequences
    }

    /// K for a GMM, N for an HMM (0 if missing, which `validate()` reports).
    public var latentCount: Int { (kind == .gmm ? components : states) ?? 0 }

    /// True for an HMM with categorical emissions (observations are symbols).
    public var isCategorical: Bool { kind == .hmm && emission == .categorical }
}

/// The keys a mapping had in the file. Equality and hashing ignore it on
/// purpose: where a value came from is provenance, not configuration.
public struct SpecifiedKeys: Sendable, Hashable {
    public var names: Set<String>

    public init(_ names: Set<String> = []) { self.names = names }

    public func contains(_ key: String) -> Bool { names.contains(key) }

    public static func == (_: SpecifiedKeys, _: SpecifiedKeys) -> Bool { true }
    public func hash(into _: inout Hasher) {}
}

/// `learning:` — how the model adapts (SPEC §5).
public struct LearningConfig: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Stepwise (online) EM.
        case stepwise
        /// Inference only with the `init` parameters.
        case frozen
    }

    public enum Estimator: String, Sendable, Hashable, CaseIterable {
        /// Expected statistics (EM).
        case soft
        /// Hard assignments (online k-means / Viterbi training).
        case hard
    }

    public enum HMMEstimator: String, Sendable, Hashable, CaseIterable {
        /// Forward-backward per window of `window` observations.
        case windowed
        /// Recursive (online) EM of Cappé 2011.
        case recursive
    }

    public var mode: Mode
    public var estimator: Estimator
    /// Step size exponent: eta_t = (t + 2)^-alpha, 0.5 < alpha <= 1.
    public var alpha: Double
    /// Observations per stepwise update (mini-batch).
    public var batch: Int
    /// YAML `min_step`: floor of eta_t. Alternative to `halfLife`.
    public var minStep: Double?
    /// YAML `half_life`, in observations. Alternative to `minStep`.
    public var halfLife: Double?
    /// Observations buffered before the first model exists.
    public var warmup: Int
    /// YAML `n_init`: k-means++ restarts on the warm-up buffer.
    public var nInit: Int
    /// YAML `reg_covar`: added to covariance diagonals.
    public var regCovar: Double
    /// Polyak–Ruppert averaging of the statistics.
    public var averaging: Bool
    /// YAML `hmm_estimator`, HMM only.
    public var hmmEstimator: HMMEstimator
    /// Keys written in the file (see `ModelConfig.specifiedKeys`).
    public var specifiedKeys: SpecifiedKeys = SpecifiedKeys()

    public init(
        mode: Mode = .stepwise, estimator: Estimator = .soft, alpha: Double = 0.6, batch: Int = 16,
        minStep: Double? = nil, halfLife: Double? = nil, warmup: Int = 200, nInit: Int = 3,
        regCovar: Double = 1e-6, averaging: Bool = false, hmmEstimator: HMMEstimator = .windowed
    ) {
        self.mode = mode
        self.estimator = estimator
        self.alpha = alpha
        self.batch = batch
        self.minStep = minStep
        self.halfLife = halfLife
        self.warmup = warmup
        self.nInit = nInit
        self.regCovar = regCovar
        self.averaging = averaging
        self.hmmEstimator = hmmEstimator
    }

    /// The step-size floor actually used, per mini-batch step. A half-life of H
    /// observations is H / batch steps, and a constant step m halves the weight
    /// of old statistics after n steps when (1 - m)^n = 1/2, hence
    /// m = 1 - 0.5^(batch / H). Without either key: 0 (no forgetting).
    public var effectiveMinStep: Double {
        if let halfLife, halfLife > 0 {
            return 1 - pow(0.5, Double(batch) / halfLife)
        }
        return minStep ?? 0
    }
}

/// `publish:` — what goes out on the PUB socket (SPEC §4).
public struct PublishConfig: Sendable, Hashable {
    /// Send `posterior/<model>` for every input message.
    public var posteriors: Bool
    /// YAML `params_every`: observations between `params/<model>` messages.
    public var paramsEvery: Int

    public init(posteriors: Bool = true, paramsEvery: Int = 1000) {
        self.posteriors = posteriors
        self.paramsEvery = paramsEvery
    }
}

/// A categorical HMM's alphabet: `symbols: ["H", "T"]` or `symbols: 6`.
public enum Symbols: Sendable, Hashable {
    case names([String])
    /// `n` symbols named "0" ... "n-1".
    case count(Int)

    public var count: Int {
        switch self {
        case .names(let names): return names.count
        case .count(let n): return n
        }
    }

    /// Symbol names by index; a count gives decimal names, so JSON `"x": "3"`
    /// and `"x": 3` mean the same.
    public var names: [String] {
        switch self {
        case .names(let names): return names
        case .count(let n): return n > 0 ? (0..<n).map(String.init) : []
        }
    }
}

/// `init:` — starting parameters. All keys are optional in the schema; which
/// must be present depends on the kind (checked by `validate()`): a GMM needs
/// weights, means, covariances; an HMM start, transitions, and either means and
/// covariances (gaussian) or emissions (categorical).
public struct InitConfig: Sendable, Hashable {
    public var weights: [Double]?
    /// K×D (GMM) or N×D (gaussian HMM).
    public var means: [[Double]]?
    /// Shape depends on the covariance type; see `covariances(as:)`.
    public var covariances: NumericTree?
    public var start: [Double]?
    public var transitions: [[Double]]?
    /// N×M emission probabilities of a categorical HMM.
    public var emissions: [[Double]]?

    public init(
        weights: [Double]? = nil, means: [[Double]]? = nil, covariances: NumericTree? = nil,
        start: [Double]? = nil, transitions: [[Double]]? = nil, emissions: [[Double]]? = nil
    ) {
        self.weights = weights
        self.means = means
        self.covariances = covariances
        self.start = start
        self.transitions = transitions
        self.emissions = emissions
    }

    /// The covariances read with the shape of `type`: full K×D×D, diag K×D,
    /// spherical K, tied D×D. Nil if absent or not of that shape (validated
    /// configs always match).
    public func covariances(as type: ModelConfig.CovarianceType) -> CovarianceValues? {
        guard let tree = covariances else { return nil }
        switch type {
        case .full: return tree.tensor3.map(CovarianceValues.full)
        case .diag: return tree.matrix.map(CovarianceValues.diag)
        case .spherical: return tree.vector.map(CovarianceValues.spherical)
        case .tied: return tree.matrix.map(CovarianceValues.tied)
        }
    }
}

/// Initial covariances in the shape of their type (the same shapes as the
/// `params/<model>` output of SPEC §4).
public enum CovarianceValues: Sendable, Hashable {
    case full([[[Double]]])
    case diag([[Double]])
    case spherical([Double])
    case tied([[Double]])

    /// One full D×D matrix per component, whatever the type, for code that
    /// only handles full matrices.
    public func fullMatrices(components: Int, dimensions d: Int) -> [[[Double]]] {
        func diagonal(_ values: [Double]) -> [[Double]] {
            (0..<d).map { i in (0..<d).map { j in i == j ? values[i] : 0 } }
        }
        switch self {
        case .full(let matrices): return matrices
        case .diag(let rows): return rows.map(diagonal)
        case .spherical(let values): return values.map { diagonal(Array(repeating: $0, count: d)) }
        case .tied(let matrix): return Array(repeating: matrix, count: components)
        }
    }
}

/// A number or an arbitrarily nested list of numbers: how `init.covariances`
/// is decoded before the covariance type tells which shape it must have
/// (diag K×D and tied D×D are both matrices, so the shape alone can't decide).
public indirect enum NumericTree: Sendable, Hashable {
    case number(Double)
    case list([NumericTree])

    public var vector: [Double]? {
        guard case .list(let items) = self else { return nil }
        var out: [Double] = []
        for item in items {
            guard case .number(let x) = item else { return nil }
            out.append(x)
        }
        return out
    }

    public var matrix: [[Double]]? {
        guard case .list(let rows) = self else { return nil }
        var out: [[Double]] = []
        for row in rows {
            guard let values = row.vector else { return nil }
            out.append(values)
        }
        return out
    }

    public var tensor3: [[[Double]]]? {
        guard case .list(let items) = self else { return nil }
        var out: [[[Double]]] = []
        for item in items {
            guard let m = item.matrix else { return nil }
            out.append(m)
        }
        return out
    }
}
