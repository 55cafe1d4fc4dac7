/// How a mixture learner learns; mirrors the `learning:` block of the config.
public struct LearnerSettings: Sendable, Hashable {
    public enum Estimator: String, Sendable, Hashable { case soft, hard }

    public var components: Int
    public var dimensions: Int
    public var covarianceType: CovarianceType
    /// soft = EM responsibilities; hard = one-hot at the argmax (online k-means).
    public var estimator: Estimator = .soft
    /// Infer only: parameters never change.
    public var frozen = false
    /// Step-size exponent: η_t = (t + 2)^−alpha, 0.5 < alpha ≤ 1.
    public var alpha = 0.6
    /// Observations per stepwise update.
    public var batch = 16
    /// Floor on η_t; > 0 keeps forgetting old data at a constant rate.
    public var minStep = 0.0
    /// Observations buffered before the first model exists.
    public var warmup = 200
    /// k-means++ restarts during warm-up; the best warm-up log-likelihood wins.
    public var nInit = 3
    /// Batch EM iterations refining each warm-up restart.
    public var warmupIterations = 20
    /// Polyak–Ruppert averaging of the statistics: the published model uses the
    /// running average of the iterates, which removes most of the stepwise noise.
    public var averaging = false
    public var seed: UInt64 = 1
    public var mStep = MStepOptions()

    public init(components: Int, dimensions: Int, covarianceType: CovarianceType) {
        self.components = components
        self.dimensions = dimensions
        self.covarianceType = covarianceType
    }

    /// η_t for update number t (Cappé & Moulines 2009; Liang & Klein 2009).
    public func stepSize(_ t: Int) -> Double {
        max(_pow(Double(t + 2), -alpha), minStep)
    }
}

/// What the learner says about one observation.
public struct MixtureObservation: Sendable, Equatable {
    /// False while warming up: no model exists yet, so no posterior.
    public var scored: Bool
    public var logLikelihood: Double
    public var label: Int
    /// True when this observation completed a mini-batch (or the warm-up) and
    /// the parameters changed.
    public var parametersChanged: Bool

    public init(scored: Bool, logLikelihood: Double, label: Int, parametersChanged: Bool) {
        self.scored = scored
        self.logLikelihood = logLikelihood
        self.label = label
        self.parametersChanged = parametersChanged
    }
}

/// Stepwise (online) EM for a Gaussian mixture: warm-up → k-means++ → batch EM →
/// mini-batch stepwise updates of the sufficient statistics.
///
/// The whole state is this value; `encode`/`decode` round-trip it bit for bit,
/// so a restarted daemon continues exactly where it stopped.
public struct MixtureLearner: Sendable {
    public let settings: LearnerSettings
    /// The model used for posteriors and published: the iterate itself, or with
    /// averaging the averaged model. Computed, not a second stored copy of the
    /// iterate: assigning the iterate to it every mini-batch retained and released its
    /// arrays, a twentieth of the daemon's time on batch messages (perf).
    public var model: GaussianMixture? { settings.averaging ? averagedModel : iterate }
    /// The stepwise iterate, whose responsibilities feed the statistics.
    var iterate: GaussianMixture?
    /// The Polyak–Ruppert averaged model; nil unless averaging.
    var averagedModel: GaussianMixture?
    /// Normalized statistics of the iterate.
    var statistics: MixtureStatistics
    var averagedStatistics: MixtureStatistics
    var averagedSteps = 0
    /// Raw sums over the mini-batch in progress.
    var pending: MixtureStatistics
    var pendingCount = 0
    var warmupBuffer: [Double] = []
    /// The observation of the current mini-batch the iterate explains worst:
    /// where a dead component is re-seeded.
    var worst: [Double]
    var worstLogLikelihood = Double.infinity
    var rng: Xoshiro256StarStar
    public internal(set) var step = 0
    public internal(set) var observations = 0
    public internal(set) var version = 0
    /// Components re-seeded so far (reported in status).
    public internal(set) var reseeds = 0

    // Scratch, not state.
    var gamma: [Double]
    var scratch: [Double]
    /// The M-step writes the next parameters here, then swaps them in: a failed
    /// M-step leaves the iterate as it was, and after the first update the storage
    /// of the replaced mixture is reused, so the M-step allocates nothing.
    var spare: GaussianMixture?
    /// full and diag: buffers of `learnSegment` (MixtureLearner+Segments.swift).
    var segmentScratch: [Double]

    public init(settings: LearnerSettings, initial: GaussianMixture? = nil) {
        self.settings = settings
        let k = settings.components, d = settings.dimensions
        let empty = MixtureStatistics(components: k, dimensions: d, covarianceType: settings.covarianceType)
        statistics = empty
        averagedStatistics = empty
        pending = empty
        worst = [Double](repeating: 0, count: d)
        rng = Xoshiro256StarStar(seed: settings.seed)
        gamma = [Double](repeating: 0, count: k)
        scratch = [Double](repeating: 0, count: max(d, packedCount(d)))
        segmentScratch = Self.hasSegmentKernels(settings)
            ? [Double](repeating: 0, count: Self.segmentScratchCount(settings)) : []
        if let initial { start(from: initial) } else { warmupBuffer.reserveCapacity(settings.warmup * d) }
    }

    /// Starts from given parameters: the statistics they imply, no warm-up.
    mutating func start(from initial: GaussianMixture) {
        statistics = MixtureStatistics(expectedUnder: initial, regularization: settings.mStep.regCovar)
        averagedStatistics = statistics
        averagedSteps = 1
        iterate = initial
        averagedModel = settings.averaging ? initial : nil
        version = 1
    }

    /// Scores one observation (responsibilities into `resp`, K doubles) and,
    /// when `learn`, folds it into the statistics.
    ///
    /// Without `scoring` (a daemon that publishes no posteriors) the learner does only
    /// what learning needs: the outcome says `scored: false` and carries only
    /// `parametersChanged`, and `resp` holds whatever the learning left there. The
    /// learner's state is the same either way.
    public mutating func observe(
        _ x: UnsafePointer<Double>, learn: Bool, responsibilities resp: UnsafeMutablePointer<Double>,
        scoring: Bool = true
    ) -> MixtureObservation {
        observations += 1
        var changed = false
        if case .none = iterate {  // not `model == nil`: that picked Equatable `==` and copied the mixture per observation
            guard learn && !settings.frozen else {
                return MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: false)
            }
            warmupBuffer.append(contentsOf: UnsafeBufferPointer(start: x, count: settings.dimensions))
            guard warmupBuffer.count >= settings.warmup * settings.dimensions else {
                return MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: false)
            }
            finishWarmup()
            changed = true
        } else if learn && !settings.frozen {
            if Self.learnsInSegments(settings, rows: 1) {  // a segment of one: the same arithmetic as in a batch message
                var outcome = MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: false)
                let c = learnSegment(x, rows: 1, responsibilities: resp, outcomes: &outcome, scoring: scoring)
                outcome.parametersChanged = c
                return outcome
            }
            let ll = learnFrom(x, responsibilities: resp)
            changed = pendingCount == 0
            if !scoring {
                return MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: changed)
            }
            // Without averaging the published model is the iterate, whose
            // posterior learnFrom just computed: unless the parameters changed,
            // it is this observation's posterior, so the E-step is not repeated.
            if !changed && !settings.averaging {
                return MixtureObservation(
                    scored: true, logLikelihood: ll, label: argmax(resp, settings.components), parametersChanged: false)
            }
        }
        guard scoring else {
            return MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: changed)
        }
        // In place: a copy of the mixture (`let m = model!`) retains and releases
        // its arrays, which cost a fifth of the ingest time.
        let ll = scratch.withUnsafeMutableBufferPointer { s in
            settings.averaging
                ? averagedModel!.responsibilitiesInPlace(x, into: resp, scratch: s.baseAddress!)
                : iterate!.responsibilitiesInPlace(x, into: resp, scratch: s.baseAddress!)
        }
        return MixtureObservation(
            scored: true, logLikelihood: ll, label: argmax(resp, settings.components), parametersChanged: changed)
    }

    /// `observe` for `count` rows of a message (row-major, `dimensions` each):
    /// responsibilities into `resp` (count × K), one outcome per row. The host calls
    /// this once per message, so the per-observation loop runs on the struct and
    /// pays no dynamic exclusivity check on the host's stored properties.
    /// Returns true if the parameters changed. Without `scoring` (see the one-row
    /// `observe`) the outcomes are not written, and posteriors are not computed for
    /// their own sake: with posteriors off the labels, the re-scoring of each
    /// mini-batch's last row under the updated model and, with averaging, the averaged
    /// model's E-step were a tenth of the daemon's work on f64le batches (perf).
    public mutating func observe(
        _ xs: UnsafePointer<Double>, count: Int, learn: Bool,
        responsibilities resp: UnsafeMutablePointer<Double>, outcomes: UnsafeMutablePointer<MixtureObservation>,
        scoring: Bool = true
    ) -> Bool {
        let k = settings.components, d = settings.dimensions
        var changed = false
        var i = 0
        while i < count {
            if Self.learnsInSegments(settings, rows: count - i) && learn && !settings.frozen, case .some = iterate {
                // The rows up to the end of the mini-batch share the iterate: one segment.
                let rows = min(count - i, settings.batch - pendingCount, Self.maximumSegmentRows)
                observations += rows
                let c = learnSegment(
                    xs + i * d, rows: rows, responsibilities: resp + i * k, outcomes: outcomes + i, scoring: scoring)
                changed = changed || c
                i += rows
                continue
            }
            let o = observe(xs + i * d, learn: learn, responsibilities: resp + i * k, scoring: scoring)
            changed = changed || o.parametersChanged
            if scoring { outcomes[i] = o }
            i += 1
        }
        return changed
    }

    /// Scores without learning or counting (the control socket's `score`).
    public func score(_ x: UnsafePointer<Double>, responsibilities resp: UnsafeMutablePointer<Double>) -> Double? {
        guard let model else { return nil }
        var scratch = [Double](repeating: 0, count: settings.dimensions)
        return scratch.withUnsafeMutableBufferPointer { model.responsibilities(x, into: resp, scratch: $0.baseAddress!) }
    }

    /// E-step under the iterate (responsibilities into `resp`) and accumulation
    /// into the pending mini-batch, followed by the stepwise update when the
    /// mini-batch is complete. Learning happens before the posterior is
    /// published, so a completed batch's update is visible in that observation's
    /// posterior. Returns log p(x) under the iterate.
    mutating func learnFrom(_ x: UnsafePointer<Double>, responsibilities resp: UnsafeMutablePointer<Double>) -> Double {
        let k = settings.components, d = settings.dimensions
        let hard = settings.estimator == .hard
        let ll = gamma.withUnsafeMutableBufferPointer { g in
            scratch.withUnsafeMutableBufferPointer { s in
                let ll = iterate!.responsibilitiesInPlace(x, into: resp, scratch: s.baseAddress!)
                var weights = UnsafePointer(resp)
                if hard {
                    for j in 0..<k { g[j] = resp[j] }
                    makeHard(g.baseAddress!, k)
                    weights = UnsafePointer(g.baseAddress!)
                }
                pending.accumulate(x, gamma: weights, scratch: s.baseAddress!)
                return ll
            }
        }
        if ll < worstLogLikelihood {
            worstLogLikelihood = ll
            for i in 0..<d { worst[i] = x[i] }
        }
        pendingCount += 1
        if pendingCount >= settings.batch { stepwiseUpdate() }  // resets pendingCount to 0
        return ll
    }

    /// s ← (1 − η_t)·s + η_t·s̄ with s̄ the mini-batch's normalized statistics
    /// (emptying the mini-batch's sums), then the M-step (and the Polyak average
    /// when enabled).
    mutating func stepwiseUpdate() {
        statistics.blend(emptying: &pending, count: pendingCount, step: settings.stepSize(step))
        step += 1
        reseedDeadComponent()
        if mStepIntoSpare(statistics) { swap(&iterate, &spare) }
        if settings.averaging {
            let rho = max(1 / Double(averagedSteps + 1), settings.minStep)
            averagedStatistics.blend(toward: statistics, step: rho)
            averagedSteps += 1
            if mStepIntoSpare(averagedStatistics) { swap(&averagedModel, &spare) }
        }
        version += 1
        pendingCount = 0
        worstLogLikelihood = .infinity
    }

    /// The M-step for `s` into `spare`, in place once a spare exists. False if it
    /// failed (the spare is then garbage, to be overwritten by the next one).
    mutating func mStepIntoSpare(_ s: MixtureStatistics) -> Bool {
        if case .none = spare {
            spare = try? GaussianMixture(statistics: s, options: settings.mStep)
            if case .none = spare { return false }
            return true
        }
        do {
            try spare!.update(statistics: s, options: settings.mStep)
            return true
        } catch {
            return false
        }
    }

    /// A component whose weight fell far below 1/K explains nothing any more; it
    /// is moved to the worst-explained observation of the last mini-batch with
    /// weight 1/K and the iterate's average covariance (SPEC §5: degenerate cases
    /// are handled, never propagated).
    mutating func reseedDeadComponent() {
        let k = settings.components, d = settings.dimensions
        guard k > 1, let current = iterate, worstLogLikelihood.isFinite else { return }
        let total = statistics.total
        var dead = 0  // a loop, not (0..<k).min(by:), which allocates unspecialized (debug)
        for j in 1..<k where statistics.counts[j] < statistics.counts[dead] { dead = j }
        guard statistics.counts[dead] < 0.01 / Double(k) * total else { return }
        let mass = total / Double(k)
        statistics.scale(by: (total - mass) / max(total - statistics.counts[dead], .leastNormalMagnitude))
        statistics.counts[dead] = mass
        for i in 0..<d { statistics.sums[dead * d + i] = mass * worst[i] }
        // E[xxᵀ] of the new component: Σ̄ + μμᵀ with Σ̄ the weighted average covariance,
        // packed in `scratch` (no allocation while learning).
        let packed = packedCount(d)
        scratch.withUnsafeMutableBufferPointer { buffer in
            let average = buffer.baseAddress!
            current.packedAverageCovariance(into: average)
            @inline(__always) func second(_ r: Int, _ c: Int) -> Double {
                average[r * (r + 1) / 2 + c] + worst[r] * worst[c]
            }
            switch settings.covarianceType {
            case .full:
                var p = 0
                for r in 0..<d { for c in 0...r { statistics.secondMoments[dead * packed + p] = mass * second(r, c); p += 1 } }
            case .tied:
                var p = 0
                for r in 0..<d { for c in 0...r { statistics.secondMoments[p] += mass * second(r, c); p += 1 } }
            case .diag:
                for i in 0..<d { statistics.secondMoments[dead * d + i] = mass * second(i, i) }
            case .spherical:
                var trace = 0.0
                for i in 0..<d { trace += second(i, i) }
                statistics.secondMoments[dead] = mass * trace
            }
        }
        reseeds += 1
    }
}
