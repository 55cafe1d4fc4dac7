/// The synthetic hidden Markov models of the learning-quality checks, and
/// their datasets.
///
/// They live in the library, not in a test target, because two suites use
/// them: LatentCoreTests (our sampler and batch Baum–Welch against hmmlearn)
/// and the daemon's learner test (one online pass against the same
/// reference). scripts/fixtures/hmm_learning.py holds the same parameters and
/// regenerates the same datasets draw for draw, so hmmlearn is fitted on
/// exactly our observations; the reference numbers are in
/// Tests/LatentCoreTests/Fixtures/hmm_learning_reference.json.
public enum HMMScenarios {
    /// Seed of the training set (`trainingCount` sequences of `sequenceLength`).
    public static let trainingSeed: UInt64 = 2026
    /// Seed of the held-out set (`heldOutCount` sequences of `sequenceLength`).
    public static let heldOutSeed: UInt64 = 2027
    public static let trainingCount = 200
    public static let heldOutCount = 50
    public static let sequenceLength = 300

    /// N = 3, D = 2, diagonal covariances, sticky transitions (0.95 to stay,
    /// 0.025 to each other state), start (0.5, 0.25, 0.25).
    ///
    /// Means (0, 0), (2.5, 0), (0, 2.5) are 2.5 apart with standard deviations
    /// near 1, so single observations are often ambiguous and the learner must
    /// use the temporal structure; yet the states are clearly distinct: the
    /// true model's held-out log-likelihood is about 0.7 nats per observation
    /// above a single Gaussian's. hmmlearn's random restarts do fall into
    /// merged-state local optima here, which is why its reference keeps the
    /// best of several.
    public static func stickyGaussian() -> HiddenMarkovModel<GaussianEmissions> {
        let stay = 0.95, move = 0.025
        let emissions = try! GaussianEmissions(
            states: 3,
            means: [0, 0, 2.5, 0, 0, 2.5],
            covariances: [1.0, 0.6, 0.8, 1.2, 1.5, 0.7],
            covarianceType: .diag)
        return try! HiddenMarkovModel(
            start: [0.5, 0.25, 0.25],
            transitions: [stay, move, move, move, stay, move, move, move, stay],
            emissions: emissions)
    }

    /// The dishonest casino (Durbin et al. 1998, ch. 3): state 0 a fair die,
    /// state 1 a loaded one that shows six half the time; symbol m is face
    /// m + 1. The same numbers as the "casino" entry of hmm_reference.json.
    public static func dishonestCasino() -> HiddenMarkovModel<CategoricalEmissions> {
        let fair = [Double](repeating: 1.0 / 6.0, count: 6)
        let loaded = [0.1, 0.1, 0.1, 0.1, 0.1, 0.5]
        let emissions = try! CategoricalEmissions(states: 2, symbols: 6, probabilities: fair + loaded)
        return try! HiddenMarkovModel(start: [0.5, 0.5], transitions: [0.95, 0.05, 0.1, 0.9], emissions: emissions)
    }

    /// `count` sequences of `length` observations from one generator seeded
    /// once with `seed`, drawn one after another by `HiddenMarkovModel.sample`,
    /// with their hidden states.
    public static func labelledSequences<E>(
        _ model: HiddenMarkovModel<E>, count: Int, length: Int, seed: UInt64
    ) -> (observations: [[Double]], states: [[Int]]) {
        var rng = Xoshiro256StarStar(seed: seed)
        var observations: [[Double]] = [], states: [[Int]] = []
        observations.reserveCapacity(count)
        states.reserveCapacity(count)
        for _ in 0..<count {
            let (xs, zs) = model.sample(length: length, rng: &rng)
            observations.append(xs)
            states.append(zs)
        }
        return (observations, states)
    }

    /// The observations of `labelledSequences`.
    public static func sequences<E>(_ model: HiddenMarkovModel<E>, count: Int, length: Int, seed: UInt64) -> [[Double]] {
        labelledSequences(model, count: count, length: length, seed: seed).observations
    }

    /// The training set: `trainingCount` × `sequenceLength` from `trainingSeed`.
    public static func trainingSet<E>(_ model: HiddenMarkovModel<E>) -> [[Double]] {
        sequences(model, count: trainingCount, length: sequenceLength, seed: trainingSeed)
    }

    /// The held-out set: `heldOutCount` × `sequenceLength` from `heldOutSeed`.
    public static func heldOutSet<E>(_ model: HiddenMarkovModel<E>) -> [[Double]] {
        sequences(model, count: heldOutCount, length: sequenceLength, seed: heldOutSeed)
    }
}
