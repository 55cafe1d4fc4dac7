/// The learner's side of Cappé's (2011) recursive estimator
/// (`hmm_estimator: recursive`): per learned observation, the shared running
/// statistic S and the sequence's correction ρ̃ are updated (RecursiveEstimator);
/// every `batch` observations the M-step turns S into parameters.
extension HMMLearner {
    static func flatten(_ s: HMMStatistics<E.Statistics>) -> RecursiveHMMStatistics<E.Statistics> {
        RecursiveHMMStatistics(s)
    }

    /// Doubles in one sequence's correction: N rows of the statistic's length.
    static func correctionCount(_ settings: HMMLearnerSettings) -> Int {
        let n = settings.states
        return n * (n + n * n + E.emptyStatistics(states: n, shape: settings.shape).flatCount)
    }

    /// One step of the recursion with φ_t = the sequence's α (before it moves
    /// on) and φ_{t+1} = `next`, under the model that filtered it.
    mutating func recursiveUpdate(_ x: UnsafePointer<Double>, _ model: Model, sequence s: inout HMMSequence) {
        // Moved out (not copied, which retained every array of S per observation),
        // so S stays uniquely referenced while it is updated, and moved back below.
        guard var stats = recursive.take() else { return }
        var correction = RecursiveCorrection()
        swap(&correction.values, &s.correction)
        var ws = RecursiveWorkspace()
        swap(&ws, &recursiveWorkspace)
        let eta = settings.observationStepSize(step)
        let filtering = s.filtering
        if filtering && correction.values.count != settings.states * stats.length {
            // A sequence already under way (replayed after the warm-up): no
            // state-conditional information yet, which is what ρ̃ = 0 says.
            correction = RecursiveCorrection(states: settings.states, length: stats.length)
        }
        next.withUnsafeBufferPointer { f in
            s.alpha.withUnsafeBufferPointer { previous in
                model.recursiveUpdate(x, previous: filtering ? previous.baseAddress! : nil, filtered: f.baseAddress!,
                                      correction: &correction, statistics: &stats, step: eta, workspace: &ws)
            }
        }
        swap(&ws, &recursiveWorkspace)
        swap(&correction.values, &s.correction)
        recursive = consume stats
        step += 1
    }

    /// θ ← M-step(S), every `batch` learned observations.
    mutating func recursiveMStep() -> Bool {
        pendingCount = 0
        guard let recursive else { return false }
        recursive.copy(into: &statistics)
        mStep()
        version += 1
        return true
    }
}
