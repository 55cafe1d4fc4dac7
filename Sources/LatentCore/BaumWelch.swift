/// Dirichlet priors on the start and transition probabilities (1 = none).
public struct HMMOptions: Sendable, Hashable {
    public var startConcentration: Double
    public var transitionConcentration: Double
    public var emission: EmissionOptions

    public init(startConcentration: Double = 1, transitionConcentration: Double = 1, emission: EmissionOptions = EmissionOptions()) {
        self.startConcentration = startConcentration
        self.transitionConcentration = transitionConcentration
        self.emission = emission
    }
}

extension HiddenMarkovModel {
    /// The Baum–Welch M-step (Rabiner 1989, eqs. 40a–c) with Dirichlet MAP priors:
    /// π_j ∝ max(Σγ_1(j) + a − 1, 0), A_ij ∝ max(Σξ(i,j) + b − 1, 0). A row with no
    /// mass keeps the previous model's row (`fallback`), or becomes uniform.
    public init(statistics s: HMMStatistics<Emissions.Statistics>, options: HMMOptions = HMMOptions(),
                fallback: HiddenMarkovModel? = nil) throws(MixtureError) {
        let n = s.start.count
        var start = s.start.map { max($0 + (options.startConcentration - 1), 0) }
        if start.reduce(0, +) <= 0 { start = fallback?.start ?? [Double](repeating: 1, count: n) }
        var a = s.transitions.map { max($0 + (options.transitionConcentration - 1), 0) }
        for i in 0..<n where a[(i * n)..<((i + 1) * n)].reduce(0, +) <= 0 {
            for j in 0..<n { a[i * n + j] = fallback?.transitions[i * n + j] ?? 1 }
        }
        let emissions = try Emissions(statistics: s.emission, options: options.emission)
        try self.init(start: start, transitions: a, emissions: emissions)
    }

    /// The Baum–Welch M-step into this model's storage, with `fallback` for rows
    /// without mass: the same bits as `init(statistics:options:fallback:)`, without
    /// allocating (the online learner runs it every mini-batch). On a throw the
    /// model is garbage: callers keep the previous one elsewhere (`HMMLearner`
    /// double-buffers).
    public mutating func update(statistics s: HMMStatistics<Emissions.Statistics>, options: HMMOptions,
                                fallback: HiddenMarkovModel) throws(MixtureError) {
        let n = states
        precondition(s.start.count == n && fallback.states == n, "statistics of another shape")
        let startPrior = options.startConcentration - 1, transitionPrior = options.transitionConcentration - 1
        start.withUnsafeMutableBufferPointer { p in
            var total = 0.0
            for i in 0..<n { p[i] = max(s.start[i] + startPrior, 0); total += p[i] }
            if total <= 0 { for i in 0..<n { p[i] = fallback.start[i] } }
        }
        transitions.withUnsafeMutableBufferPointer { a in
            s.transitions.withUnsafeBufferPointer { counts in
                for i in 0..<n {
                    var total = 0.0
                    for j in 0..<n { a[i * n + j] = max(counts[i * n + j] + transitionPrior, 0); total += a[i * n + j] }
                    if total <= 0 { for j in 0..<n { a[i * n + j] = fallback.transitions[i * n + j] } }
                }
            }
        }
        try emissions.update(statistics: s.emission, options: options.emission)
        try normalizeAndDerive(normalize: true)
    }

    /// Batch Baum–Welch: the reference for the online learner.
    public func baumWelch(_ sequences: [[Double]], iterations: Int, options: HMMOptions = HMMOptions(),
                          tolerance: Double = 0) -> (model: HiddenMarkovModel, logLikelihoods: [Double]) {
        var model = self
        var trace: [Double] = []
        for _ in 0..<iterations {
            let (stats, ll, _) = model.expectedCounts(sequences)
            trace.append(ll)
            guard let next = try? HiddenMarkovModel(statistics: stats, options: options, fallback: model) else { break }
            model = next
            if trace.count >= 2, abs(trace[trace.count - 1] - trace[trace.count - 2]) < tolerance { break }
        }
        trace.append(model.expectedCounts(sequences).logLikelihood)
        return (model, trace)
    }
}
