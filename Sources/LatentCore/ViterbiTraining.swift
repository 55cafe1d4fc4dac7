/// Hard EM for HMMs (Viterbi training, Juang & Rabiner 1990): the expected
/// counts of Baum–Welch replaced by the counts of the single most likely path,
/// decoded window by window. It is to Baum–Welch what online k-means is to EM.
extension HiddenMarkovModel {
    /// Decodes the window's best path, given the state decoded just before it
    /// (`previousState`, or −1 when the window starts the sequence), and adds
    /// its one-hot counts (start, transitions, emissions) to `stats`. Returns
    /// the window's last state, which the next window continues from.
    @discardableResult
    public func viterbiCounts(
        _ xs: UnsafePointer<Double>, count t: Int, previousState: Int,
        statistics stats: inout HMMStatistics<Emissions.Statistics>, workspace: inout ViterbiWorkspace
    ) -> Int {
        let n = states, w = emissions.observationWidth
        guard t > 0 else { return previousState }
        workspace.reserve(steps: t, states: n, scratch: emissions.scratchCount)
        return workspace.withBuffers { delta, next, logD, back, path, scratch in
            for s in 0..<t {
                emissions.logDensities(xs + s * w, into: logD, scratch: scratch)
                if s == 0 {
                    for j in 0..<n {
                        let prior = previousState < 0 ? logStart[j] : logTransitions[previousState * n + j]
                        delta[j] = prior + logD[j]
                    }
                    continue
                }
                for j in 0..<n {
                    var best = -Double.infinity, arg = 0
                    for i in 0..<n {
                        let v = delta[i] + logTransitions[i * n + j]
                        if v > best { best = v; arg = i }
                    }
                    next[j] = best + logD[j]
                    back[s * n + j] = Int32(arg)
                }
                for j in 0..<n { delta[j] = next[j] }
            }
            var last = 0
            for j in 1..<max(n, 1) where delta[j] > delta[last] { last = j }
            path[t - 1] = last
            if t >= 2 { for s in stride(from: t - 1, through: 1, by: -1) { path[s - 1] = Int(back[s * n + path[s]]) } }
            let onehot = next
            for j in 0..<n { onehot[j] = 0 }
            for s in 0..<t {
                let z = path[s]
                let from = s == 0 ? previousState : path[s - 1]
                if from < 0 { stats.start[z] += 1 } else { stats.transitions[from * n + z] += 1 }
                onehot[z] = 1
                stats.emission.accumulate(xs + s * w, gamma: onehot, scratch: scratch)
                onehot[z] = 0
            }
            return last
        }
    }
}

/// Reusable buffers for `viterbiCounts`: nothing is allocated once the
/// largest window has been seen.
public struct ViterbiWorkspace: Sendable {
    var delta: [Double] = []
    var next: [Double] = []
    var logDensities: [Double] = []
    var backPointers: [Int32] = []
    var path: [Int] = []
    var scratch: [Double] = []

    public init() {}

    mutating func reserve(steps t: Int, states n: Int, scratch extra: Int) {
        if delta.count < n {
            delta = [Double](repeating: 0, count: n)
            next = delta
            logDensities = delta
        }
        if backPointers.count < t * n { backPointers = [Int32](repeating: 0, count: t * n) }
        if path.count < t { path = [Int](repeating: 0, count: t) }
        if scratch.count < max(extra, 1) { scratch = [Double](repeating: 0, count: max(extra, 1)) }
    }

    mutating func withBuffers<R>(
        _ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                 UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Double>) -> R
    ) -> R {
        delta.withUnsafeMutableBufferPointer { d in
            next.withUnsafeMutableBufferPointer { x in
                logDensities.withUnsafeMutableBufferPointer { l in
                    backPointers.withUnsafeMutableBufferPointer { b in
                        path.withUnsafeMutableBufferPointer { p in
                            scratch.withUnsafeMutableBufferPointer { s in
                                body(d.baseAddress!, x.baseAddress!, l.baseAddress!, b.baseAddress!, p.baseAddress!, s.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}
