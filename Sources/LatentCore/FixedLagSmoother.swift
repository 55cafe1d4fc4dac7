/// Fixed-lag smoothing: p(z_{t−L} | x_1..t), published L steps after the
/// observation, by a backward pass over the last L steps only (O(L·N²) per step).
///
/// It keeps the last L + 1 filtered distributions α and the ratios e_s/c_s of
/// the forward filter in rings, so memory per sequence is (L + 1)·2N doubles.
public struct FixedLagSmoother: Sendable, Equatable {
    public let lag: Int
    public let states: Int
    public internal(set) var alphas: [Double]
    public internal(set) var ratios: [Double]
    public internal(set) var steps = 0

    public init(lag: Int, states: Int) {
        self.lag = lag
        self.states = states
        // Two buffers: `ratios = alphas` would share one, and the first push
        // would then copy it, an allocation on the hot path of every new sequence.
        alphas = [Double](repeating: 0, count: (lag + 1) * states)
        ratios = [Double](repeating: 0, count: (lag + 1) * states)
    }

    /// Back to `init(lag:states:)`'s state in the same storage.
    mutating func reset() {
        for i in alphas.indices { alphas[i] = 0 }
        for i in ratios.indices { ratios[i] = 0 }
        steps = 0
    }

    /// Restores a stored smoother (checkpoints).
    public init(lag: Int, states: Int, alphas: [Double], ratios: [Double], steps: Int) {
        self.lag = lag
        self.states = states
        self.alphas = alphas
        self.ratios = ratios
        self.steps = steps
    }

    /// Records step t (its filtered α_t and ratios e_t/c_t). When t ≥ L, writes
    /// p(z_{t−L} | x_1..t) into `smoothed` and returns true. `scratch`: 2N doubles.
    ///
    /// It runs for every observation (O(L·N²)); the work is done by a
    /// non-generic overload, so that it is optimized once whichever module
    /// calls it, and this wrapper is inlinable, so that a caller in another
    /// module does not run it as unspecialized generic code.
    @inlinable
    public mutating func push<E>(
        alpha: UnsafePointer<Double>, ratios r: UnsafePointer<Double>, model: HiddenMarkovModel<E>,
        smoothed: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) -> Bool {
        model.transposedTransitions.withUnsafeBufferPointer { t in
            push(alpha: alpha, ratios: r, transposedTransitions: t.baseAddress!, smoothed: smoothed, scratch: scratch)
        }
    }

    /// `push` given Aᵀ (N×N row-major). β_s ⊙ e_s/c_s is formed once per step
    /// rather than once per (i, j), and the backward step is N axpys over Aᵀ.
    @usableFromInline
    mutating func push(
        alpha: UnsafePointer<Double>, ratios r: UnsafePointer<Double>, transposedTransitions t: UnsafePointer<Double>,
        smoothed: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) -> Bool {
        let n = states, lag = lag, slots = lag + 1
        let slot = steps % slots
        steps += 1
        let steps = steps
        return alphas.withUnsafeMutableBufferPointer { alphaRing in
            ratios.withUnsafeMutableBufferPointer { ratioRing in
                let alphas = alphaRing.baseAddress!, ratios = ratioRing.baseAddress!
                for j in 0..<n { alphas[slot * n + j] = alpha[j]; ratios[slot * n + j] = r[j] }
                guard steps > lag else { return false }
                // β_{t}(·) = 1; β_{s−1}(i) = Σ_j A_ij (e_s(j)/c_s) β_s(j) for s = t … t−L+1.
                var beta = scratch, next = scratch + n
                for j in 0..<n { beta[j] = 1 }
                for back in 0..<lag {
                    let ratio = ratios + ((steps - 1 - back) % slots) * n
                    for j in 0..<n { beta[j] *= ratio[j] }
                    combineRows(t, beta, into: next, n)
                    swap(&beta, &next)
                }
                let target = alphas + ((steps - 1 - lag) % slots) * n
                var total = 0.0
                for j in 0..<n { smoothed[j] = target[j] * beta[j]; total += smoothed[j] }
                if total > 0 { for j in 0..<n { smoothed[j] /= total } }
                return true
            }
        }
    }
}
