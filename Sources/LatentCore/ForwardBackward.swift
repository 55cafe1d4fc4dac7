/// Expected counts of a hidden Markov model (Baum–Welch sufficient statistics):
/// Σγ_1 (start), Σξ (transitions), and the emission statistics of γ.
public struct HMMStatistics<S: EmissionStatistics>: Sendable, Equatable {
    public var start: [Double]
    public var transitions: [Double]
    public var emission: S

    public init(states n: Int, emission: S) {
        start = [Double](repeating: 0, count: n)
        transitions = [Double](repeating: 0, count: n * n)
        self.emission = emission
    }

    public mutating func scale(by factor: Double) {
        for i in start.indices { start[i] *= factor }
        for i in transitions.indices { transitions[i] *= factor }
        emission.scale(by: factor)
    }

    /// s ← (1 − η)s + η·s̄, as for the mixture (SPEC §5).
    public mutating func blend(toward other: Self, step eta: Double) {
        for i in start.indices { start[i] = (1 - eta) * start[i] + eta * other.start[i] }
        for i in transitions.indices { transitions[i] = (1 - eta) * transitions[i] + eta * other.transitions[i] }
        emission.blend(toward: other.emission, step: eta)
    }

    public mutating func reset() {
        for i in start.indices { start[i] = 0 }
        for i in transitions.indices { transitions[i] = 0 }
        emission.reset()
    }
}

extension HiddenMarkovModel {
    /// Forward–backward over a window of T observations (row-major, `width` each),
    /// with the scaled variables of Rabiner (1989, §V.A). The window starts
    /// either the sequence (`previous` nil: π is the prior, γ_1 counts toward the
    /// start statistics) or continues it from the filtered distribution
    /// `previous` of the observation just before it; the transition into the
    /// window is then counted too. Adds expected counts to `stats` and, when
    /// given, writes the smoothed posteriors γ (T×N) to `posteriors`.
    /// Returns log p(window | what came before). Pre-specialized as `forwardStep` is.
    @discardableResult
    @_specialize(where Emissions == GaussianEmissions)
    @_specialize(where Emissions == CategoricalEmissions)
    public func forwardBackward(
        _ xs: UnsafePointer<Double>, count t: Int, previous: UnsafePointer<Double>?,
        statistics stats: inout HMMStatistics<Emissions.Statistics>,
        posteriors: UnsafeMutablePointer<Double>? = nil, workspace: inout HMMWorkspace
    ) -> Double {
        let n = states, w = emissions.observationWidth
        workspace.reserve(steps: t, states: n, scratch: emissions.scratchCount)
        var logLikelihood = 0.0
        return workspace.withBuffers { alpha, beta, e, c, scratch in
            // Forward, keeping scaled likelihoods e_t and normalizers c_t.
            for s in 0..<t {
                let x = xs + s * w
                let es = e + s * n, a = alpha + s * n
                let shift = emissions.scaledLikelihoods(x, into: es, scratch: scratch)
                if s == 0 {
                    if let previous { predict(previous, into: a) } else { for j in 0..<n { a[j] = start[j] } }
                } else {
                    predict(alpha + (s - 1) * n, into: a)
                }
                var total = 0.0
                for j in 0..<n { a[j] *= es[j]; total += a[j] }
                if !(total > 0) || !shift.isFinite { total = .leastNormalMagnitude }
                c[s] = total
                let inverse = 1 / total
                for j in 0..<n { a[j] *= inverse }
                logLikelihood += _log(total) + shift
            }
            // Backward with the same scaling: β_t(i) = Σ_j A_ij e_{t+1}(j) β_{t+1}(j) / c_{t+1}.
            for j in 0..<n { beta[(t - 1) * n + j] = 1 }
            transitions.withUnsafeBufferPointer { ab in
                let a = ab.baseAddress!
                if t >= 2 {
                    for s in stride(from: t - 2, through: 0, by: -1) {
                        let next = e + (s + 1) * n, bNext = beta + (s + 1) * n, b = beta + s * n
                        let inverse = 1 / c[s + 1]
                        for j in 0..<n { scratch[j] = next[j] * bNext[j] * inverse }
                        transitionsTimes(scratch, into: b)
                    }
                }
                // Expected counts: γ_t = α_t β_t; ξ_t(i,j) = α_t(i) A_ij e_{t+1}(j) β_{t+1}(j) / c_{t+1}.
                for s in 0..<t {
                    let g = scratch
                    var total = 0.0
                    for j in 0..<n { g[j] = alpha[s * n + j] * beta[s * n + j]; total += g[j] }
                    if total > 0 { let inverse = 1 / total; for j in 0..<n { g[j] *= inverse } }
                    if let posteriors { for j in 0..<n { posteriors[s * n + j] = g[j] } }
                    if s == 0 && previous == nil { for j in 0..<n { stats.start[j] += g[j] } }
                    stats.emission.accumulate(xs + s * w, gamma: g, scratch: scratch + n)
                }
                // e_s ⊙ β_s is formed once per step, and ξ is added through a raw
                // pointer: this is the O(N²) part of every observation's learning.
                stats.transitions.withUnsafeMutableBufferPointer { xb in
                    let xi = xb.baseAddress!, eb = scratch
                    for s in 0..<t {
                        let from: UnsafePointer<Double>?
                        if s == 0 { from = previous } else { from = UnsafePointer(alpha + (s - 1) * n) }
                        guard let from else { continue }
                        let es = e + s * n, b = beta + s * n, inverse = 1 / c[s]
                        for j in 0..<n { eb[j] = es[j] * b[j] }
                        for i in 0..<n {
                            let fi = from[i] * inverse
                            if fi == 0 { continue }
                            let row = a + i * n, out = xi + i * n
                            for j in 0..<n { out[j] += fi * row[j] * eb[j] }
                        }
                    }
                }
            }
            return logLikelihood
        }
    }
}

/// Reusable buffers for forward–backward, so that learning from window after
/// window allocates nothing once the largest window has been seen.
public struct HMMWorkspace: Sendable {
    var alpha: [Double] = []
    var beta: [Double] = []
    var likelihoods: [Double] = []
    var normalizers: [Double] = []
    var scratch: [Double] = []

    public init() {}

    mutating func reserve(steps t: Int, states n: Int, scratch extra: Int) {
        if alpha.count < t * n {
            alpha = [Double](repeating: 0, count: t * n)
            beta = alpha
            likelihoods = alpha
        }
        if normalizers.count < t { normalizers = [Double](repeating: 0, count: t) }
        if scratch.count < n + extra { scratch = [Double](repeating: 0, count: n + extra) }
    }

    mutating func withBuffers<R>(
        _ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                 UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> R
    ) -> R {
        alpha.withUnsafeMutableBufferPointer { a in
            beta.withUnsafeMutableBufferPointer { b in
                likelihoods.withUnsafeMutableBufferPointer { e in
                    normalizers.withUnsafeMutableBufferPointer { c in
                        scratch.withUnsafeMutableBufferPointer { s in
                            body(a.baseAddress!, b.baseAddress!, e.baseAddress!, c.baseAddress!, s.baseAddress!)
                        }
                    }
                }
            }
        }
    }
}
