extension MixtureLearner {
    /// Builds the first model from the warm-up buffer: `nInit` restarts of
    /// k-means++ → Lloyd → batch EM, keeping the best warm-up log-likelihood
    /// (EM only finds local optima). The buffer's statistics under that model
    /// become the starting statistics, worth `warmup / batch` stepwise steps so
    /// that the first mini-batch does not overwrite them.
    mutating func finishWarmup() {
        let k = settings.components, d = settings.dimensions
        let data = warmupBuffer
        var best: GaussianMixture?
        var bestScore = -Double.infinity
        for _ in 0..<max(settings.nInit, 1) {
            let seeds = KMeansPlusPlus.seed(data, dimensions: d, clusters: k, rng: &rng)
            let (_, labels) = KMeansPlusPlus.lloyd(data, dimensions: d, centers: seeds, iterations: 10)
            var hard = MixtureStatistics(components: k, dimensions: d, covarianceType: settings.covarianceType)
            var onehot = [Double](repeating: 0, count: k)
            var scratch = [Double](repeating: 0, count: max(d, packedCount(d)))
            data.withUnsafeBufferPointer { xs in
                for (row, label) in labels.enumerated() {
                    onehot[label] = 1
                    scratch.withUnsafeMutableBufferPointer { s in
                        hard.accumulate(xs.baseAddress! + row * d, gamma: onehot, scratch: s.baseAddress!)
                    }
                    onehot[label] = 0
                }
            }
            guard let start = try? GaussianMixture(statistics: hard, options: settings.mStep) else { continue }
            let fit = BatchEM.fit(
                data, initial: start, options: settings.mStep, maxIterations: settings.warmupIterations, tolerance: 1e-6)
            let score = fit.meanLogLikelihoods.last ?? -.infinity
            if best == nil || score > bestScore {
                best = fit.model
                bestScore = score
            }
        }
        guard let best else {
            warmupBuffer.removeAll(keepingCapacity: true)  // start the warm-up over
            return
        }
        var (stats, _) = BatchEM.expectedStatistics(data, under: best, hard: settings.estimator == .hard)
        stats.scale(by: 1 / Double(data.count / d))
        statistics = stats
        averagedStatistics = stats
        averagedSteps = 1
        iterate = (try? GaussianMixture(statistics: stats, options: settings.mStep)) ?? best
        averagedModel = settings.averaging ? iterate : nil
        step = settings.warmup / max(settings.batch, 1)
        version = 1
        warmupBuffer = []
    }
}
