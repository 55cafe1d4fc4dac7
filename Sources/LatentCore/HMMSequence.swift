/// Everything the learner keeps about one live sequence: its filter, the
/// observations of the window not yet learned from, the fixed-lag smoother and
/// the online Viterbi back-pointers.
///
/// A sequence is never stored whole: the filtered distribution α_t is all the
/// past that labeling needs, and the window (at most `window` observations) is
/// all that learning needs, because the next window starts from α (SPEC §5).
/// Only Viterbi grows with the length (N back-pointers per observation), since
/// the path is emitted at the end.
public struct HMMSequence: Sendable, Equatable {
    /// Observations of this sequence seen so far (the `t` of the last one).
    public internal(set) var t = 0
    /// α_t = p(z_t | x_1..t), valid once `filtering`.
    public internal(set) var alpha: [Double]
    /// False until the first observation under a model (warm-up).
    public internal(set) var filtering = false
    /// log p(x_1..t): the sum of the predictive log-likelihoods.
    public internal(set) var logLikelihood = 0.0
    /// Observations waiting to be learned from (during the warm-up: all of them).
    var window: [Double] = []
    /// α of the observation just before `window` (when it does not start the sequence).
    var windowPrior: [Double]
    var windowStartsSequence = true
    /// Hard (Viterbi-training) estimator: the last decoded state of the previous window.
    var lastHardState = -1
    var smoother: FixedLagSmoother?
    var viterbi: OnlineViterbi
    /// Cappé's per-sequence auxiliary statistics (recursive estimator only).
    var correction: [Double] = []

    public init(states n: Int, lag: Int) {
        alpha = [Double](repeating: 0, count: n)
        windowPrior = [Double](repeating: 0, count: n)  // its own buffer: see `windowStartsAfterAlpha`
        smoother = lag > 0 ? FixedLagSmoother(lag: lag, states: n) : nil
        viterbi = OnlineViterbi(states: n)
    }

    /// Back to `init(states:lag:)`'s state (equal to a new sequence) in the same
    /// storage: a daemon starts each new sequence in a finished one's arrays, so that
    /// starting a sequence allocates nothing, and neither does growing its window and
    /// Viterbi back-pointers to a length that storage has held before.
    public mutating func reset() {
        t = 0
        for j in alpha.indices { alpha[j] = 0 }
        filtering = false
        logLikelihood = 0
        window.removeAll(keepingCapacity: true)
        for j in windowPrior.indices { windowPrior[j] = 0 }
        windowStartsSequence = true
        lastHardState = -1
        smoother?.reset()
        viterbi.reset()
        correction.removeAll(keepingCapacity: true)
    }

    /// windowPrior ← α, value by value. Assigning the array would share α's
    /// buffer, and the next filter step's write to α would then copy it: an
    /// allocation on the hot path after every window.
    mutating func windowStartsAfterAlpha() {
        for j in alpha.indices { windowPrior[j] = alpha[j] }
    }

    /// Observations buffered but not yet learned from.
    public var bufferedObservations: Int { window.count }

    /// Bytes of array storage held, by capacity (`status`'s `sequence_bytes`, the
    /// README's memory figures, and whether a finished sequence's slot keeps it).
    public var heapBytes: Int {
        alpha.storageBytes + window.storageBytes + windowPrior.storageBytes + correction.storageBytes
            + (smoother.map { $0.alphas.storageBytes + $0.ratios.storageBytes } ?? 0)
            + viterbi.delta.storageBytes + viterbi.backPointers.storageBytes
    }
}

extension HMMSequence {
    func encode(into w: inout ByteWriter) {
        w.write(t)
        w.write(alpha)
        w.write(filtering)
        w.write(logLikelihood)
        w.write(window)
        w.write(windowPrior)
        w.write(windowStartsSequence)
        w.write(lastHardState)
        w.write(smoother != nil)
        if let smoother {
            w.write(smoother.alphas)
            w.write(smoother.ratios)
            w.write(smoother.steps)
        }
        w.write(viterbi.delta)
        w.write(viterbi.steps)
        w.write(viterbi.backPointers)
        w.write(correction)
    }

    init(states n: Int, lag: Int, width: Int, correctionCount: Int, decoding r: inout ByteReader) throws(DecodingFailure) {
        self.init(states: n, lag: lag)
        t = try r.readInt()
        alpha = try r.readDoubles(expected: n)
        filtering = try r.readBool()
        logLikelihood = try r.readDouble()
        window = try r.readDoubles()
        guard window.count % width == 0 else { throw DecodingFailure("a sequence window of \(window.count) values is not whole observations") }
        windowPrior = try r.readDoubles(expected: n)
        windowStartsSequence = try r.readBool()
        lastHardState = try r.readInt()
        // The learner trusts these: a decoded state outside −1..<N would index past the transitions.
        guard t >= 0, (-1..<n).contains(lastHardState) else {
            throw DecodingFailure("bad sequence position \(t) or decoded state \(lastHardState)")
        }
        let hasSmoother = try r.readBool()
        guard hasSmoother == (lag > 0) else { throw DecodingFailure("smoother state does not match lag \(lag)") }
        if hasSmoother {
            let alphas = try r.readDoubles(expected: (lag + 1) * n)
            let ratios = try r.readDoubles(expected: (lag + 1) * n)
            let steps = try r.readInt()
            guard steps >= 0 else { throw DecodingFailure("bad smoother step count \(steps)") }
            smoother = FixedLagSmoother(lag: lag, states: n, alphas: alphas, ratios: ratios, steps: steps)
        }
        let delta = try r.readDoubles(expected: n)
        let steps = try r.readInt()
        guard steps >= 0 else { throw DecodingFailure("bad Viterbi step count \(steps)") }
        let pointers = try r.readInt32s()
        guard pointers.count == max(steps - 1, 0) * n else { throw DecodingFailure("Viterbi back-pointers do not match \(steps) steps") }
        guard pointers.allSatisfy({ $0 >= 0 && Int($0) < n }) else { throw DecodingFailure("a Viterbi back-pointer is out of range") }
        viterbi = OnlineViterbi(states: n, delta: delta, backPointers: pointers, steps: steps)
        correction = try r.readDoubles()
        guard correction.isEmpty || correction.count == correctionCount else {
            throw DecodingFailure("recursive statistics of \(correction.count) values where \(correctionCount) were expected")
        }
    }
}
