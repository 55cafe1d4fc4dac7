import Testing
@testable import LatentCore

/// A daemon with posteriors off asks the learner not to score (`scoring: false`): it
/// then skips the labels, the re-scoring of each mini-batch's last row and the
/// averaged model's E-step. What it learns must not change: the same state to the
/// bit and the same parameter changes, for every covariance type and estimator,
/// with and without averaging, on messages of many sizes (one row included).
@Suite struct LearnerScoringTests {
    @Test(arguments: CovarianceType.allCases, [(LearnerSettings.Estimator.soft, false), (.soft, true), (.hard, false), (.hard, true)])
    func learningDoesNotDependOnScoring(_ type: CovarianceType, _ variant: (LearnerSettings.Estimator, Bool)) {
        let k = 4, d = 5, total = 2_500
        let settings = LearnerOnMessages.settings(type, k: k, d: d, estimator: variant.0, averaging: variant.1)
        let xs = LearnerOnMessages.rows(total, around: DiagonalSegmentTests.mixture(k: k, d: d, seed: 11), seed: 12)
        var scoring = MixtureLearner(settings: settings), silent = scoring
        let scored = LearnerOnMessages.feed(&scoring, xs)
        let unscored = LearnerOnMessages.feed(&silent, xs, scoring: false)
        #expect(scoring.version > 100)
        let differing = scored.changed.indices.filter { scored.changed[$0] != unscored.changed[$0] }
        #expect(differing.isEmpty, "messages whose parameter change differs: \(differing.prefix(5))")
        let sameState = silent.encoded() == scoring.encoded(), sameModel = silent.model == scoring.model
        #expect(sameState && sameModel, "the state learned without scoring differs")
    }
}
