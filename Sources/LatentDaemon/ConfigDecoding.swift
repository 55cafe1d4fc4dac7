/// `Decodable` for the configuration types. Each `init(from:)` lists its YAML
/// keys once (the `Keys` enum), rejects any other key through the shared
/// `checkKeys` helper, and fills in the SPEC §3 defaults for absent keys.
/// Defaults live in the memberwise initialisers, so code-built and file-built
/// configs agree.

extension DaemonConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case stateDir = "state_dir", checkpoint, input, output, control, models
    }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let defaults = DaemonConfig()
        self.init(
            stateDir: try c.value(.stateDir, default: defaults.stateDir),
            checkpoint: try c.value(.checkpoint, default: defaults.checkpoint),
            input: try c.value(.input, default: defaults.input),
            output: try c.value(.output, default: defaults.output),
            control: try c.value(.control, default: defaults.control),
            models: try c.value(.models, default: defaults.models))
    }
}

extension CheckpointConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable { case interval, keep }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = CheckpointConfig()
        self.init(interval: try c.value(.interval, default: d.interval), keep: try c.value(.keep, default: d.keep))
    }
}

extension InputConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case connect, bind, rcvhwm, maxMessageSize = "max_message_size"
    }

    /// When the section names neither `connect` nor `bind`, input connects to
    /// the SPEC's loopback producer; naming only `bind` means "producers connect
    /// to me", so no default connect is added behind the user's back.
    public init(from decoder: any Decoder) throws {
        let present = try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = InputConfig()
        let bind: [String] = try c.value(.bind, default: [])
        let connectDefault = present.contains("bind") ? [] : InputConfig.defaultConnect
        self.init(
            connect: try c.value(.connect, default: connectDefault),
            bind: bind,
            rcvhwm: try c.value(.rcvhwm, default: d.rcvhwm),
            maxMessageSize: try c.value(.maxMessageSize, default: d.maxMessageSize))
    }
}

extension OutputConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable { case bind, sndhwm }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = OutputConfig()
        self.init(bind: try c.value(.bind, default: d.bind), sndhwm: try c.value(.sndhwm, default: d.sndhwm))
    }
}

extension ControlConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable { case bind }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(bind: try c.value(.bind, default: ControlConfig().bind))
    }
}

extension ModelConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case name, topic, kind, dimensions, components, states, covariance, format, seed
        case learning, initial = "init", publish
        case emission, symbols, lag, window, sequenceTimeout = "sequence_timeout", maxSequences = "max_sequences"
    }

    public init(from decoder: any Decoder) throws {
        let present = try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = ModelConfig(name: "", topic: "", kind: .gmm)
        let name = try c.decode(String.self, forKey: .name)
        let topic = try c.decode(String.self, forKey: .topic)
        guard let kind = try c.choice(Kind.self, .kind) else {
            throw DecodingError.keyNotFound(Keys.kind, .init(codingPath: c.codingPath, debugDescription: "missing"))
        }
        self.init(
            name: name, topic: topic, kind: kind,
            dimensions: try c.decodeIfPresent(Int.self, forKey: .dimensions),
            components: try c.decodeIfPresent(Int.self, forKey: .components),
            states: try c.decodeIfPresent(Int.self, forKey: .states),
            covariance: try c.choice(CovarianceType.self, .covariance) ?? d.covariance,
            format: try c.choice(PayloadFormat.self, .format) ?? d.format,
            seed: try c.value(.seed, default: d.seed),
            learning: try c.value(.learning, default: d.learning),
            initial: try c.decodeIfPresent(InitConfig.self, forKey: .initial),
            publish: try c.value(.publish, default: d.publish),
            emission: try c.choice(Emission.self, .emission) ?? d.emission,
            symbols: try c.decodeIfPresent(Symbols.self, forKey: .symbols),
            lag: try c.value(.lag, default: d.lag),
            window: try c.value(.window, default: d.window),
            sequenceTimeout: try c.value(.sequenceTimeout, default: d.sequenceTimeout),
            maxSequences: try c.value(.maxSequences, default: d.maxSequences))
        specifiedKeys = SpecifiedKeys(present)
    }
}

extension LearningConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case mode, estimator, alpha, batch, minStep = "min_step", halfLife = "half_life", warmup
        case nInit = "n_init", regCovar = "reg_covar", averaging, hmmEstimator = "hmm_estimator"
    }

    public init(from decoder: any Decoder) throws {
        let present = try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = LearningConfig()
        self.init(
            mode: try c.choice(Mode.self, .mode) ?? d.mode,
            estimator: try c.choice(Estimator.self, .estimator) ?? d.estimator,
            alpha: try c.value(.alpha, default: d.alpha),
            batch: try c.value(.batch, default: d.batch),
            minStep: try c.decodeIfPresent(Double.self, forKey: .minStep),
            halfLife: try c.decodeIfPresent(Double.self, forKey: .halfLife),
            warmup: try c.value(.warmup, default: d.warmup),
            nInit: try c.value(.nInit, default: d.nInit),
            regCovar: try c.value(.regCovar, default: d.regCovar),
            averaging: try c.value(.averaging, default: d.averaging),
            hmmEstimator: try c.choice(HMMEstimator.self, .hmmEstimator) ?? d.hmmEstimator)
        specifiedKeys = SpecifiedKeys(present)
    }
}

extension PublishConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable { case posteriors, paramsEvery = "params_every" }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        let d = PublishConfig()
        self.init(
            posteriors: try c.value(.posteriors, default: d.posteriors),
            paramsEvery: try c.value(.paramsEvery, default: d.paramsEvery))
    }
}

extension InitConfig: Decodable {
    enum Keys: String, CodingKey, CaseIterable { case weights, means, covariances, start, transitions, emissions }

    public init(from decoder: any Decoder) throws {
        try decoder.checkKeys(Keys.self)
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            weights: try c.decodeIfPresent([Double].self, forKey: .weights),
            means: try c.decodeIfPresent([[Double]].self, forKey: .means),
            covariances: try c.decodeIfPresent(NumericTree.self, forKey: .covariances),
            start: try c.decodeIfPresent([Double].self, forKey: .start),
            transitions: try c.decodeIfPresent([[Double]].self, forKey: .transitions),
            emissions: try c.decodeIfPresent([[Double]].self, forKey: .emissions))
    }
}

extension Symbols: Decodable {
    /// A scalar is a count, a list is the alphabet; anything else is refused
    /// with a message naming both accepted forms.
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let count = try? single.decode(Int.self) {
            self = .count(count)
            return
        }
        guard var list = try? decoder.unkeyedContainer() else {
            throw DecodingError.dataCorruptedError(
                in: single, debugDescription: "expected a list of symbol names or a symbol count")
        }
        var names: [String] = []
        while !list.isAtEnd { names.append(try list.decode(String.self)) }
        self = .names(names)
    }
}

extension NumericTree: Decodable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let x = try? single.decode(Double.self) {
            self = .number(x)
            return
        }
        guard var list = try? decoder.unkeyedContainer() else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "expected a number or a list of numbers")
        }
        var items: [NumericTree] = []
        while !list.isAtEnd { items.append(try list.decode(NumericTree.self)) }
        self = .list(items)
    }
}
