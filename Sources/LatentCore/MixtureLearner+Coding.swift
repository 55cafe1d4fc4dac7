/// Bit-exact encoding of the learner's whole state for checkpoints.
extension MixtureLearner {
    static let formatTag = "gmm-learner-1"

    public func encode(into w: inout ByteWriter) {
        w.write(Self.formatTag)
        w.write(settings.components)
        w.write(settings.dimensions)
        w.write(settings.covarianceType.rawValue)
        for m in [model, iterate] {
            w.write(m != nil)
            if let m {
                w.write(m.weights)
                w.write(m.means)
                w.write(m.covariances)
            }
        }
        for s in [statistics, averagedStatistics, pending] {
            w.write(s.counts)
            w.write(s.sums)
            w.write(s.secondMoments)
        }
        w.write(averagedSteps)
        w.write(pendingCount)
        w.write(warmupBuffer)
        w.write(worst)
        w.write(worstLogLikelihood)
        let r = rng.state
        for word in [r.0, r.1, r.2, r.3] { w.write(word) }
        w.write(step)
        w.write(observations)
        w.write(version)
        w.write(reseeds)
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(reservingCapacity: 1024)
        encode(into: &w)
        return w.bytes
    }

    /// Restores a learner for `settings`; refuses state written for another shape.
    public init(settings: LearnerSettings, decoding r: inout ByteReader) throws(DecodingFailure) {
        self.init(settings: settings)
        let tag = try r.readString()
        guard tag == Self.formatTag else { throw DecodingFailure("unknown learner format \"\(tag)\"") }
        let k = try r.readInt(), d = try r.readInt(), type = try r.readString()
        guard k == settings.components, d == settings.dimensions, type == settings.covarianceType.rawValue else {
            throw DecodingFailure("state is for K=\(k), D=\(d), \(type); the model is K=\(settings.components), D=\(settings.dimensions), \(settings.covarianceType.rawValue)")
        }
        let covCount = settings.covarianceType.parameterCount(components: k, dimensions: d)
        var models: [GaussianMixture?] = []
        for _ in 0..<2 {
            if try r.readBool() {
                let weights = try r.readDoubles(expected: k)
                let means = try r.readDoubles(expected: k * d)
                let cov = try r.readDoubles(expected: covCount)
                do {
                    models.append(try GaussianMixture(
                        weights: weights, means: means, covariances: cov,
                        covarianceType: settings.covarianceType, normalize: false))
                } catch {
                    throw DecodingFailure("stored parameters are invalid: \(error)")
                }
            } else {
                models.append(nil)
            }
        }
        // Both are stored (the format predates the computed `model`); without
        // averaging they are the same parameters.
        averagedModel = settings.averaging ? models[0] : nil
        iterate = models[1]
        let secondCount = settings.covarianceType.secondMomentCount(components: k, dimensions: d)
        var stats: [MixtureStatistics] = []
        for _ in 0..<3 {
            var s = MixtureStatistics(components: k, dimensions: d, covarianceType: settings.covarianceType)
            s.counts = try r.readDoubles(expected: k)
            s.sums = try r.readDoubles(expected: k * d)
            s.secondMoments = try r.readDoubles(expected: secondCount)
            stats.append(s)
        }
        statistics = stats[0]
        averagedStatistics = stats[1]
        pending = stats[2]
        averagedSteps = try r.readInt()
        pendingCount = try r.readInt()
        warmupBuffer = try r.readDoubles()
        worst = try r.readDoubles(expected: d)
        worstLogLikelihood = try r.readDouble()
        rng = Xoshiro256StarStar(state: (try r.readUInt64(), try r.readUInt64(), try r.readUInt64(), try r.readUInt64()))
        step = try r.readInt()
        observations = try r.readInt()
        version = try r.readInt()
        reseeds = try r.readInt()
    }
}

extension MixtureLearner {
    /// Reads the shape a stored state was written for, without decoding it
    /// (`latentd inspect` has no config to take the shape from).
    public static func storedSettings(_ r: ByteReader) throws(DecodingFailure) -> LearnerSettings {
        var r = r
        let tag = try r.readString()
        guard tag == formatTag else { throw DecodingFailure("unknown learner format \"\(tag)\"") }
        let k = try r.readInt(), d = try r.readInt(), type = try r.readString()
        guard k >= 1, d >= 1, let covarianceType = CovarianceType(rawValue: type) else {
            throw DecodingFailure("implausible stored shape K=\(k), D=\(d), covariance \(type)")
        }
        return LearnerSettings(components: k, dimensions: d, covarianceType: covarianceType)
    }

    /// Mini-batch observations waiting for the next stepwise update.
    public var pendingObservations: Int { pendingCount }
    /// Observations buffered for the warm-up.
    public var bufferedObservations: Int { warmupBuffer.count / settings.dimensions }
}
