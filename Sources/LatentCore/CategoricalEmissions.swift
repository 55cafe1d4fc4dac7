/// Categorical emissions: state j emits symbol m with probability B[j][m].
/// An observation is one double holding the symbol index.
public struct CategoricalEmissions: EmissionModel {
    public let states: Int
    public let symbols: Int
    /// N×M row-major, rows sum to 1.
    public private(set) var probabilities: [Double]
    private var logProbabilities: [Double]
    /// By symbol m (M×N): exp(log B[j][m] − max_k log B[k][m]), and that max
    /// (M). Derived from the probabilities, never encoded.
    private var scaledBySymbol: [Double]
    private var shiftBySymbol: [Double]

    public init(states: Int, symbols: Int, probabilities: [Double]) throws(MixtureError) {
        try self.init(states: states, symbols: symbols, probabilities: probabilities, normalize: true)
    }

    /// `normalize: false` keeps the probabilities' exact bits (restoring a checkpoint).
    init(states: Int, symbols: Int, probabilities: [Double], normalize: Bool) throws(MixtureError) {
        guard states >= 1, symbols >= 1, probabilities.count == states * symbols else {
            throw .shape("emissions must be \(states)×\(symbols), got \(probabilities.count) values")
        }
        self.states = states
        self.symbols = symbols
        self.probabilities = probabilities
        logProbabilities = probabilities
        scaledBySymbol = [Double](repeating: 0, count: symbols * states)
        shiftBySymbol = [Double](repeating: 0, count: symbols)
        try normalizeAndDerive(normalize: normalize)
    }

    /// Checks the probabilities, normalizes the rows (unless restoring exact bits) and
    /// recomputes the tables derived from them, in place: the initializer and the
    /// in-place M-step share it.
    private mutating func normalizeAndDerive(normalize: Bool) throws(MixtureError) {
        let n = states, symbols = symbols
        try probabilities.withUnsafeMutableBufferPointer { (p) throws(MixtureError) in
            for v in p where !(v >= 0 && v.isFinite) {
                throw .invalidWeights("emission probabilities must be finite and non-negative")
            }
            for j in 0..<n {
                var total = 0.0
                for m in 0..<symbols { total += p[j * symbols + m] }
                guard total > 0 else { throw .invalidWeights("emission row \(j) is all zero") }
                if normalize { for m in 0..<symbols { p[j * symbols + m] /= total } }
            }
        }
        probabilities.withUnsafeBufferPointer { p in
            logProbabilities.withUnsafeMutableBufferPointer { logP in
                for i in 0..<(n * symbols) { logP[i] = _log(p[i]) }
                scaledBySymbol.withUnsafeMutableBufferPointer { sb in
                    for m in 0..<symbols {
                        let e = sb.baseAddress! + m * n
                        for j in 0..<n { e[j] = logP[j * symbols + m] }
                        shiftBySymbol[m] = shiftedExponentials(e, n)
                    }
                }
            }
        }
    }

    public var observationWidth: Int { 1 }
    /// Here, not in HeapBytes.swift: the derived tables are private.
    public var heapBytes: Int {
        probabilities.storageBytes + logProbabilities.storageBytes + scaledBySymbol.storageBytes + shiftBySymbol.storageBytes
    }
    public var scratchCount: Int { 1 }

    @inline(__always)
    public func logDensities(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let m = Int(x[0])
        for j in 0..<states { out[j] = logProbabilities[j * symbols + m] }
    }

    /// A table lookup: the values `logDensities` followed by the shifted
    /// exponentials would give, computed once per model (`scaledBySymbol`), so
    /// filtering gets the same bits without N exps per observation.
    @inline(__always)
    public func scaledLikelihoods(_ x: UnsafePointer<Double>, into e: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) -> Double {
        let m = Int(x[0])
        scaledBySymbol.withUnsafeBufferPointer { s in
            let row = s.baseAddress! + m * states
            for j in 0..<states { e[j] = row[j] }
        }
        return shiftBySymbol[m]
    }

    /// One `rng.uniform()` u; the symbol is the first m with u < B[j][0] + … + B[j][m]
    /// (running sum from 0, left to right), or the last symbol if rounding leaves
    /// none. Written to `x[0]` as a Double.
    public func sample(state j: Int, rng: inout Xoshiro256StarStar, into x: UnsafeMutablePointer<Double>) {
        let u = rng.uniform()
        x[0] = Double(probabilities.withUnsafeBufferPointer { p in
            inverseCDF(u, p.baseAddress! + j * symbols, symbols)
        })
    }

    public func emptyStatistics() -> SymbolCounts { SymbolCounts(states: states, symbols: symbols) }

    /// B[j][m] ∝ max(Σ_t γ_t(j)·[x_t = m] + c − 1, 0) (Rabiner 1989, eq. 40c, with a Dirichlet prior).
    public init(statistics: SymbolCounts, options: EmissionOptions) throws(MixtureError) {
        var p = [Double](repeating: 0, count: statistics.states * statistics.symbols)
        p.withUnsafeMutableBufferPointer { Self.smoothedCounts(statistics, options, into: $0) }
        try self.init(states: statistics.states, symbols: statistics.symbols, probabilities: p)
    }

    /// `init(statistics:options:)` into this model's storage, with the same bits.
    public mutating func update(statistics: SymbolCounts, options: EmissionOptions) throws(MixtureError) {
        precondition(statistics.states == states && statistics.symbols == symbols, "counts of another shape")
        probabilities.withUnsafeMutableBufferPointer { Self.smoothedCounts(statistics, options, into: $0) }
        try normalizeAndDerive(normalize: true)
    }

    /// max(count + c − 1, 0) per symbol; a state never visited stays uniform (ones).
    private static func smoothedCounts(_ statistics: SymbolCounts, _ options: EmissionOptions,
                                       into p: UnsafeMutableBufferPointer<Double>) {
        let c = options.symbolConcentration, symbols = statistics.symbols
        statistics.counts.withUnsafeBufferPointer { counts in
            for i in 0..<counts.count { p[i] = max(counts[i] + (c - 1), 0) }
        }
        for j in 0..<statistics.states {
            var total = 0.0
            for m in 0..<symbols { total += p[j * symbols + m] }
            if total <= 0 { for m in 0..<symbols { p[j * symbols + m] = 1 } }
        }
    }
}

/// Expected symbol counts Σ_t γ_t(j)·[x_t = m] (N×M).
public struct SymbolCounts: EmissionStatistics {
    public let states: Int
    public let symbols: Int
    public var counts: [Double]

    public init(states: Int, symbols: Int) {
        self.states = states
        self.symbols = symbols
        counts = [Double](repeating: 0, count: states * symbols)
    }

    @inline(__always)
    public mutating func accumulate(_ x: UnsafePointer<Double>, gamma: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        // Through one buffer pointer: a subscript per state paid a uniqueness check each.
        let m = Int(x[0]), n = states, stride = symbols
        counts.withUnsafeMutableBufferPointer { c in
            for j in 0..<n { c[j * stride + m] += gamma[j] }
        }
    }

    public mutating func scale(by factor: Double) { for i in counts.indices { counts[i] *= factor } }

    public mutating func blend(toward other: SymbolCounts, step eta: Double) {
        for i in counts.indices { counts[i] = (1 - eta) * counts[i] + eta * other.counts[i] }
    }

    public mutating func reset() { for i in counts.indices { counts[i] = 0 } }

    public var arrays: [[Double]] {
        get { [counts] }
        set { counts = newValue[0] }
    }

    public var flatCount: Int { counts.count }

    public func copyFlat(into flat: UnsafeMutablePointer<Double>) {
        for i in counts.indices { flat[i] = counts[i] }
    }

    public mutating func setFlat(from flat: UnsafePointer<Double>) {
        for i in counts.indices { counts[i] = flat[i] }
    }

    /// One count of symbol x at state k, weighted by w.
    @inline(__always)
    public func addOneHot(_ x: UnsafePointer<Double>, state k: Int, weight w: Double,
                          into flat: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        flat[k * symbols + Int(x[0])] += w
    }
}
