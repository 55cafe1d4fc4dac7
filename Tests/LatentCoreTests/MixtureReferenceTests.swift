import Testing
import LatentCore

/// The mixture numerics against scikit-learn (Tests/LatentCoreTests/Fixtures/gmm_reference.json,
/// written by scripts/fixtures/gmm_fixtures.py).
@Suite struct MixtureReferenceTests {
    static var cases: [[String: Any]] { (try! Fixture.load("gmm_reference.json"))["cases"] as! [[String: Any]] }

    static func covarianceType(_ c: [String: Any]) -> CovarianceType {
        CovarianceType(rawValue: c["covariance_type"] as! String)!
    }

    @Test(arguments: 0..<4)
    func logLikelihoodsAndResponsibilities(_ index: Int) throws {
        let c = Self.cases[index]
        let type = Self.covarianceType(c)
        let model = try GaussianMixture(fixture: c["init"] as! [String: Any], type: type)
        let x = flat(c["X"]), d = model.dimensions
        let expectedLL = flat(c["score_samples"]), expectedResp = flat(c["predict_proba"])
        var worstLL = 0.0, worstResp = 0.0
        for n in 0..<(x.count / d) {
            let (resp, ll) = model.responsibilities(Array(x[(n * d)..<((n + 1) * d)]))
            worstLL = max(worstLL, abs(ll - expectedLL[n]))
            worstResp = max(worstResp, maxAbsDifference(resp, Array(expectedResp[(n * 3)..<((n + 1) * 3)])))
        }
        #expect(worstLL < 1e-10, "\(type): log-likelihood off by \(worstLL)")
        #expect(worstResp < 1e-10, "\(type): responsibilities off by \(worstResp)")
    }

    @Test(arguments: 0..<4)
    func batchEMMatchesScikitLearn(_ index: Int) throws {
        let c = Self.cases[index]
        let type = Self.covarianceType(c)
        let initial = try GaussianMixture(fixture: c["init"] as! [String: Any], type: type)
        let x = flat(c["X"])
        for (key, iterations) in [("em1", 1), ("em10", 10)] {
            let expected = c[key] as! [String: Any]
            let fit = BatchEM.fit(x, initial: initial, options: MStepOptions(regCovar: 1e-6), maxIterations: iterations, tolerance: 0)
            #expect(fit.iterations == iterations)
            #expect(maxAbsDifference(fit.model.weights, flat(expected["weights"])) < 1e-8, "\(type) \(key) weights")
            #expect(maxAbsDifference(fit.model.means, flat(expected["means"])) < 1e-8, "\(type) \(key) means")
            #expect(maxAbsDifference(fit.model.covariances, flat(expected["covariances"])) < 1e-8, "\(type) \(key) covariances")
            let after = (expected["mean_loglik_after"] as! NSNumber).doubleValue
            #expect(abs(fit.model.meanLogLikelihood(x) - after) < 1e-8)
        }
        let trace = BatchEM.fit(x, initial: initial, options: MStepOptions(regCovar: 1e-6), maxIterations: 10, tolerance: 0)
        #expect(maxAbsDifference(trace.meanLogLikelihoods, flat(c["em_loglik_trace"])) < 1e-8)
    }
}

import Foundation
