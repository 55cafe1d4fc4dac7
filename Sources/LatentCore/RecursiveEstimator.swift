/// The fully recursive online EM for hidden Markov models of Cappé (2011),
/// "Online EM algorithm for hidden Markov models", JCGS 20(3): expected
/// complete-data statistics are updated one observation at a time, without any
/// backward pass, so that learning costs the same at every step however long a
/// sequence runs.
///
/// In Cappé's notation, for one sequence with filter φ_t(k) = p(z_t = k | y_1..t)
/// and step sizes γ_t (`eta` here), his §2 recursive smoothing and Algorithm 1 are
///
///     r_{t+1}(k'|k) = φ_t(k') q(k', k) / Σ_k'' φ_t(k'') q(k'', k)      (retrospective kernel)
///     ρ_{t+1}(k)    = Σ_k' [(1 − γ_{t+1}) ρ_t(k') + γ_{t+1} s(k', k, y_{t+1})] r_{t+1}(k'|k)
///     S_{t+1}       = Σ_k φ_{t+1}(k) ρ_{t+1}(k)
///     θ_{t+1}       = θ̄(S_{t+1})                                        (the M-step)
///
/// where s(k', k, y) is the complete-data statistic of one step: the transition
/// indicator e_{k'k}, plus the emission statistic of y at state k. With
/// γ_t = 1/t, ρ_t(k) = (1/t)·E[Σ_{u≤t} s_u | y_1..t, z_t = k] exactly, so S_t
/// is the smoothed expected counts of the prefix divided by t.
///
/// **Many sequences, one model.** The daemon interleaves sequences that share a
/// single estimate, so instead of a ρ per sequence we keep one global S (a
/// per-observation running average, `RecursiveHMMStatistics`) and per sequence
/// only the zero-mean correction ρ̃(k) = ρ(k) − S (`RecursiveCorrection`).
/// Because Σ_k' r(k'|k) = 1, a constant vector passes through the kernel
/// unchanged, so substituting ρ_t(k') = S_t + ρ̃_t(k') above gives, with
///
///     X(k) = (1 − η)·Σ_k' r(k'|k) ρ̃_t(k') + η·Σ_k' s(k', k, y) r(k'|k),
///
///     ρ_{t+1}(k) = (1 − η)·S_t + X(k),
///     S_{t+1}    = (1 − η)·S_t + Σ_k φ_{t+1}(k) X(k),
///     ρ̃_{t+1}(k) = X(k) − Σ_k φ_{t+1}(k) X(k).
///
/// For one sequence this is Cappé's recursion rearranged, nothing more; for
/// several, S is updated by every sequence in turn and each correction carries
/// only its own sequence's conditional deviation. A sequence starts with
/// ρ̃ = 0 and X(k) = η·s_1(k, y_1), where s_1 is the start indicator e_k plus
/// the emission statistic: ρ_1(k) = η·s_1(k, y_1) + (1 − η)·S, so the start
/// probabilities are learned the way transitions are.
///
/// Flat layout of S and of every ρ̃(k): [start N | transitions N×N (from-major)
/// | emission statistics, `EmissionStatistics.copyFlat` order], L doubles.
public struct RecursiveHMMStatistics<S: EmissionStatistics>: Sendable, Equatable {
    public let states: Int
    /// S: start, transitions, emission statistics, per observation (L doubles).
    public var values: [Double]
    /// Zeroed emission statistics that fix the emission layout; only their shape is used.
    public let emissionLayout: S

    /// Flattens expected counts (e.g. the statistics an initial model implies,
    /// or zeros): S starts there, and the first steps blend away from it.
    public init(_ statistics: HMMStatistics<S>) {
        let n = statistics.start.count
        precondition(statistics.transitions.count == n * n, "transitions must be N×N")
        states = n
        var layout = statistics.emission
        layout.reset()
        emissionLayout = layout
        var flat = [Double](repeating: 0, count: n + n * n + layout.flatCount)
        for i in 0..<n { flat[i] = statistics.start[i] }
        for i in 0..<(n * n) { flat[n + i] = statistics.transitions[i] }
        flat.withUnsafeMutableBufferPointer { statistics.emission.copyFlat(into: $0.baseAddress! + n + n * n) }
        values = flat
    }

    /// L = N + N² + emission doubles: the length of S and of each ρ̃(k).
    public var length: Int { values.count }
    /// Where the emission statistics start in the flat layout.
    public var emissionOffset: Int { states + states * states }

    /// Writes S into expected counts of the same shape without allocating, so
    /// that the Baum–Welch M-step `HiddenMarkovModel(statistics:options:fallback:)`
    /// serves as Cappé's θ̄(S) unchanged.
    public func copy(into statistics: inout HMMStatistics<S>) {
        let n = states
        precondition(statistics.start.count == n && statistics.transitions.count == n * n)
        precondition(statistics.emission.flatCount == emissionLayout.flatCount, "emission shape differs")
        values.withUnsafeBufferPointer { v in
            let v = v.baseAddress!
            for i in 0..<n { statistics.start[i] = v[i] }
            for i in 0..<(n * n) { statistics.transitions[i] = v[n + i] }
            statistics.emission.setFlat(from: v + n + n * n)
        }
    }

    /// S as expected counts (allocates; `copy(into:)` does not).
    public var statistics: HMMStatistics<S> {
        var s = HMMStatistics(states: states, emission: emissionLayout)
        copy(into: &s)
        return s
    }
}

/// One sequence's part of the recursive estimate: ρ̃(k) = ρ(k) − S for each
/// state k, N×L row-major (row k is ρ̃(k)). It starts, and is reset, at the
/// first observation of a sequence (`previous` nil), so a new sequence needs no
/// initialization: an empty value is sized there.
public struct RecursiveCorrection: Sendable, Equatable {
    public var values: [Double]

    public init() { values = [] }

    /// N×L zeros, for a sequence about to start.
    public init(states: Int, length: Int) {
        values = [Double](repeating: 0, count: states * length)
    }
}

/// Buffers for `recursiveUpdate`: the kernel r (N×N), the new X (N×L), its
/// φ-average (L) and emission scratch. Sized at the first call; after that the
/// update allocates nothing.
public struct RecursiveWorkspace: Sendable {
    var kernel: [Double] = []
    var next: [Double] = []
    var mean: [Double] = []
    var scratch: [Double] = []

    public init() {}

    mutating func reserve(states n: Int, length l: Int, scratch extra: Int) {
        if kernel.count < n * n { kernel = [Double](repeating: 0, count: n * n) }
        if next.count < n * l { next = [Double](repeating: 0, count: n * l) }
        if mean.count < l { mean = [Double](repeating: 0, count: l) }
        if scratch.count < max(extra, 1) { scratch = [Double](repeating: 0, count: max(extra, 1)) }
    }
}

extension HiddenMarkovModel {
    /// Zeroed recursive statistics for this model's shape.
    public func emptyRecursiveStatistics() -> RecursiveHMMStatistics<Emissions.Statistics> {
        RecursiveHMMStatistics(HMMStatistics(states: states, emission: emissions.emptyStatistics()))
    }

    /// One step of Cappé's (2011) recursive online E-step, in the correction
    /// form described on `RecursiveHMMStatistics`: updates the global S and this
    /// sequence's ρ̃ with observation x.
    ///
    /// - `previous`: φ_t, the filtered distribution before x; nil when x starts
    ///   its sequence (then `correction` is reset and the start block counts).
    /// - `filtered`: φ_{t+1}, what `forwardStep` returned for x under this same
    ///   model (r and φ must come from one θ for the recursion to hold). A caller
    ///   may want to skip observations `forwardStep` rated impossible (−∞).
    /// - `eta`: γ_{t+1} ∈ (0, 1], chosen by the caller per observation.
    ///
    /// Cost O(N²·L) = O(N⁴ + N²·E): the kernel is applied to every coordinate
    /// of every ρ̃(k'), which is the price of not looking back. No allocation
    /// once `workspace` and `correction` are sized.
    public func recursiveUpdate(
        _ x: UnsafePointer<Double>, previous: UnsafePointer<Double>?, filtered: UnsafePointer<Double>,
        correction: inout RecursiveCorrection, statistics: inout RecursiveHMMStatistics<Emissions.Statistics>,
        step eta: Double, workspace: inout RecursiveWorkspace
    ) {
        let n = states, l = statistics.length, e0 = statistics.emissionOffset
        precondition(statistics.states == n, "statistics are for \(statistics.states) states, the model has \(n)")
        if correction.values.count != n * l {
            precondition(previous == nil, "a sequence's correction must be sized at its first observation")
            correction = RecursiveCorrection(states: n, length: l)
        }
        workspace.reserve(states: n, length: l, scratch: emissions.scratchCount)
        let keep = 1 - eta
        let layout = statistics.emissionLayout
        workspace.kernel.withUnsafeMutableBufferPointer { rb in
        workspace.next.withUnsafeMutableBufferPointer { xb in
        workspace.mean.withUnsafeMutableBufferPointer { mb in
        workspace.scratch.withUnsafeMutableBufferPointer { sb in
        correction.values.withUnsafeMutableBufferPointer { cb in
        statistics.values.withUnsafeMutableBufferPointer { vb in
            let r = rb.baseAddress!, next = xb.baseAddress!, mean = mb.baseAddress!
            let scratch = sb.baseAddress!, rho = cb.baseAddress!, s = vb.baseAddress!
            if let previous {
                // r(k'|k), stored as row k: r[k·N + k'].
                transitions.withUnsafeBufferPointer { ab in
                    let a = ab.baseAddress!
                    for k in 0..<n {
                        let row = r + k * n
                        var total = 0.0
                        for i in 0..<n { row[i] = previous[i] * a[i * n + k]; total += row[i] }
                        if total > 0 {
                            let inverse = 1 / total
                            for i in 0..<n { row[i] *= inverse }
                        } else {
                            // k cannot be reached, so φ_{t+1}(k) = 0 and r(·|k) carries
                            // no weight; any distribution keeps Σ_k' r = 1 and ρ̃ finite.
                            for i in 0..<n { row[i] = previous[i] }
                        }
                    }
                }
            }
            for k in 0..<n {
                let xk = next + k * l
                if previous != nil {
                    // X(k) = (1 − η) Σ_k' r(k'|k) ρ̃(k') + η Σ_k' r(k'|k) e_{k'k} + η·(emission at k).
                    // Four rows of ρ̃ per pass over X(k): the loop is load/store bound.
                    let rk = r + k * n
                    for p in 0..<l { xk[p] = 0 }
                    var i = 0
                    while i + 4 <= n {
                        let w0 = keep * rk[i], w1 = keep * rk[i + 1], w2 = keep * rk[i + 2], w3 = keep * rk[i + 3]
                        let f0 = rho + i * l, f1 = f0 + l, f2 = f1 + l, f3 = f2 + l
                        for p in 0..<l { xk[p] += w0 * f0[p] + w1 * f1[p] + w2 * f2[p] + w3 * f3[p] }
                        i += 4
                    }
                    while i < n {
                        let w = keep * rk[i], from = rho + i * l
                        for p in 0..<l { xk[p] += w * from[p] }
                        i += 1
                    }
                    for i in 0..<n { xk[n + i * n + k] += eta * rk[i] }
                } else {
                    // A sequence starts: ρ̃ = 0, no transition, s_1(k) = e_k + emission.
                    for p in 0..<l { xk[p] = 0 }
                    xk[k] = eta
                }
                // The emission statistic of y at k does not depend on k', and Σ_k' r = 1.
                layout.addOneHot(x, state: k, weight: eta, into: xk + e0, scratch: scratch)
                // Σ_k φ_{t+1}(k) X(k), accumulated while X(k) is in cache.
                let f = filtered[k]
                if k == 0 {
                    for p in 0..<l { mean[p] = f * xk[p] }
                } else if f != 0 {
                    for p in 0..<l { mean[p] += f * xk[p] }
                }
            }
            // S ← (1 − η) S + Σ_k φ_{t+1}(k) X(k);  ρ̃(k) ← X(k) − Σ_k φ_{t+1}(k) X(k).
            for p in 0..<l { s[p] = keep * s[p] + mean[p] }
            for k in 0..<n {
                let xk = next + k * l, out = rho + k * l
                for p in 0..<l { out[p] = xk[p] - mean[p] }
            }
        }
        }
        }
        }
        }
        }
    }
}
