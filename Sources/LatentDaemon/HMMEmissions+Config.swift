import LatentCore

/// What the daemon needs to know about an emission family beyond the
/// numerics: how `init:` becomes emissions and how they are published.
protocol DaemonEmissions: SeedableEmissions {
    /// The `init` emissions of a validated config (nil without `init`).
    static func initial(_ config: ModelConfig) throws -> Self?
    /// The emission part of `params/<model>`'s `params` object (keys only).
    func writeParams(into w: inout JSONWriter)
}

extension GaussianEmissions: DaemonEmissions {
    static func initial(_ c: ModelConfig) throws -> GaussianEmissions? {
        guard let i = c.initial, let means = i.means, let cov = i.covariances, let n = c.states else { return nil }
        do {
            return try GaussianEmissions(states: n, means: means.flatMap { $0 }, covariances: cov.flattened,
                                         covarianceType: c.covariance)
        } catch {
            throw DaemonError("models[\(c.name)].init: \(error)")
        }
    }

    func writeParams(into w: inout JSONWriter) {
        let n = states, d = observationWidth
        w.key("covariance"); w.string(covarianceType.rawValue)
        w.key("means"); MixtureHost.writeRows(means, width: d, into: &w)
        w.key("covariances")
        switch covarianceType {
        case .full:
            w.beginArray()
            for j in 0..<n { MixtureHost.writeRows(Array(covariances[(j * d * d)..<((j + 1) * d * d)]), width: d, into: &w) }
            w.endArray()
        case .diag, .tied: MixtureHost.writeRows(covariances, width: d, into: &w)
        case .spherical: w.doubles(covariances)
        }
    }
}

extension CategoricalEmissions: DaemonEmissions {
    static func initial(_ c: ModelConfig) throws -> CategoricalEmissions? {
        guard let rows = c.initial?.emissions, let n = c.states, let m = c.symbols?.count else { return nil }
        do {
            return try CategoricalEmissions(states: n, symbols: m, probabilities: rows.flatMap { $0 })
        } catch {
            throw DaemonError("models[\(c.name)].init: \(error)")
        }
    }

    func writeParams(into w: inout JSONWriter) {
        w.key("emissions"); MixtureHost.writeRows(probabilities, width: symbols, into: &w)
    }
}

extension ModelConfig {
    /// Learner settings of a validated HMM config.
    func hmmSettings() throws -> HMMLearnerSettings {
        guard let n = states else { throw DaemonError("model \(name): an hmm needs states") }
        let shape: EmissionShape
        switch emission {
        case .gaussian:
            guard let d = dimensions else { throw DaemonError("model \(name): a gaussian hmm needs dimensions") }
            shape = .gaussian(dimensions: d, covariance: covariance)
        case .categorical:
            guard let m = symbols?.count else { throw DaemonError("model \(name): a categorical hmm needs symbols") }
            shape = .categorical(symbols: m)
        }
        var s = HMMLearnerSettings(states: n, shape: shape)
        s.lag = lag
        s.window = window
        s.hard = learning.estimator == .hard
        s.recursive = learning.hmmEstimator == .recursive
        s.frozen = learning.mode == .frozen
        s.alpha = learning.alpha
        s.batch = learning.batch
        s.minStep = learning.effectiveMinStep
        s.warmup = learning.warmup
        s.nInit = learning.nInit
        s.seed = seed
        s.options = HMMOptions(emission: EmissionOptions(gaussian: MStepOptions(regCovar: learning.regCovar)))
        return s
    }

    /// The `init` model of a validated HMM config.
    func hmmInitial<E: DaemonEmissions>(_: E.Type) throws -> HiddenMarkovModel<E>? {
        guard let i = initial, let start = i.start, let transitions = i.transitions, let emissions = try E.initial(self) else {
            return nil
        }
        do {
            return try HiddenMarkovModel(start: start, transitions: transitions.flatMap { $0 }, emissions: emissions)
        } catch {
            throw DaemonError("models[\(name)].init: \(error)")
        }
    }
}
