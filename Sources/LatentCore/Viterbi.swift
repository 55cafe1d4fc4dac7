/// The most likely state path (Viterbi 1967), in log space so that it never
/// underflows. `OnlineViterbi` keeps δ and the back-pointers as observations
/// arrive, so a live sequence's path can be emitted the moment it ends.
public struct OnlineViterbi: Sendable, Equatable {
    public let states: Int
    /// δ_t(j): best log-probability of a path ending in j at the latest step.
    public private(set) var delta: [Double]
    /// ψ_t(j) for t ≥ 1, T×N: the best predecessor of j at step t.
    public private(set) var backPointers: [Int32] = []
    public private(set) var steps = 0

    public init(states: Int) {
        self.states = states
        delta = [Double](repeating: -.infinity, count: states)
    }

    /// Restores a stored state (checkpoints).
    public init(states: Int, delta: [Double], backPointers: [Int32], steps: Int) {
        self.states = states
        self.delta = delta
        self.backPointers = backPointers
        self.steps = steps
    }

    /// Back to `init(states:)`'s state, keeping the back-pointers' capacity.
    mutating func reset() {
        for j in delta.indices { delta[j] = -.infinity }
        backPointers.removeAll(keepingCapacity: true)
        steps = 0
    }

    /// Makes room for the back-pointers of `steps` more observations, so that a
    /// caller that knows the length (the benchmark) steps without reallocating.
    public mutating func reserveCapacity(steps more: Int) {
        backPointers.reserveCapacity(backPointers.count + more * states)
    }

    /// δ_t(j) = max_i [δ_{t−1}(i) + log A_ij] + log p(x_t | j) (Rabiner 1989, eq. 33a).
    ///
    /// For each j, the max over i reads row j of (log A)ᵀ, contiguous, and keeps
    /// best and argmax in registers with selects: which i wins is data-dependent,
    /// and a branch on it mispredicts. i runs upward with a strict `>`, so ties
    /// and results are exactly those of the textbook loop. Pre-specialized, and
    /// on raw pointers: it runs for every observation.
    @_specialize(where E == GaussianEmissions)
    @_specialize(where E == CategoricalEmissions)
    public mutating func step<E>(_ x: UnsafePointer<Double>, model: HiddenMarkovModel<E>, scratch: UnsafeMutablePointer<Double>) {
        let n = states
        let logD = scratch
        model.emissions.logDensities(x, into: logD, scratch: scratch + 2 * n)
        if steps == 0 {
            model.logStart.withUnsafeBufferPointer { start in
                for j in 0..<n { delta[j] = start[j] + logD[j] }
            }
        } else {
            let best = scratch + n
            let first = backPointers.count
            for _ in 0..<n { backPointers.append(0) }
            backPointers.withUnsafeMutableBufferPointer { bp in
                delta.withUnsafeMutableBufferPointer { db in
                    model.transposedLogTransitions.withUnsafeBufferPointer { lt in
                        let psi = bp.baseAddress! + first, d = db.baseAddress!, logAT = lt.baseAddress!
                        for j in 0..<n {
                            let column = logAT + j * n
                            var top = -Double.infinity, arg = 0
                            for i in 0..<n {
                                let v = d[i] + column[i], better = v > top
                                top = better ? v : top
                                arg = better ? i : arg
                            }
                            best[j] = top
                            psi[j] = Int32(truncatingIfNeeded: arg)
                        }
                        for j in 0..<n { d[j] = best[j] + logD[j] }
                    }
                }
            }
        }
        steps += 1
    }

    /// The best path so far and its joint log-probability log p(x, path).
    public func path() -> (path: [Int], logProbability: Double) {
        guard steps > 0 else { return ([], 0) }
        let n = states
        var last = 0
        for j in 1..<max(n, 1) where delta[j] > delta[last] { last = j }
        var path = [Int](repeating: 0, count: steps)
        path[steps - 1] = last
        if steps >= 2 {
            for t in stride(from: steps - 1, through: 1, by: -1) {
                path[t - 1] = Int(backPointers[(t - 1) * n + path[t]])
            }
        }
        return (path, delta[last])
    }

    /// Scratch doubles `step` needs for a model.
    public static func scratchCount<E>(_ model: HiddenMarkovModel<E>) -> Int { 2 * model.states + model.emissions.scratchCount }
}

extension HiddenMarkovModel {
    /// Viterbi over a whole sequence (row-major observations).
    public func viterbi(_ xs: [Double]) -> (path: [Int], logProbability: Double) {
        let w = emissions.observationWidth
        var v = OnlineViterbi(states: states)
        var scratch = [Double](repeating: 0, count: OnlineViterbi.scratchCount(self))
        xs.withUnsafeBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                for t in 0..<(xs.count / w) { v.step(p.baseAddress! + t * w, model: self, scratch: s.baseAddress!) }
            }
        }
        return v.path()
    }

    /// log p(x_1..T) by the normalized forward filter, with the filtered
    /// distributions (T×N) and the predictive log-likelihoods (T).
    public func filter(_ xs: [Double]) -> (logLikelihood: Double, filtered: [Double], predictive: [Double]) {
        let n = states, w = emissions.observationWidth, t = xs.count / w
        var filtered = [Double](repeating: 0, count: t * n)
        var predictive = [Double](repeating: 0, count: t)
        var scratch = [Double](repeating: 0, count: stepScratchCount)
        xs.withUnsafeBufferPointer { p in
            filtered.withUnsafeMutableBufferPointer { f in
                scratch.withUnsafeMutableBufferPointer { s in
                    for i in 0..<t {
                        let previous: UnsafePointer<Double>? = i == 0 ? nil : UnsafePointer(f.baseAddress! + (i - 1) * n)
                        predictive[i] = forwardStep(p.baseAddress! + i * w, previous: previous, into: f.baseAddress! + i * n, scratch: s.baseAddress!)
                    }
                }
            }
        }
        return (predictive.reduce(0, +), filtered, predictive)
    }

    /// Expected counts of whole sequences, and their total log-likelihood.
    public func expectedCounts(_ sequences: [[Double]]) -> (statistics: HMMStatistics<Emissions.Statistics>, logLikelihood: Double, posteriors: [[Double]]) {
        var stats = HMMStatistics(states: states, emission: emissions.emptyStatistics())
        var workspace = HMMWorkspace()
        var total = 0.0
        var posteriors: [[Double]] = []
        for xs in sequences {
            let t = xs.count / emissions.observationWidth
            var gamma = [Double](repeating: 0, count: t * states)
            total += xs.withUnsafeBufferPointer { p in
                gamma.withUnsafeMutableBufferPointer { g in
                    forwardBackward(p.baseAddress!, count: t, previous: nil, statistics: &stats,
                                    posteriors: g.baseAddress!, workspace: &workspace)
                }
            }
            posteriors.append(gamma)
        }
        return (stats, total, posteriors)
    }
}
