/// Learning from a segment of full- or diagonal-covariance observations: the rows
/// of a message up to the end of the current mini-batch, which all see the same
/// iterate.
///
/// The E-step and the statistics run over the whole segment
/// (FullCovarianceSegments.swift, DiagonalSegments.swift); the outcomes are those
/// of observing the rows one by one: posteriors under the iterate (or, with
/// averaging, the averaged model), and the row that completes the mini-batch scored
/// after the update. Nothing depends on how rows are grouped into messages: each
/// row's E-step is computed alone, and each sum is updated row by row, so a
/// restart that regroups the rows still continues bit for bit.
extension MixtureLearner {
    /// The longest segment. A mini-batch can be any size (`batch` has no upper bound),
    /// and the scratch grows with the segment; results do not depend on the split, so
    /// longer runs of rows are simply cut.
    public static let maximumSegmentRows = 64

    /// Whether the covariance type has segment kernels: full and diagonal, whose
    /// kernels beat row-by-row learning (full: 3.7 → 2.4 µs at K=16 D=32; diag:
    /// 74 → 37–42 ns at K=4 D=8, `latentd bench`).
    static func hasSegmentKernels(_ s: LearnerSettings) -> Bool { s.covarianceType == .full || s.covarianceType == .diag }

    /// Whether `rows` consecutive rows are learned as segments. Full covariances
    /// always, single observations as segments of one (one kernel); diagonal ones from
    /// two rows, because one row costs less through `learnFrom`, whose arithmetic per
    /// row is the same.
    static func learnsInSegments(_ s: LearnerSettings, rows: Int) -> Bool {
        s.covarianceType == .full || (s.covarianceType == .diag && rows > 1)
    }

    /// How many single observations the learner can take as one segment now: those up
    /// to the end of the mini-batch, at most `maximumSegmentRows`; 0 while warming up,
    /// when frozen, and for covariance types without segment kernels. A host may hold
    /// that many one-observation messages and pass them in one call: the state is the
    /// same to the bit, and the mini-batch's update comes with the last of them.
    public var segmentRoom: Int {
        guard Self.hasSegmentKernels(settings), !settings.frozen, case .some = iterate else { return 0 }
        return min(settings.batch - pendingCount, Self.maximumSegmentRows)
    }

    /// Rows of a segment for `settings`: the mini-batch, at most `maximumSegmentRows`.
    static func segmentCapacity(_ s: LearnerSettings) -> Int { min(max(s.batch, 1), maximumSegmentRows) }

    /// Layout of `segmentScratch`: log-likelihoods (capacity), E-step scratch
    /// (`eStepScratchCount`), hard responsibilities (capacity·K), statistics scratch.
    static func segmentScratchCount(_ s: LearnerSettings) -> Int {
        let rows = segmentCapacity(s)
        return rows + eStepScratchCount(s) + rows * s.components
            + (s.covarianceType == .full ? MixtureStatistics.segmentScratchCount(rows: rows, dimensions: s.dimensions) : 0)
    }

    /// `GaussianMixture.segmentScratchCount` for the learner's shape.
    static func eStepScratchCount(_ s: LearnerSettings) -> Int {
        GaussianMixture.segmentScratchCount(components: s.components, dimensions: s.dimensions)
    }

    /// Learns from `rows` observations (at most what completes the mini-batch) and,
    /// when `scoring`, writes each one's responsibilities (rows × K) and outcome. Needs
    /// a model; the caller counts the observations. Returns true if the parameters
    /// changed (at the segment's last row).
    mutating func learnSegment(
        _ xs: UnsafePointer<Double>, rows m: Int, responsibilities resp: UnsafeMutablePointer<Double>,
        outcomes: UnsafeMutablePointer<MixtureObservation>, scoring: Bool = true
    ) -> Bool {
        precondition(m >= 1 && m <= settings.batch - pendingCount && m <= Self.segmentCapacity(settings),
                     "a segment ends at the mini-batch boundary and fits the scratch")
        let k = settings.components, d = settings.dimensions, capacity = Self.segmentCapacity(settings)
        let hard = settings.estimator == .hard, averaging = settings.averaging
        let completes = pendingCount + m >= settings.batch
        // Moved out for the call (no copy, no allocation): the closure below calls
        // mutating methods on self, which must not overlap an access to a property.
        var scratchArray: [Double] = []
        swap(&scratchArray, &segmentScratch)
        defer { swap(&scratchArray, &segmentScratch) }
        let changed = scratchArray.withUnsafeMutableBufferPointer { buffer -> Bool in
            let logLikelihoods = buffer.baseAddress!
            let eScratch = logLikelihoods + capacity
            let hardGamma = eScratch + Self.eStepScratchCount(settings)
            let sScratch = hardGamma + capacity * k
            iterate!.segmentResponsibilitiesInPlace(
                xs, rows: m, into: resp, logLikelihoods: logLikelihoods, scratch: eScratch)
            var weights = UnsafePointer(resp)
            if hard {
                for i in 0..<(m * k) { hardGamma[i] = resp[i] }
                for n in 0..<m { makeHard(hardGamma + n * k, k) }
                weights = UnsafePointer(hardGamma)
            }
            pending.accumulateSegment(xs, rows: m, gamma: weights, scratch: sScratch)
            // The segment's worst row first, then one copy: copying at every new
            // minimum wrote the stored row (and checked its uniqueness) several times
            // per mini-batch. The first strict minimum either way.
            var worstRow = 0
            for n in 1..<m where logLikelihoods[n] < logLikelihoods[worstRow] { worstRow = n }
            if logLikelihoods[worstRow] < worstLogLikelihood {
                worstLogLikelihood = logLikelihoods[worstRow]
                worst.withUnsafeMutableBufferPointer { w in
                    for i in 0..<d { w[i] = xs[worstRow * d + i] }
                }
            }
            // With averaging the posteriors are the averaged model's, as it is before
            // this segment's update (the row that completes the mini-batch is scored
            // after it, below).
            let scoredBefore = completes ? m - 1 : m
            if scoring && averaging && scoredBefore > 0 {
                publishedSegmentResponsibilities(
                    xs, rows: scoredBefore, into: resp, logLikelihoods: logLikelihoods, scratch: eScratch)
            }
            pendingCount += m
            if completes { stepwiseUpdate() }  // resets pendingCount to 0
            let changed = completes
            guard scoring else { return changed }
            if changed {  // the completing row is scored under the updated model
                let last = m - 1
                publishedSegmentResponsibilities(
                    xs + last * d, rows: 1, into: resp + last * k, logLikelihoods: logLikelihoods + last,
                    scratch: eScratch)
            }
            @inline(__always) func outcome(_ n: Int, _ label: Int) {
                outcomes[n] = MixtureObservation(
                    scored: true, logLikelihood: logLikelihoods[n], label: label, parametersChanged: changed && n == m - 1)
            }
            var n = 0
            while n + 4 <= m {
                let (l0, l1, l2, l3) = argmax4(resp + n * k, k)
                outcome(n, l0); outcome(n + 1, l1); outcome(n + 2, l2); outcome(n + 3, l3)
                n += 4
            }
            while n < m { outcome(n, argmax(resp + n * k, k)); n += 1 }
            return changed
        }
        return changed
    }

    /// `segmentResponsibilities` under the published model (`model`), in place: the
    /// averaged model with averaging, the iterate otherwise.
    @inline(__always)
    mutating func publishedSegmentResponsibilities(
        _ xs: UnsafePointer<Double>, rows: Int, into resp: UnsafeMutablePointer<Double>,
        logLikelihoods: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        if settings.averaging {
            averagedModel!.segmentResponsibilitiesInPlace(
                xs, rows: rows, into: resp, logLikelihoods: logLikelihoods, scratch: scratch)
        } else {
            iterate!.segmentResponsibilitiesInPlace(xs, rows: rows, into: resp, logLikelihoods: logLikelihoods, scratch: scratch)
        }
    }
}

extension GaussianMixture {
    /// `segmentResponsibilities`, declared `mutating` (it changes nothing) so that the
    /// learner runs it on its optional mixtures in place, without copying them (see
    /// `responsibilitiesInPlace`).
    @inline(__always)
    mutating func segmentResponsibilitiesInPlace(
        _ xs: UnsafePointer<Double>, rows: Int, into resp: UnsafeMutablePointer<Double>,
        logLikelihoods: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        segmentResponsibilities(xs, rows: rows, into: resp, logLikelihoods: logLikelihoods, scratch: scratch)
    }
}
