/// out = Σ_j w_j M_j over the rows M_j of an N×N row-major M, each out_i summed
/// in increasing j from 0 (the textbook loop's order, so its bits): the one
/// matrix–vector product of filtering (prior = Σ_i α_i A_i) and of backward
/// passes (β = Σ_j Aᵀ_j w_j). The sums stay in registers, up to sixteen
/// columns at a time: written back to memory after every row, each short row
/// waited on the store of the row before (at N = 8 that was most of a
/// categorical forward step).
@inline(__always)
func combineRows(_ m: UnsafePointer<Double>, _ w: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
        var s0 = SIMD4<Double>(), s1 = s0, s2 = s0, s3 = s0
        for j in 0..<n {
            let wj = SIMD4<Double>(repeating: w[j]), r = m + j * n + i
            s0 += load4(r) * wj; s1 += load4(r + 4) * wj
            s2 += load4(r + 8) * wj; s3 += load4(r + 12) * wj
        }
        store4(s0, out + i); store4(s1, out + i + 4); store4(s2, out + i + 8); store4(s3, out + i + 12)
        i += 16
    }
    if i + 8 <= n {
        var s0 = SIMD4<Double>(), s1 = s0
        for j in 0..<n {
            let wj = SIMD4<Double>(repeating: w[j]), r = m + j * n + i
            s0 += load4(r) * wj; s1 += load4(r + 4) * wj
        }
        store4(s0, out + i); store4(s1, out + i + 4)
        i += 8
    }
    if i + 4 <= n {
        var s0 = SIMD4<Double>()
        for j in 0..<n { s0 += load4(m + j * n + i) * SIMD4<Double>(repeating: w[j]) }
        store4(s0, out + i)
        i += 4
    }
    while i < n {
        var sum = 0.0
        for j in 0..<n { sum += m[j * n + i] * w[j] }
        out[i] = sum
        i += 1
    }
}

/// A hidden Markov model's parameters: start distribution π, transition matrix
/// A (N×N row-major, rows sum to 1) and emissions.
public struct HiddenMarkovModel<Emissions: EmissionModel>: Sendable, Equatable {
    public let states: Int
    public internal(set) var start: [Double]
    public internal(set) var transitions: [Double]
    public internal(set) var emissions: Emissions
    var logStart: [Double]
    var logTransitions: [Double]
    /// Aᵀ (N×N row-major). Backward passes compute β(i) = Σ_j A_ij w_j; over
    /// rows of Aᵀ that is an axpy per j, which vectorizes, where the row-wise
    /// dot product is a chain of dependent additions. Derived, never encoded.
    @usableFromInline var transposedTransitions: [Double]
    /// (log A)ᵀ: Viterbi's max over predecessors i of column j, read contiguously.
    var transposedLogTransitions: [Double]

    public init(start: [Double], transitions: [Double], emissions: Emissions) throws(MixtureError) {
        try self.init(start: start, transitions: transitions, emissions: emissions, normalize: true)
    }

    /// `normalize: false` keeps the probabilities' exact bits (restoring a checkpoint).
    init(start: [Double], transitions: [Double], emissions: Emissions, normalize: Bool) throws(MixtureError) {
        let n = start.count
        guard n >= 1, transitions.count == n * n, emissions.states == n else {
            throw .shape("an HMM with \(n) states needs \(n)×\(n) transitions and \(n) emission states")
        }
        states = n
        self.start = start
        self.transitions = transitions
        self.emissions = emissions
        logStart = start
        logTransitions = transitions
        transposedTransitions = transitions
        transposedLogTransitions = transitions
        try normalizeAndDerive(normalize: normalize)
    }

    /// Checks `start` and `transitions`, normalizes them (unless restoring exact
    /// bits) and recomputes the arrays derived from them, all in place: the
    /// initializer and the in-place M-step (`update(statistics:options:fallback:)`)
    /// share it, so both give the same bits.
    mutating func normalizeAndDerive(normalize: Bool) throws(MixtureError) {
        let n = states
        try start.withUnsafeMutableBufferPointer { (p) throws(MixtureError) in
            try transitions.withUnsafeMutableBufferPointer { (a) throws(MixtureError) in
                for v in p where !(v >= 0 && v.isFinite) {
                    throw .invalidWeights("start and transition probabilities must be finite and non-negative")
                }
                for v in a where !(v >= 0 && v.isFinite) {
                    throw .invalidWeights("start and transition probabilities must be finite and non-negative")
                }
                var startTotal = 0.0
                for v in p { startTotal += v }
                guard startTotal > 0 else { throw .invalidWeights("start probabilities are all zero") }
                for i in 0..<n {
                    var total = 0.0
                    for j in 0..<n { total += a[i * n + j] }
                    guard total > 0 else { throw .invalidWeights("transition row \(i) is all zero") }
                    if normalize { for j in 0..<n { a[i * n + j] /= total } }
                }
                if normalize { for i in 0..<n { p[i] /= startTotal } }
            }
        }
        start.withUnsafeBufferPointer { p in
            logStart.withUnsafeMutableBufferPointer { l in for i in 0..<n { l[i] = _log(p[i]) } }
        }
        transitions.withUnsafeBufferPointer { a in
            logTransitions.withUnsafeMutableBufferPointer { l in
                transposedTransitions.withUnsafeMutableBufferPointer { t in
                    transposedLogTransitions.withUnsafeMutableBufferPointer { tl in
                        for k in 0..<(n * n) {
                            l[k] = _log(a[k])
                            t[k] = a[(k % n) * n + k / n]
                            tl[k] = _log(t[k])
                        }
                    }
                }
            }
        }
    }

    /// out_i = Σ_j A_ij w_j for every i, summed in increasing j from 0, as the
    /// textbook loop does (the same bits), but as N axpys over rows of Aᵀ.
    @inline(__always)
    func transitionsTimes(_ w: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        transposedTransitions.withUnsafeBufferPointer { t in combineRows(t.baseAddress!, w, into: out, states) }
    }

    /// prior_j = Σ_i p_i A_ij: the predicted state distribution one step on.
    @inline(__always)
    func predict(_ p: UnsafePointer<Double>, into prior: UnsafeMutablePointer<Double>) {
        transitions.withUnsafeBufferPointer { a in combineRows(a.baseAddress!, p, into: prior, states) }
    }
}

/// Scaled emission likelihoods, in place: logD_j ← exp(logD_j − m) with
/// m = max_k logD_k; returns m. A free function, so that generic callers
/// (the emission models' default) need no type metadata. Four states per SIMD exp
/// (`vectorExp`, whose exp(0) is exactly 1, so the maximum's likelihood is 1): the
/// N − 1 libm calls were a third of a Gaussian forward step at N = 8. The last one
/// to three states go through libm, skipping the maximum's exp(0): a padded vector
/// for them cost more than those calls at N = 2 and 3 (interleaved A/B).
@inline(__always)
func shiftedExponentials(_ logD: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
    var m = -Double.infinity
    for j in 0..<n where logD[j] > m { m = logD[j] }
    if !m.isFinite { for j in 0..<n { logD[j] = 0 }; return m }
    let shift = SIMD4<Double>(repeating: m)
    var j = 0
    while j + 4 <= n { store4(vectorExp(load4(logD + j) - shift), logD + j); j += 4 }
    while j < n { logD[j] = logD[j] == m ? 1 : _exp(logD[j] - m); j += 1 }
    return m
}

extension HiddenMarkovModel {
    /// One step of the normalized forward filter (Rabiner 1989, eqs. 91–92):
    /// α_t ∝ e(x_t) ⊙ prior, where prior is π at the first observation and
    /// α_{t−1}A after. Returns log p(x_t | x_1..t−1); nothing underflows
    /// however long the sequence, because α is renormalized every step.
    /// `previous` nil means the sequence starts here. `scratch` needs
    /// N + emissions.scratchCount doubles. `ratios`, when given, receives
    /// e_t(j)/c_t, what a backward pass over this step needs (fixed-lag smoothing).
    ///
    /// Pre-specialized for the two emission models: callers in other modules
    /// (the daemon, the benchmark) would otherwise run the unspecialized generic
    /// body, with every emission call through a witness table.
    @_specialize(where Emissions == GaussianEmissions)
    @_specialize(where Emissions == CategoricalEmissions)
    public func forwardStep(
        _ x: UnsafePointer<Double>, previous: UnsafePointer<Double>?, into alpha: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>, ratios: UnsafeMutablePointer<Double>? = nil
    ) -> Double {
        let n = states
        let e = scratch
        let shift = emissions.scaledLikelihoods(x, into: e, scratch: scratch + n)
        if let previous { predict(previous, into: alpha) } else { for j in 0..<n { alpha[j] = start[j] } }
        var c = 0.0
        for j in 0..<n { alpha[j] *= e[j]; c += alpha[j] }
        guard c > 0, shift.isFinite else {
            // Impossible under the model: keep the prediction, report −∞.
            if let previous { predict(previous, into: alpha) } else { for j in 0..<n { alpha[j] = start[j] } }
            if let ratios { for j in 0..<n { ratios[j] = 1 } }
            return -.infinity
        }
        let inverse = 1 / c
        for j in 0..<n { alpha[j] *= inverse }
        if let ratios { for j in 0..<n { ratios[j] = e[j] * inverse } }
        return _log(c) + shift
    }

    /// Scratch doubles `forwardStep` needs.
    public var stepScratchCount: Int { states + emissions.scratchCount }
}
