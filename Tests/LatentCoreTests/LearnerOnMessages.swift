import CAllocationCounter
@testable import LatentCore

/// What the segment tests (full and diagonal) share: a learner's settings, rows drawn
/// around a mixture's means, and a learner fed those rows as messages of many sizes,
/// the way the daemon hands it batch messages.
enum LearnerOnMessages {
    static func settings(_ type: CovarianceType, k: Int, d: Int,
                         estimator: LearnerSettings.Estimator, averaging: Bool) -> LearnerSettings {
        var settings = LearnerSettings(components: k, dimensions: d, covarianceType: type)
        settings.estimator = estimator
        settings.averaging = averaging
        settings.warmup = 60
        return settings
    }

    /// `rows` rows, row n around component n mod K's mean, unit noise.
    static func rows(_ rows: Int, around truth: GaussianMixture, seed: UInt64) -> [Double] {
        let k = truth.components, d = truth.dimensions
        var rng = Xoshiro256StarStar(seed: seed)
        var xs: [Double] = []
        for n in 0..<rows {
            for i in 0..<d { xs.append(truth.means[(n % k) * d + i] + rng.normal()) }
        }
        return xs
    }

    struct Run {
        var outcomes: [MixtureObservation] = []
        /// K per row, in row order (rows not scored keep what was there before).
        var posteriors: [Double] = []
        /// Mallocs once past the first 1000 rows, over messages without a re-seed.
        var allocations = 0
        var checkedMessages = 0
        /// Per message: whether the parameters changed.
        var changed: [Bool] = []
    }

    /// Feeds `xs` to `learner` as messages of `sizes` rows (cycled), counting
    /// allocations per message.
    static func feed(_ learner: inout MixtureLearner, _ xs: [Double], scoring: Bool = true,
                     sizes: (first: Int, next: (Int) -> Int) = (1, { $0 % 37 + 5 })) -> Run {
        let k = learner.settings.components, d = learner.settings.dimensions, total = xs.count / d
        var resp = [Double](repeating: 0, count: 100 * k)
        var outcomes = [MixtureObservation](
            repeating: .init(scored: false, logLikelihood: 0, label: 0, parametersChanged: false), count: 100)
        var run = Run()
        xs.withUnsafeBufferPointer { x in
            var n = 0, size = sizes.first
            while n < total {
                let count = min(size, total - n)
                let before = latentd_thread_allocations()
                let changed = learner.observe(x.baseAddress! + n * d, count: count, learn: true,
                                              responsibilities: &resp, outcomes: &outcomes, scoring: scoring)
                if n > 1_000 && learner.reseeds == 0 {
                    run.allocations += Int(latentd_thread_allocations() - before)
                    run.checkedMessages += 1
                }
                run.changed.append(changed)
                run.outcomes.append(contentsOf: outcomes[0..<count])
                run.posteriors.append(contentsOf: resp[0..<(count * k)])
                n += count
                size = sizes.next(size)  // by default 1, 6, 11, … 41, 9, …
            }
        }
        return run
    }
}
