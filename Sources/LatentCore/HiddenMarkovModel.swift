/// out_i = Σ_j Tᵀ_ij w_j = Σ_j T_ji w_j for an N×N row-major T, summed in
/// increasing j from 0: N axpys over the rows of T, which vectorize. With few
/// states the axpys are too short and each out_i waits on its own store, so
/// the sums are kept in a register instead (same order, so the same bits).
@inline(__always)
func transposedTimes(_ t: UnsafePointer<Double>, _ w: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, _ n: Int) {
    if n < 6 {
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n { sum += t[j * n + i] * w[j] }
            out[i] = sum
        }
        return
    }
    for i in 0..<n { out[i] = 0 }
    for j in 0..<n {
        let wj = w[j], row = t + j * n
        for i in 0..<n { out[i] += row[i] * wj }
    }
}

/// A hidden Markov model's parameters: start distribution π, transition matrix
/// A (N×N row-major, rows sum to 1) and emissions.
public struct HiddenMarkovModel<Emissions: EmissionModel>: Sendable, Equatable {
    public let states: Int
    public private(set) var start: [Double]
    public private(set) var transitions: [Double]
    public private(set) var emissions: Emissions
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
        guard start.allSatisfy({ $0 >= 0 && $0.isFinite }), transitions.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw .invalidWeights("start and transition probabilities must be finite and non-negative")
        }
        let startTotal = start.reduce(0, +)
        guard startTotal > 0 else { throw .invalidWeights("start probabilities are all zero") }
        var a = transitions
        for i in 0..<n {
            let total = a[(i * n)..<((i + 1) * n)].reduce(0, +)
            guard total > 0 else { throw .invalidWeights("transition row \(i) is all zero") }
            if normalize { for j in 0..<n { a[i * n + j] /= total } }
        }
        states = n
        self.start = normalize ? start.map { $0 / startTotal } : start
        self.transitions = a
        self.emissions = emissions
        logStart = self.start.map { _log($0) }
        logTransitions = a.map { _log($0) }
        transposedTransitions = (0..<(n * n)).map { k in a[(k % n) * n + k / n] }
        transposedLogTransitions = transposedTransitions.map { _log($0) }
    }

    /// out_i = Σ_j A_ij w_j for every i, summed in increasing j from 0, as the
    /// textbook loop does (the same bits), but as N axpys over rows of Aᵀ.
    @inline(__always)
    func transitionsTimes(_ w: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        transposedTransitions.withUnsafeBufferPointer { t in transposedTimes(t.baseAddress!, w, into: out, states) }
    }

    /// prior_j = Σ_i p_i A_ij: the predicted state distribution one step on.
    @inline(__always)
    func predict(_ p: UnsafePointer<Double>, into prior: UnsafeMutablePointer<Double>) {
        let n = states
        for j in 0..<n { prior[j] = 0 }
        transitions.withUnsafeBufferPointer { a in
            for i in 0..<n {
                let pi = p[i]
                if pi == 0 { continue }
                let row = a.baseAddress! + i * n
                for j in 0..<n { prior[j] += pi * row[j] }
            }
        }
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
