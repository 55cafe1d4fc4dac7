/// Value checks on a decoded configuration. Every check runs and reports with
/// its path (`models[1].components: must be >= 1`), so one `check-config` run
/// lists everything to fix. Decoding guarantees types; this guarantees values
/// the daemon can run with, so later code need not re-check them.

/// Accumulates problems under path prefixes.
struct ProblemList {
    private(set) var problems: [ConfigProblem] = []

    mutating func add(_ path: String, _ message: String) {
        problems.append(ConfigProblem(path: path, message: message))
    }

    /// Adds `message` at `path` unless `ok`.
    mutating func require(_ ok: Bool, _ path: String, _ message: String) {
        if !ok { add(path, message) }
    }

    mutating func append(contentsOf other: [ConfigProblem]) {
        problems += other
    }
}

extension DaemonConfig {
    /// All value problems of the configuration; empty means it can be run.
    public func validate() -> [ConfigProblem] {
        var p = ProblemList()
        p.require(!stateDir.isEmpty, "state_dir", "must not be empty")
        p.require(checkpoint.interval.milliseconds > 0, "checkpoint.interval", "must be > 0")
        p.require(checkpoint.keep >= 1, "checkpoint.keep", "must be >= 1")

        p.require(!input.connect.isEmpty || !input.bind.isEmpty,
                  "input", "at least one of connect or bind must be non-empty")
        for (i, endpoint) in input.connect.enumerated() { checkEndpoint(endpoint, "input.connect[\(i)]", &p) }
        for (i, endpoint) in input.bind.enumerated() { checkEndpoint(endpoint, "input.bind[\(i)]", &p) }
        p.require(input.rcvhwm >= 0, "input.rcvhwm", "must be >= 0")
        p.require(input.maxMessageSize >= 1, "input.max_message_size", "must be >= 1")
        checkEndpoint(output.bind, "output.bind", &p)
        p.require(output.sndhwm >= 0, "output.sndhwm", "must be >= 0")
        checkEndpoint(control.bind, "control.bind", &p)

        // Two sockets cannot bind one endpoint; say so now rather than at start-up.
        var bound: [String: String] = [:]
        let binds = input.bind.enumerated().map { ("input.bind[\($0.offset)]", $0.element) }
            + [("output.bind", output.bind), ("control.bind", control.bind)]
        for (path, endpoint) in binds where !endpoint.isEmpty {
            if let first = bound[endpoint] {
                p.add(path, "same endpoint as \(first)")
            } else {
                bound[endpoint] = path
            }
        }

        p.require(!models.isEmpty, "models", "at least one model is required")
        var firstIndex: [String: Int] = [:]
        for (i, model) in models.enumerated() {
            if let first = firstIndex[model.name] {
                p.add("models[\(i)].name", "duplicate of models[\(first)].name (\"\(model.name)\")")
            } else {
                firstIndex[model.name] = i
            }
            p.append(contentsOf: model.problems(at: "models[\(i)]"))
        }
        return p.problems
    }
}

/// A ZeroMQ endpoint is `transport://address`; anything else would only fail
/// later, inside libzmq, with a less helpful message.
private func checkEndpoint(_ endpoint: String, _ path: String, _ p: inout ProblemList) {
    if endpoint.isEmpty {
        p.add(path, "must not be empty")
        return
    }
    let parts = endpoint.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
    let transports: Set<Substring> = ["tcp", "ipc", "inproc", "pgm", "epgm", "vmci", "udp", "ws", "wss"]
    if parts.count != 2 || parts[1].isEmpty || !transports.contains(parts[0]) {
        p.add(path, "must be a ZeroMQ endpoint like tcp://127.0.0.1:5555 (got \"\(endpoint)\")")
    }
}

extension ModelConfig {
    /// Problems of this model alone, with paths under `base` (`models[0]`).
    /// Uniqueness of names is checked by `DaemonConfig.validate()`.
    public func problems(at base: String) -> [ConfigProblem] {
        var p = ProblemList()
        let isNameCharacter: (Character) -> Bool = {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-")
        }
        if name.isEmpty {
            p.add("\(base).name", "must not be empty")
        } else if !name.allSatisfy(isNameCharacter) {
            p.add("\(base).name", "must use only A-Z a-z 0-9 _ . - (got \"\(name)\")")
        }

        let defaults = ModelConfig(name: "", topic: "", kind: kind)
        /// A key counts as written if it was in the file or, for a config built
        /// in code, if its value differs from the default.
        func written(_ key: String, _ differs: Bool) -> Bool { specifiedKeys.contains(key) || differs }
        let hmmOnly: [(String, Bool)] = [
            ("states", states != nil), ("emission", emission != defaults.emission),
            ("symbols", symbols != nil), ("lag", lag != defaults.lag), ("window", window != defaults.window),
            ("sequence_timeout", sequenceTimeout != defaults.sequenceTimeout),
            ("max_sequences", maxSequences != defaults.maxSequences),
        ]

        switch kind {
        case .gmm:
            checkCount(dimensions, "\(base).dimensions", "required for kind gmm", &p)
            checkCount(components, "\(base).components", "required for kind gmm", &p)
            for (key, differs) in hmmOnly where written(key, differs) {
                p.add("\(base).\(key)", "only for kind hmm")
            }
            if learning.specifiedKeys.contains("hmm_estimator") || learning.hmmEstimator != .windowed {
                p.add("\(base).learning.hmm_estimator", "only for kind hmm")
            }
        case .hmm:
            if components != nil { p.add("\(base).components", "only for kind gmm") }
            checkCount(states, "\(base).states", "required for kind hmm", &p)
            switch emission {
            case .gaussian:
                checkCount(dimensions, "\(base).dimensions", "required for emission gaussian", &p)
                if covariance == .tied { p.add("\(base).covariance", "tied is only for kind gmm") }
                if symbols != nil { p.add("\(base).symbols", "only for emission categorical") }
            case .categorical:
                if dimensions != nil { p.add("\(base).dimensions", "not used with emission categorical") }
                if written("covariance", covariance != defaults.covariance) {
                    p.add("\(base).covariance", "not used with emission categorical")
                }
                checkSymbols(at: "\(base).symbols", &p)
            }
            if let states { p.require(states <= 1024, "\(base).states", "must be <= 1024 (the recursive estimator and Viterbi cost grow as N^4 and N^2)") }
            if learning.estimator == .hard && learning.hmmEstimator == .recursive {
                p.add("\(base).learning.estimator", "hard (Viterbi training) works window by window; it needs hmm_estimator: windowed")
            }
            if learning.averaging || learning.specifiedKeys.contains("averaging") {
                p.add("\(base).learning.averaging", "only for kind gmm")
            }
            p.require(lag >= 0, "\(base).lag", "must be >= 0")
            p.require(window >= 1, "\(base).window", "must be >= 1")
            p.require(sequenceTimeout.milliseconds > 0, "\(base).sequence_timeout", "must be > 0")
            p.require(maxSequences >= 1, "\(base).max_sequences", "must be >= 1")
        }

        checkLearning(at: "\(base).learning", &p)
        p.require(publish.paramsEvery >= 1, "\(base).publish.params_every", "must be >= 1")
        if learning.mode == .frozen && initial == nil {
            p.add("\(base).init", "required when learning.mode is frozen")
        }
        if let initial {
            p.append(contentsOf: initialProblems(initial, at: "\(base).init"))
        }
        return p.problems
    }

    private func checkLearning(at base: String, _ p: inout ProblemList) {
        let l = learning
        p.require(l.alpha > 0.5 && l.alpha <= 1, "\(base).alpha", "must be in (0.5, 1]")
        p.require(l.batch >= 1, "\(base).batch", "must be >= 1")
        if let minStep = l.minStep {
            p.require(minStep >= 0 && minStep < 1, "\(base).min_step", "must be in [0, 1)")
        }
        if let halfLife = l.halfLife {
            p.require(halfLife > 0 && halfLife.isFinite, "\(base).half_life", "must be > 0")
            if l.minStep != nil {
                p.add("\(base).half_life", "cannot be combined with min_step (they are two ways to say the same)")
            }
        }
        let k = latentCount
        if k >= 1 {
            let what = kind == .gmm ? "components" : "states"
            p.require(l.warmup >= k, "\(base).warmup", "must be >= \(what) (\(k))")
        } else {
            p.require(l.warmup >= 1, "\(base).warmup", "must be >= 1")
        }
        p.require(l.nInit >= 1, "\(base).n_init", "must be >= 1")
        p.require(l.regCovar >= 0 && l.regCovar.isFinite, "\(base).reg_covar", "must be >= 0")
    }

    private func checkSymbols(at path: String, _ p: inout ProblemList) {
        switch symbols {
        case nil:
            p.add(path, "required for emission categorical")
        case .count(let n):
            p.require(n >= 1, path, "must be >= 1")
        case .names(let names):
            if names.isEmpty { p.add(path, "must list at least one symbol") }
            var seen: [String: Int] = [:]
            for (i, symbol) in names.enumerated() {
                if let first = seen[symbol] {
                    p.add("\(path)[\(i)]", "duplicate of \(path)[\(first)] (\"\(symbol)\")")
                } else {
                    seen[symbol] = i
                }
            }
        }
    }
}

/// Dimensions, components, states: required, and at least 1.
private func checkCount(_ value: Int?, _ path: String, _ whenMissing: String, _ p: inout ProblemList) {
    guard let value else {
        p.add(path, whenMissing)
        return
    }
    p.require(value >= 1, path, "must be >= 1")
}
