import Foundation
import Testing
import LatentCore

/// HMM numerics against hmmlearn (Fixtures/hmm_reference.json, written by
/// scripts/fixtures/hmm_fixtures.py).
@Suite struct HMMReferenceTests {
    static var root: [String: Any] { try! Fixture.load("hmm_reference.json") }
    static var cases: [[String: Any]] { root["cases"] as! [[String: Any]] }

    /// Checks one case for any emission model built by `make` from a params block.
    func check<E: EmissionModel>(_ c: [String: Any], _ make: ([String: Any]) throws -> E,
                                 statistics: (E.Statistics) -> [String: [Double]]) throws {
        let p = c["params"] as! [String: Any]
        let model = try HiddenMarkovModel(start: flat(p["start"]), transitions: flat(p["transitions"]), emissions: make(p))
        let sequences = (c["sequences"] as! [Any]).map { flat($0) }
        let per = c["per_sequence"] as! [[String: Any]]
        for (s, xs) in sequences.enumerated() {
            let expected = per[s]
            let (ll, filtered, predictive) = model.filter(xs)
            #expect(abs(ll - (expected["loglik"] as! NSNumber).doubleValue) < 1e-9)
            #expect(maxAbsDifference(filtered, flat(expected["filtered"])) < 1e-9)
            #expect(maxAbsDifference(predictive, flat(expected["predictive_loglik"])) < 1e-9)
            let (path, logP) = model.viterbi(xs)
            #expect(path == flat(expected["viterbi_path"]).map { Int($0) })
            #expect(abs(logP - (expected["viterbi_loglik"] as! NSNumber).doubleValue) < 1e-9)
            let smoothed = model.expectedCounts([xs]).posteriors[0]
            #expect(maxAbsDifference(smoothed, flat(expected["posteriors"])) < 1e-9)
        }
        // One Baum–Welch iteration over all sequences: expected counts and parameters.
        let (stats, _, _) = model.expectedCounts(sequences)
        let counts = c["expected_counts"] as! [String: Any]
        #expect(maxAbsDifference(stats.start, flat(counts["start"])) < 1e-9)
        #expect(maxAbsDifference(stats.transitions, flat(counts["transitions"])) < 1e-9)
        for (key, values) in statistics(stats.emission) {
            #expect(maxAbsDifference(values, flat(counts[key])) < 1e-9, "\(key)")
        }
        let options = HMMOptions(emission: EmissionOptions(gaussian: MStepOptions(regCovar: 0)))
        let updated = try HiddenMarkovModel<E>(statistics: stats, options: options)
        let em1 = c["em1"] as! [String: Any]
        #expect(maxAbsDifference(updated.start, flat(em1["start"])) < 1e-9)
        #expect(maxAbsDifference(updated.transitions, flat(em1["transitions"])) < 1e-9)
        if let g = updated.emissions as? GaussianEmissions {
            #expect(maxAbsDifference(g.means, flat(em1["means"])) < 1e-9)
            #expect(maxAbsDifference(g.covariances, flat(em1["covariances"])) < 1e-9)
        }
        if let cat = updated.emissions as? CategoricalEmissions {
            #expect(maxAbsDifference(cat.probabilities, flat(em1["emissions"])) < 1e-9)
        }
    }

    @Test func categorical() throws {
        let c = Self.cases.first { $0["name"] as? String == "categorical" }!
        let n = c["n_states"] as! Int, m = c["n_symbols"] as! Int
        try check(c, { try CategoricalEmissions(states: n, symbols: m, probabilities: flat($0["emissions"])) },
                  statistics: { ["emission_counts": $0.counts] })
    }

    @Test(arguments: ["gaussian_diag", "gaussian_full"])
    func gaussian(_ name: String) throws {
        let c = Self.cases.first { $0["name"] as? String == name }!
        let n = c["n_states"] as! Int, d = c["n_features"] as! Int
        let type = CovarianceType(rawValue: c["covariance_type"] as! String)!
        try check(c, { try GaussianEmissions(states: n, means: flat($0["means"]), covariances: flat($0["covariances"]), covarianceType: type) },
                  statistics: { s in
                      var second = s.secondMoments
                      if type == .full {  // unpack our packed lower triangles to N×D×D
                          var full: [Double] = []
                          for j in 0..<n { for r in 0..<d { for q in 0..<d {
                              let (a, b) = r >= q ? (r, q) : (q, r)
                              full.append(s.secondMoments[j * d * (d + 1) / 2 + a * (a + 1) / 2 + b])
                          } } }
                          second = full
                      }
                      return ["gamma_sum": s.counts, "obs_sum": s.sums, "obs2_sum": second]
                  })
    }

    @Test func wikipediaExample() throws {
        let w = Self.root["wikipedia"] as! [String: Any]
        let p = w["params"] as! [String: Any]
        let model = try HiddenMarkovModel(start: flat(p["start"]), transitions: flat(p["transitions"]),
                                          emissions: CategoricalEmissions(states: 2, symbols: 3, probabilities: flat(p["emissions"])))
        let xs = flat(w["observations"])
        let (path, logP) = model.viterbi(xs)
        #expect(path == [1, 0, 0])
        #expect(abs(exp(logP) - 0.01344) < 1e-12)
        #expect(abs(exp(model.filter(xs).logLikelihood) - 0.033612) < 1e-12)
    }
}
