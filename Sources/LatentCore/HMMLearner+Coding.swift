/// Bit-exact encoding of the learner's shared state and of its sequences.
extension HMMLearner {
    static var formatTag: String { "hmm-learner-1" }

    public func encode(into w: inout ByteWriter) {
        w.write(Self.formatTag)
        w.write(settings.states)
        w.write(Self.shapeName(settings.shape))
        w.write(model != nil)
        if let model {
            w.write(model.start)
            w.write(model.transitions)
            let arrays = model.emissions.parameterArrays
            w.write(arrays.count)
            for a in arrays { w.write(a) }
        }
        for s in [statistics, pending] { Self.encodeStatistics(s, into: &w) }
        w.write(pendingCount)
        w.write(recursive?.values ?? [])
        w.write(warmupSegments.count)
        for segment in warmupSegments { w.write(segment) }
        w.write(warmupCount)
        let r = rng.state
        for word in [r.0, r.1, r.2, r.3] { w.write(word) }
        w.write(step)
        w.write(observations)
        w.write(version)
    }

    /// Restores a learner for `settings`; refuses state written for another shape.
    public init(settings: HMMLearnerSettings, decoding r: inout ByteReader) throws(DecodingFailure) {
        self.init(settings: settings)
        let tag = try r.readString()
        guard tag == Self.formatTag else { throw DecodingFailure("unknown HMM learner format \"\(tag)\"") }
        let n = try r.readInt(), shape = try r.readString()
        guard n == settings.states, shape == Self.shapeName(settings.shape) else {
            throw DecodingFailure("state is for N=\(n), \(shape); the model is N=\(settings.states), \(Self.shapeName(settings.shape))")
        }
        if try r.readBool() {
            let start = try r.readDoubles(expected: n)
            let transitions = try r.readDoubles(expected: n * n)
            let count = try r.readInt()
            guard (0...8).contains(count) else { throw DecodingFailure("implausible emission array count \(count)") }
            var arrays: [[Double]] = []
            for _ in 0..<count { arrays.append(try r.readDoubles()) }
            do {
                let emissions = try E(restoring: arrays, states: n, shape: settings.shape)
                model = try Model(start: start, transitions: transitions, emissions: emissions, normalize: false)
            } catch {
                throw DecodingFailure("stored parameters are invalid: \(error)")
            }
        }
        statistics = try Self.decodeStatistics(like: statistics, from: &r)
        pending = try Self.decodeStatistics(like: pending, from: &r)
        pendingCount = try r.readInt()
        let flat = try r.readDoubles()
        if !flat.isEmpty {
            var s = Self.flatten(statistics)
            guard flat.count == s.length else {
                throw DecodingFailure("recursive statistics of \(flat.count) values do not fit this model")
            }
            s.values = flat
            recursive = s
        }
        let segments = try r.readInt()
        guard segments >= 0 else { throw DecodingFailure("bad warm-up segment count \(segments)") }
        warmupSegments = []
        for _ in 0..<segments {
            let segment = try r.readDoubles()
            guard Self.validObservations(segment, settings.shape) else {
                throw DecodingFailure("a warm-up segment holds values that are not observations of \(Self.shapeName(settings.shape))")
            }
            warmupSegments.append(segment)
        }
        warmupCount = try r.readInt()
        rng = Xoshiro256StarStar(state: (try r.readUInt64(), try r.readUInt64(), try r.readUInt64(), try r.readUInt64()))
        step = try r.readInt()
        observations = try r.readInt()
        version = try r.readInt()
        guard pendingCount >= 0, warmupCount >= 0, step >= 0, observations >= 0, version >= 0 else {
            throw DecodingFailure("a negative count in the learner state")
        }
    }

    /// Whole observations and, for categorical emissions, symbols the model
    /// has: an out-of-range symbol would index past the emission table later.
    static func validObservations(_ xs: [Double], _ shape: EmissionShape) -> Bool {
        guard xs.count % shape.observationWidth == 0 else { return false }
        guard case .categorical(let m) = shape else { return true }
        return xs.allSatisfy { $0 >= 0 && $0 < Double(m) && $0 == $0.rounded(.towardZero) }
    }

    static func shapeName(_ shape: EmissionShape) -> String {
        switch shape {
        case .gaussian(let d, let type): return "gaussian D=\(d) \(type.rawValue)"
        case .categorical(let m): return "categorical M=\(m)"
        }
    }

    static func encodeStatistics(_ s: HMMStatistics<E.Statistics>, into w: inout ByteWriter) {
        w.write(s.start)
        w.write(s.transitions)
        let arrays = s.emission.arrays
        w.write(arrays.count)
        for a in arrays { w.write(a) }
    }

    static func decodeStatistics(like template: HMMStatistics<E.Statistics>, from r: inout ByteReader) throws(DecodingFailure) -> HMMStatistics<E.Statistics> {
        var s = template
        s.start = try r.readDoubles(expected: template.start.count)
        s.transitions = try r.readDoubles(expected: template.transitions.count)
        let shapes = template.emission.arrays.map(\.count)
        guard try r.readInt() == shapes.count else { throw DecodingFailure("emission statistics have the wrong number of arrays") }
        var arrays: [[Double]] = []
        for count in shapes { arrays.append(try r.readDoubles(expected: count)) }
        s.emission.arrays = arrays
        return s
    }

    /// Encodes one sequence's state (checkpoints keep in-flight sequences).
    public func encode(_ s: HMMSequence, into w: inout ByteWriter) { s.encode(into: &w) }

    public func decodeSequence(from r: inout ByteReader) throws(DecodingFailure) -> HMMSequence {
        let s = try HMMSequence(states: settings.states, lag: settings.lag, width: settings.shape.observationWidth,
                                correctionCount: Self.correctionCount(settings), decoding: &r)
        guard Self.validObservations(s.window, settings.shape) else {
            throw DecodingFailure("a sequence window holds values that are not observations of \(Self.shapeName(settings.shape))")
        }
        return s
    }
}

/// The settings a stored HMM learner was written for, read without a config
/// (`latentd inspect`): enough to decode the shared state, not the sequences.
public enum StoredHMMSettings: Sendable {
    case gaussian(HMMLearnerSettings)
    case categorical(HMMLearnerSettings)
}

extension HMMLearnerSettings {
    public static func stored(_ r: ByteReader) throws(DecodingFailure) -> StoredHMMSettings {
        var r = r
        guard try r.readString() == "hmm-learner-1" else { throw DecodingFailure("unknown HMM learner format") }
        let n = try r.readInt()
        let words = try r.readString().split(separator: " ")
        guard n >= 1, let first = words.first else { throw DecodingFailure("implausible stored shape") }
        func number(_ word: Substring) -> Int? { word.split(separator: "=").last.flatMap { Int($0) } }
        if first == "gaussian", words.count == 3, let d = number(words[1]), let type = CovarianceType(rawValue: String(words[2])) {
            return .gaussian(HMMLearnerSettings(states: n, shape: .gaussian(dimensions: d, covariance: type)))
        }
        if first == "categorical", words.count == 2, let m = number(words[1]) {
            return .categorical(HMMLearnerSettings(states: n, shape: .categorical(symbols: m)))
        }
        throw DecodingFailure("implausible stored shape \(words.joined(separator: " "))")
    }
}
