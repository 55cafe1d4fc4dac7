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
        var start = [Double](repeating: 0, count: n), a = [Double](repeating: 0, count: n * n)
        start.withUnsafeMutableBufferPointer { p in
            a.withUnsafeMutableBufferPointer { Self.smoothedCounts(s, options, fallback: fallback, start: p, transitions: $0) }
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
        precondition(s.start.count == states && fallback.states == states, "statistics of another shape")
        start.withUnsafeMutableBufferPointer { p in
            transitions.withUnsafeMutableBufferPointer { Self.smoothedCounts(s, options, fallback: fallback, start: p, transitions: $0) }
        }
        try emissions.update(statistics: s.emission, options: options.emission)
        try normalizeAndDerive(normalize: true)
    }

    /// π and A before normalization: max(count + concentration − 1, 0), and for the
    /// start or a transition row without mass, `fallback`'s (ones without one). The
    /// initializer and the in-place M-step share it.
    static func smoothedCounts(
        _ s: HMMStatistics<Emissions.Statistics>, _ options: HMMOptions, fallback: HiddenMarkovModel?,
        start p: UnsafeMutableBufferPointer<Double>, transitions a: UnsafeMutableBufferPointer<Double>
    ) {
        let n = p.count
        var total = 0.0
        for i in 0..<n { p[i] = max(s.start[i] + (options.startConcentration - 1), 0); total += p[i] }
        if total <= 0 { for i in 0..<n { p[i] = fallback?.start[i] ?? 1 } }
        s.transitions.withUnsafeBufferPointer { counts in
            for i in 0..<n {
                var total = 0.0
                for j in 0..<n {
                    a[i * n + j] = max(counts[i * n + j] + (options.transitionConcentration - 1), 0)
                    total += a[i * n + j]
                }
                if total <= 0 { for j in 0..<n { a[i * n + j] = fallback?.transitions[i * n + j] ?? 1 } }
            }
        }
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
