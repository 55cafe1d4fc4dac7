/// The fingerprint of the learning-relevant part of a model's configuration,
/// stored in each checkpoint (SPEC §6). On start a checkpoint whose fingerprint
/// differs from the current config is refused: its sufficient statistics were
/// produced under other rules, and mixing them silently would break the
/// bit-for-bit restart guarantee of SPEC §5.
///
/// Included, because they change what the statistics mean or how they evolve:
/// - `kind`, `dimensions`, `components`/`states`, `covariance`, `emission`,
///   the resolved symbol alphabet: the shape and meaning of the statistics;
/// - `seed`: the RNG state in the checkpoint continues this seed's stream;
/// - everything under `learning` (with `min_step`/`half_life` as the single
///   effective floor they produce): the update rule itself;
/// - `init`: the starting point (and, frozen, the parameters themselves);
/// - `lag`, `window`: the HMM's smoothing and expected-count windows, whose
///   pending state is in the checkpoint.
///
/// Excluded, because they can change without touching the learned state:
/// `name` (already the checkpoint's file name), `topic`, `format`, `publish`,
/// `sequence_timeout`, `max_sequences`, and all daemon-level settings
/// (sockets, state directory, checkpoint schedule).
///
/// The hash is FNV-1a 64 over `fingerprintText`, a canonical rendering with
/// one `key=value` per line in a fixed order, resolved defaults written out
/// (so writing a default explicitly changes nothing) and doubles in Swift's
/// shortest round-trip form (exact, platform-independent).
extension ModelConfig {
    /// Version tag of the rendering: bump it if the rendering ever changes, so
    /// old checkpoints are refused explicitly rather than by accident.
    static let fingerprintVersion = "latentd-model-fingerprint-v1"

    public var fingerprint: UInt64 { fnv1a64(fingerprintText) }

    /// The canonical text that `fingerprint` hashes; shown by `inspect` and in
    /// refusal messages so a mismatch can be diagnosed line by line.
    public var fingerprintText: String {
        var lines = [Self.fingerprintVersion, "kind=\(kind.rawValue)"]
        func add(_ key: String, _ value: String) { lines.append("\(key)=\(value)") }
        func number(_ x: Double) -> String { "\(x)" }
        func vector(_ v: [Double]) -> String { "[" + v.map(number).joined(separator: ",") + "]" }
        func matrix(_ m: [[Double]]) -> String { "[" + m.map(vector).joined(separator: ",") + "]" }
        func tree(_ t: NumericTree) -> String {
            switch t {
            case .number(let x): return number(x)
            case .list(let items): return "[" + items.map(tree).joined(separator: ",") + "]"
            }
        }
        func optional(_ value: Int?) -> String { value.map(String.init) ?? "-" }

        switch kind {
        case .gmm:
            add("dimensions", optional(dimensions))
            add("components", optional(components))
            add("covariance", covariance.rawValue)
        case .hmm:
            add("states", optional(states))
            add("emission", emission.rawValue)
            if isCategorical {
                // Names are escaped as JSON-like strings so that no alphabet
                // can render like another.
                add("symbols", "[" + (symbols?.names ?? []).map(quoted).joined(separator: ",") + "]")
            } else {
                add("dimensions", optional(dimensions))
                add("covariance", covariance.rawValue)
            }
            add("lag", String(lag))
            add("window", String(window))
        }
        add("seed", String(seed))

        let l = learning
        add("learning.mode", l.mode.rawValue)
        add("learning.estimator", l.estimator.rawValue)
        add("learning.alpha", number(l.alpha))
        add("learning.batch", String(l.batch))
        add("learning.min_step", number(l.effectiveMinStep))
        add("learning.warmup", String(l.warmup))
        add("learning.n_init", String(l.nInit))
        add("learning.reg_covar", number(l.regCovar))
        add("learning.averaging", String(l.averaging))
        if kind == .hmm { add("learning.hmm_estimator", l.hmmEstimator.rawValue) }

        if let i = initial {
            if let v = i.weights { add("init.weights", vector(v)) }
            if let v = i.start { add("init.start", vector(v)) }
            if let v = i.transitions { add("init.transitions", matrix(v)) }
            if let v = i.means { add("init.means", matrix(v)) }
            if let v = i.covariances { add("init.covariances", tree(v)) }
            if let v = i.emissions { add("init.emissions", matrix(v)) }
        } else {
            add("init", "-")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension DaemonConfig {
    /// The fingerprint of `model` (see `ModelConfig.fingerprint`).
    public static func fingerprint(of model: ModelConfig) -> UInt64 { model.fingerprint }
}

/// FNV-1a, 64 bit: tiny, stable across platforms and releases (unlike
/// `Hasher`, which is randomly seeded per process), and more than enough to
/// detect a changed config.
func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

