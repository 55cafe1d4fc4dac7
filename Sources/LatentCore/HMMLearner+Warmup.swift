extension HMMLearner {
    /// Builds the first model from the warm-up data (SPEC §5): `nInit` restarts
    /// of seeded emissions (k-means++ for Gaussians) with mildly sticky
    /// transitions, each refined by batch Baum–Welch, the best warm-up
    /// log-likelihood kept. Then every live sequence's buffered observations
    /// are replayed through the filter, so labeling carries on from them.
    /// Returns false (and starts the warm-up over) if no restart succeeded.
    public mutating func finishWarmup(sequences: inout [HMMSequence]) -> Bool {
        let n = settings.states
        var segments = warmupSegments
        for s in sequences where !s.window.isEmpty { segments.append(s.window) }
        let pooled = segments.flatMap { $0 }
        let count = pooled.count / settings.shape.observationWidth
        var best: Model?
        var bestScore = -Double.infinity
        let uniform = [Double](repeating: 1, count: n)
        var sticky = [Double](repeating: 0.5 / Double(n), count: n * n)
        for i in 0..<n { sticky[i * n + i] += 0.5 }
        for _ in 0..<max(settings.nInit, 1) {
            guard let emissions = E.seeded(from: pooled, states: n, shape: settings.shape,
                                           options: settings.options.emission, rng: &rng),
                  let initial = try? Model(start: uniform, transitions: sticky, emissions: emissions) else { continue }
            let fit = initial.baumWelch(segments, iterations: settings.warmupIterations, options: settings.options,
                                        tolerance: 1e-6 * Double(count))
            let score = fit.logLikelihoods.last ?? -.infinity
            if best == nil || score > bestScore {
                best = fit.model
                bestScore = score
            }
        }
        warmupSegments = []
        warmupCount = 0
        guard let best, count > 0 else {
            for i in sequences.indices { sequences[i].window = [] }
            return false
        }
        var (stats, _, _) = best.expectedCounts(segments)
        stats.scale(by: 1 / Double(count))
        statistics = stats
        model = (try? Model(statistics: stats, options: settings.options, fallback: best)) ?? best
        step = settings.recursive ? settings.warmup : settings.warmup / max(settings.batch, 1)
        version = 1
        if settings.recursive { recursive = Self.flatten(stats) }
        for i in sequences.indices where !sequences[i].window.isEmpty { replay(&sequences[i]) }
        return true
    }

    /// Filters a sequence's buffered warm-up observations (already learned
    /// from), leaving its filter, smoother and Viterbi where they would be.
    mutating func replay(_ s: inout HMMSequence) {
        guard let model else { return }
        let data = s.window
        let w = settings.shape.observationWidth
        s.window = []
        var unused = 0
        data.withUnsafeBufferPointer { xs in
            for i in 0..<(data.count / w) {
                _ = advance(xs.baseAddress! + i * w, &s, model, learnRecursively: false, smoothed: nil, smoothedT: &unused)
            }
        }
        s.windowStartsAfterAlpha()
        s.windowStartsSequence = false
    }
}
