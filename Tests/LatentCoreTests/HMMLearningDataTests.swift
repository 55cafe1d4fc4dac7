import Foundation
import Testing
import LatentCore

/// The learning-quality datasets and reference numbers (Fixtures/
/// hmm_learning_reference.json, written by scripts/fixtures/hmm_learning.py).
///
/// The chain of evidence: (a) Swift and Python draw the same data, so
/// hmmlearn was fitted on exactly our training set; (b) our forward filter
/// scores held-out data exactly as hmmlearn does, so held-out numbers are
/// comparable across the two; (c) our batch Baum–Welch then reaches
/// hmmlearn's held-out score. The daemon's one-pass learner is held to the
/// same reference elsewhere.
@Suite struct HMMLearningDataTests {
    static var root: [String: Any] { try! Fixture.load("hmm_learning_reference.json") }
    static var gaussian: [String: Any] { root["sticky_gaussian"] as! [String: Any] }
    static var casino: [String: Any] { root["casino"] as! [String: Any] }

    static func number(_ any: Any?) -> Double { (any as! NSNumber).doubleValue }

    static func perObservation<E>(_ model: HiddenMarkovModel<E>, _ sequences: [[Double]]) -> Double {
        let total = sequences.reduce(0.0) { $0 + model.filter($1).logLikelihood }
        let count = sequences.reduce(0) { $0 + $1.count } / model.emissions.observationWidth
        return total / Double(count)
    }

    /// One dataset against its checksums: the sampler draws exactly what the
    /// Python port drew.
    func checkData<E>(_ model: HiddenMarkovModel<E>, _ scenario: [String: Any], set: String) {
        let data = scenario["data"] as! [String: Any]
        let expected = data[set] as! [String: Any]
        let seed = UInt64(data[set == "train" ? "train_seed" : "heldout_seed"] as! Int)
        let count = data[set == "train" ? "train_sequences" : "heldout_sequences"] as! Int
        let length = data["sequence_length"] as! Int
        #expect(seed == (set == "train" ? HMMScenarios.trainingSeed : HMMScenarios.heldOutSeed))
        #expect(count == (set == "train" ? HMMScenarios.trainingCount : HMMScenarios.heldOutCount))
        #expect(length == HMMScenarios.sequenceLength)

        let (sequences, states) = HMMScenarios.labelledSequences(model, count: count, length: length, seed: seed)
        let xs = sequences.flatMap { $0 }
        #expect(sequences == (set == "train" ? HMMScenarios.trainingSet(model) : HMMScenarios.heldOutSet(model)))
        let sum = xs.reduce(0, +), squares = xs.reduce(0) { $0 + $1 * $1 }
        #expect(abs(sum - Self.number(expected["sum"])) <= 1e-9 * max(1, abs(sum)), "\(set) sum \(sum)")
        #expect(abs(squares - Self.number(expected["sum_of_squares"])) <= 1e-9 * squares, "\(set) sum of squares")
        let first = flat(expected["first_observations"])
        #expect(maxAbsDifference(Array(xs.prefix(first.count)), first) <= 1e-12)
        let last = flat(expected["last_observation"])
        #expect(maxAbsDifference(Array(xs.suffix(last.count)), last) <= 1e-12)
        #expect(Array(states[0].prefix(10)) == flat(expected["first_states"]).map { Int($0) })
        var counts = [Int](repeating: 0, count: model.states)
        for z in states.joined() { counts[z] += 1 }
        #expect(counts == flat(expected["state_counts"]).map { Int($0) })
    }

    /// The fixture's true parameters are HMMScenarios' (after the initializers' normalization).
    func checkParameters<E>(_ model: HiddenMarkovModel<E>, _ scenario: [String: Any]) {
        let truth = scenario["true"] as! [String: Any]
        #expect(model.start == flat(truth["start"]))
        #expect(model.transitions == flat(truth["transitions"]))
        if let g = model.emissions as? GaussianEmissions {
            #expect(g.covarianceType.rawValue == truth["covariance_type"] as? String)
            #expect(g.means == flat(truth["means"]))
            #expect(g.covariances == flat(truth["covariances"]))
        }
        if let c = model.emissions as? CategoricalEmissions {
            #expect(c.probabilities == flat(truth["emissions"]))
        }
    }

    @Test func gaussianDataMatchesPython() {
        let model = HMMScenarios.stickyGaussian()
        checkParameters(model, Self.gaussian)
        checkData(model, Self.gaussian, set: "train")
        checkData(model, Self.gaussian, set: "heldout")
    }

    @Test func casinoDataMatchesPython() {
        let model = HMMScenarios.dishonestCasino()
        checkParameters(model, Self.casino)
        checkData(model, Self.casino, set: "train")
        checkData(model, Self.casino, set: "heldout")
    }

    /// Our filter's score under the true parameters is hmmlearn's `score` on the same data.
    @Test func trueModelScoresMatchHmmlearn() {
        let g = HMMScenarios.stickyGaussian(), c = HMMScenarios.dishonestCasino()
        #expect(abs(Self.perObservation(g, HMMScenarios.heldOutSet(g)) - Self.number(Self.gaussian["true_heldout_loglik_per_obs"])) < 1e-9)
        #expect(abs(Self.perObservation(c, HMMScenarios.heldOutSet(c)) - Self.number(Self.casino["true_heldout_loglik_per_obs"])) < 1e-9)
    }

    /// Best of several Baum–Welch runs by training log-likelihood, scored on held-out data.
    static func bestFit<E>(_ starts: [HiddenMarkovModel<E>], training: [[Double]], heldOut: [[Double]],
                           iterations: Int, tolerance: Double) -> Double {
        let fits = starts.map { $0.baumWelch(training, iterations: iterations, tolerance: tolerance) }
        let best = fits.max { $0.logLikelihoods.last! < $1.logLikelihoods.last! }!
        return perObservation(best.model, heldOut)
    }

    /// The criterion is 0.02 nats per observation, but the casino's
    /// hidden state is worth only about 0.011 nats over a one-state model, so
    /// a fit that learned nothing would pass it. The margin is therefore also
    /// capped at a tenth of what the true model gains over one state.
    static func margin(_ scenario: [String: Any]) -> Double {
        let gap = number(scenario["true_heldout_loglik_per_obs"]) - number(scenario["one_state_heldout_loglik_per_obs"])
        return min(0.02, 0.1 * gap)
    }

    static func hmmlearnHeldOut(_ scenario: [String: Any]) -> Double {
        number((scenario["hmmlearn"] as! [String: Any])["heldout_loglik_per_obs"])
    }

    /// Baum–Welch on all 200 training sequences from deliberately wrong starts
    /// (means pulled together or pushed apart, unit variances, weakly sticky
    /// transitions, uniform start), not from hmmlearn's k-means init, which we
    /// do not have. Both converge in about ten iterations (under 3 s in debug).
    @Test func gaussianBaumWelchReachesHmmlearn() throws {
        let truth = HMMScenarios.stickyGaussian()
        let starts = try [
            [0.8, -0.6, 1.8, 0.7, -0.5, 1.7],
            [-0.7, 0.5, 3.4, -0.6, 0.6, 3.3],
        ].map { means in
            try HiddenMarkovModel(
                start: [1, 1, 1], transitions: [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8],
                emissions: GaussianEmissions(states: 3, means: means, covariances: [Double](repeating: 1, count: 6),
                                             covarianceType: .diag))
        }
        let ours = Self.bestFit(starts, training: HMMScenarios.trainingSet(truth), heldOut: HMMScenarios.heldOutSet(truth),
                                iterations: 100, tolerance: 1e-3)
        #expect(abs(ours - Self.hmmlearnHeldOut(Self.gaussian)) < Self.margin(Self.gaussian), "ours \(ours)")
    }

    /// The casino's EM crawls (the loaded die shows itself only through its
    /// sixes): from a fair-versus-six-heavy guess the training log-likelihood
    /// still rises by ~0.005 nats per iteration after 100. One start and 60
    /// iterations, about 1e-5 nats per observation short of the 100-iteration
    /// value, keep the debug run near 2.5 s; hmmlearn's reference used 100.
    @Test func casinoBaumWelchReachesHmmlearn() throws {
        let truth = HMMScenarios.dishonestCasino()
        let start = try HiddenMarkovModel(
            start: [1, 1], transitions: [0.8, 0.2, 0.2, 0.8],
            emissions: CategoricalEmissions(states: 2, symbols: 6,
                                            probabilities: [0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.12, 0.12, 0.12, 0.12, 0.12, 0.4]))
        let ours = Self.bestFit([start], training: HMMScenarios.trainingSet(truth), heldOut: HMMScenarios.heldOutSet(truth),
                                iterations: 60, tolerance: 1e-3)
        #expect(abs(ours - Self.hmmlearnHeldOut(Self.casino)) < Self.margin(Self.casino), "ours \(ours)")
    }

    /// The scenarios use diagonal covariances; the full branch of the sampler
    /// is checked here: its first draw by hand (x = μ + L·z, z drawn in order)
    /// and its sample moments.
    @Test func fullCovarianceSampling() throws {
        let mean = [1.0, -2.0], sigma = [2.0, 0.8, 0.8, 1.0]
        let model = try HiddenMarkovModel(
            start: [1], transitions: [1],
            emissions: GaussianEmissions(states: 1, means: mean, covariances: sigma, covarianceType: .full))
        var rng = Xoshiro256StarStar(seed: 99), check = rng
        let (xs, states) = model.sample(length: 20_000, rng: &rng)
        #expect(states.allSatisfy { $0 == 0 })
        _ = check.uniform()  // the state draw
        let z0 = check.normal(), z1 = check.normal()
        let l00 = 2.0.squareRoot(), l10 = 0.8 / l00, l11 = (1.0 - l10 * l10).squareRoot()
        #expect(xs[0] == mean[0] + l00 * z0)
        #expect(xs[1] == mean[1] + (l10 * z0 + l11 * z1))
        let n = Double(states.count)
        var m = [0.0, 0.0], c = [0.0, 0.0, 0.0, 0.0]
        for t in 0..<states.count { for i in 0..<2 { m[i] += xs[2 * t + i] / n } }
        for t in 0..<states.count {
            for i in 0..<2 { for j in 0..<2 { c[2 * i + j] += (xs[2 * t + i] - m[i]) * (xs[2 * t + j] - m[j]) / n } }
        }
        #expect(maxAbsDifference(m, mean) < 0.05)
        #expect(maxAbsDifference(c, sigma) < 0.08)
    }
}
