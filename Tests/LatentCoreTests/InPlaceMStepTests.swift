import Testing
@testable import LatentCore

/// The HMM learner's M-step runs in place (`HiddenMarkovModel.update(statistics:
/// options:fallback:)` into a spare model) so that it allocates nothing; it must
/// give exactly the model `init(statistics:options:fallback:)` builds.
@Suite struct InPlaceMStepTests {
    static func gaussian(_ type: CovarianceType, shift: Double) throws -> HiddenMarkovModel<GaussianEmissions> {
        let n = 3, d = 2
        let means = (0..<(n * d)).map { Double($0 / d) * 2 + shift * Double($0 % d) }
        let covariances: [Double]
        switch type {
        case .full: covariances = (0..<n).flatMap { j in [1 + Double(j) * 0.3 + shift, 0.2, 0.2, 0.8] }
        case .tied: covariances = [1 + shift, 0.1, 0.1, 0.7]
        case .diag: covariances = (0..<(n * d)).map { 0.5 + Double($0) * 0.1 + shift }
        case .spherical: covariances = [0.6 + shift, 1, 1.4]
        }
        let emissions = try GaussianEmissions(states: n, means: means, covariances: covariances, covarianceType: type)
        return try HiddenMarkovModel(start: [0.5, 0.3, 0.2], transitions: [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1 + shift, 0.1, 0.8],
                                     emissions: emissions)
    }

    static func categorical(shift: Double) throws -> HiddenMarkovModel<CategoricalEmissions> {
        let emissions = try CategoricalEmissions(
            states: 3, symbols: 4, probabilities: (0..<12).map { 1 + Double(($0 * 7) % 5) + shift })
        return try HiddenMarkovModel(start: [0.2, 0.3, 0.5], transitions: [0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6 + shift],
                                     emissions: emissions)
    }

    /// Statistics of sampled sequences, as is; with the start and a transition row
    /// emptied (so the fallback model's rows are used); and with an emission row of
    /// a categorical model emptied.
    static func statisticsVariants<E: EmissionModel>(_ model: HiddenMarkovModel<E>) -> [HMMStatistics<E.Statistics>] {
        var rng = Xoshiro256StarStar(seed: 17)
        let sequences = (0..<3).map { _ in model.sample(length: 200, rng: &rng).observations }
        let stats = model.expectedCounts(sequences).statistics
        var emptied = stats
        for i in emptied.start.indices { emptied.start[i] = 0 }
        for j in 0..<model.states { emptied.transitions[model.states + j] = 0 }
        var variants = [stats, emptied]
        if var counts = stats.emission as? SymbolCounts {
            for m in 0..<counts.symbols { counts.counts[m] = 0 }
            var v = stats
            v.emission = counts as! E.Statistics
            variants.append(v)
        }
        return variants
    }

    static let optionsVariants = [
        HMMOptions(),
        HMMOptions(startConcentration: 2, transitionConcentration: 1.5,
                   emission: EmissionOptions(gaussian: MStepOptions(regCovar: 1e-3, covariancePriorScale: 0.5, covariancePriorWeight: 2),
                                             symbolConcentration: 1.7)),
    ]

    func check<E: EmissionModel>(_ model: HiddenMarkovModel<E>, spare: HiddenMarkovModel<E>) throws {
        for stats in Self.statisticsVariants(model) {
            for options in Self.optionsVariants {
                let built = try HiddenMarkovModel(statistics: stats, options: options, fallback: model)
                var inPlace = spare
                try inPlace.update(statistics: stats, options: options, fallback: model)
                #expect(inPlace == built)
                #expect(inPlace.start.map(\.bitPattern) == built.start.map(\.bitPattern))
            }
        }
    }

    @Test(arguments: CovarianceType.allCases)
    func gaussianUpdateInPlaceEqualsTheBuiltModel(_ type: CovarianceType) throws {
        try check(Self.gaussian(type, shift: 0), spare: Self.gaussian(type, shift: 0.37))
    }

    @Test func categoricalUpdateInPlaceEqualsTheBuiltModel() throws {
        try check(Self.categorical(shift: 0), spare: Self.categorical(shift: 0.37))
    }
}
