/// The outcome of a batch EM run.
public struct BatchEMResult: Sendable {
    public var model: GaussianMixture
    /// Mean log-likelihood under the parameters at the start of each iteration,
    /// then under the final parameters (so `count == iterations + 1`).
    public var meanLogLikelihoods: [Double]
    public var iterations: Int
    public var converged: Bool
}

/// Classic batch EM (Dempster, Laird & Rubin 1977): the reference the stepwise
/// learner is checked against, and the refinement step of its warm-up.
public enum BatchEM {
    /// E-step over all rows: raw (unnormalized) statistics and the total log-likelihood.
    public static func expectedStatistics(
        _ data: [Double], under model: GaussianMixture, hard: Bool = false
    ) -> (statistics: MixtureStatistics, logLikelihood: Double) {
        let k = model.components, d = model.dimensions
        var stats = MixtureStatistics(components: k, dimensions: d, covarianceType: model.covarianceType)
        var resp = [Double](repeating: 0, count: k)
        var scratch = [Double](repeating: 0, count: max(d, packedCount(d)))
        var total = 0.0
        let n = data.count / d
        data.withUnsafeBufferPointer { xs in
            resp.withUnsafeMutableBufferPointer { r in
                scratch.withUnsafeMutableBufferPointer { s in
                    let r = r.baseAddress!, s = s.baseAddress!
                    for row in 0..<n {
                        let x = xs.baseAddress! + row * d
                        total += model.responsibilities(x, into: r, scratch: s)
                        if hard { makeHard(r, k) }
                        stats.accumulate(x, gamma: r, scratch: s)
                    }
                }
            }
        }
        return (stats, total)
    }

    /// Runs EM from `initial` until the mean log-likelihood improves by less than
    /// `tolerance` (scikit-learn's criterion) or `maxIterations` is reached.
    public static func fit(
        _ data: [Double], initial: GaussianMixture, options: MStepOptions = MStepOptions(),
        maxIterations: Int, tolerance: Double = 1e-3
    ) -> BatchEMResult {
        let n = Double(data.count / initial.dimensions)
        var model = initial
        var trace: [Double] = []
        var converged = false
        var iterations = 0
        while iterations < maxIterations {
            let (stats, ll) = expectedStatistics(data, under: model)
            trace.append(ll / n)
            iterations += 1
            guard let next = try? GaussianMixture(statistics: stats, options: options) else { break }
            model = next
            if trace.count >= 2, abs(trace[trace.count - 1] - trace[trace.count - 2]) < tolerance {
                converged = true
                break
            }
        }
        trace.append(model.meanLogLikelihood(data))
        return BatchEMResult(model: model, meanLogLikelihoods: trace, iterations: iterations, converged: converged)
    }
}

/// Turns responsibilities into a one-hot vector at their argmax (hard EM).
@inline(__always)
func makeHard(_ r: UnsafeMutablePointer<Double>, _ k: Int) {
    let best = argmax(r, k)
    for j in 0..<k { r[j] = j == best ? 1 : 0 }
}

/// Index of the largest value (the MAP label).
@inline(__always)
public func argmax(_ v: UnsafePointer<Double>, _ count: Int) -> Int {
    // The running maximum in a register: reloading v[best] made every step wait on a
    // load that depended on the step before (the learner labels every row).
    guard count > 1 else { return 0 }
    var best = 0, top = v[0]
    for j in 1..<count where v[j] > top { best = j; top = v[j] }
    return best
}

/// `argmax` of four consecutive rows of `count` values (row-major), as four
/// independent chains: one row's comparisons wait on its running maximum, so a row
/// at a time left the learner's labelling of a batch message latency-bound.
@inline(__always)
func argmax4(_ v: UnsafePointer<Double>, _ count: Int) -> (Int, Int, Int, Int) {
    let r0 = v, r1 = r0 + count, r2 = r1 + count, r3 = r2 + count
    var b0 = 0, b1 = 0, b2 = 0, b3 = 0
    var t0 = r0[0], t1 = r1[0], t2 = r2[0], t3 = r3[0]
    var j = 1
    while j < count {
        if r0[j] > t0 { b0 = j; t0 = r0[j] }
        if r1[j] > t1 { b1 = j; t1 = r1[j] }
        if r2[j] > t2 { b2 = j; t2 = r2[j] }
        if r3[j] > t3 { b3 = j; t3 = r3[j] }
        j += 1
    }
    return (b0, b1, b2, b3)
}
