import Foundation
import LatentCore

/// The JSON shapes of SPEC §4 for Gaussian mixtures.
extension MixtureHost {
    /// `posterior/<model>`: one object per input message; a batch (`xs`) gives arrays.
    /// Observations buffered during the warm-up have no model yet: their entries are
    /// null and the message says `"warmup": true`.
    ///
    /// A static function on locals: through this class's stored properties every
    /// `writer` call and `outcomes[i]` read paid a dynamic exclusivity check.
    static func writePosterior(
        _ m: ParsedMessage, payload: UnsafeRawBufferPointer, model: String, observations: Int, components k: Int,
        resp r: UnsafeBufferPointer<Double>, outcomes: UnsafeBufferPointer<MixtureObservation>, into writer: inout JSONWriter
    ) {
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string(model)
        writer.key("n"); writer.int(observations)
        if let id = m.idRange { writer.key("id"); writer.raw(UnsafeRawBufferPointer(rebasing: payload[id])) }
        if m.isBatch {
            writer.key("resps"); writer.beginArray()
            for i in 0..<m.count {
                if outcomes[i].scored { writer.doubles(UnsafeBufferPointer(rebasing: r[(i * k)..<((i + 1) * k)])) } else { writer.null() }
            }
            writer.endArray()
            writer.labelsAndLogLikelihoods(outcomes.prefix(m.count))
        } else {
            let o = outcomes[0]
            writer.key("resp")
            if o.scored { writer.doubles(UnsafeBufferPointer(rebasing: r[0..<k])) } else { writer.null() }
            writer.key("label"); if o.scored { writer.int(o.label) } else { writer.null() }
            writer.key("loglik"); if o.scored { writer.double(o.logLikelihood) } else { writer.null() }
        }
        if !outcomes[m.count - 1].scored { writer.key("warmup"); writer.bool(true) }
        writer.endObject()
    }

    /// `params/<model>`: {"model","kind","version","n","params":{"weights","means","covariances"}}
    /// with covariances shaped by type (full K×D×D, diag K×D, spherical K, tied D×D).
    func writeParams(into w: inout JSONWriter) {
        w.beginObject()
        w.key("model"); w.string(config.name)
        w.key("kind"); w.string("gmm")
        w.key("version"); w.int(version)
        w.key("n"); w.int(learner.observations)
        w.key("params")
        if let model = learner.model {
            Self.writeMixture(model, into: &w)
        } else {
            w.null()
        }
        w.endObject()
    }

    static func writeMixture(_ model: GaussianMixture, into w: inout JSONWriter) {
        let k = model.components, d = model.dimensions
        w.beginObject()
        w.key("covariance"); w.string(model.covarianceType.rawValue)
        w.key("weights"); w.doubles(model.weights)
        w.key("means"); writeRows(model.means, width: d, into: &w)
        w.key("covariances")
        switch model.covarianceType {
        case .full:
            w.beginArray()
            for j in 0..<k { writeRows(Array(model.covariances[(j * d * d)..<((j + 1) * d * d)]), width: d, into: &w) }
            w.endArray()
        case .diag, .tied: writeRows(model.covariances, width: d, into: &w)
        case .spherical: w.doubles(model.covariances)
        }
        w.endObject()
    }

    static func writeRows(_ v: [Double], width: Int, into w: inout JSONWriter) {
        w.beginArray()
        for r in 0..<(v.count / width) { w.doubles(Array(v[(r * width)..<((r + 1) * width)])) }
        w.endArray()
    }

    /// Fields of this model's `status` entry (the caller opens and closes the object).
    func writeStatus(into w: inout JSONWriter) {
        w.key("name"); w.string(config.name)
        w.key("kind"); w.string("gmm")
        w.key("topic"); w.string(config.topic)
        w.key("version"); w.int(version)
        w.key("n"); w.int(learner.observations)
        w.key("steps"); w.int(learner.step)
        w.key("warming_up"); w.bool(learner.model == nil)
        w.key("frozen"); w.bool(settings.frozen)
        w.key("rejected"); w.int(rejected)
        w.key("reseeds"); w.int(learner.reseeds)
        w.key("heap_bytes"); w.int(heapBytes)
    }

    /// Control `score`: {"x":[...]} or {"xs":[[...],...]} scored without learning.
    func score(request: [String: Any], into w: inout JSONWriter) -> String? {
        let d = settings.dimensions, k = settings.components
        let rows: [[Double]]
        let batch: Bool
        if let x = request["x"] {
            guard let row = Self.numbers(x, d) else { return "x must be an array of \(d) finite numbers" }
            rows = [row]; batch = false
        } else if let xs = request["xs"] as? [Any], !xs.isEmpty {
            var out: [[Double]] = []
            for (i, x) in xs.enumerated() {
                guard let row = Self.numbers(x, d) else { return "xs[\(i)] must be an array of \(d) finite numbers" }
                out.append(row)
            }
            rows = out; batch = true
        } else {
            return "score needs \"x\" (one observation) or \"xs\" (a non-empty list)"
        }
        guard learner.model != nil else { return "model \(config.name) is still warming up (no parameters yet)" }
        var r = [Double](repeating: 0, count: k)
        var results: [(resp: [Double], ll: Double)] = []
        for row in rows {
            let ll = row.withUnsafeBufferPointer { x in
                r.withUnsafeMutableBufferPointer { learner.score(x.baseAddress!, responsibilities: $0.baseAddress!)! }
            }
            results.append((r, ll))
        }
        w.key("model"); w.string(config.name)
        w.key("version"); w.int(version)
        if batch {
            w.key("resps"); w.beginArray(); for x in results { w.doubles(x.resp) }; w.endArray()
            w.key("labels"); w.beginArray()
            for x in results { w.int(argmax(x.resp, k)) }
            w.endArray()
            w.key("logliks"); w.beginArray(); for x in results { w.double(x.ll) }; w.endArray()
        } else {
            w.key("resp"); w.doubles(results[0].resp)
            w.key("label"); w.int(argmax(results[0].resp, k))
            w.key("loglik"); w.double(results[0].ll)
        }
        return nil
    }

    /// A JSON array of exactly `d` finite numbers.
    static func numbers(_ any: Any, _ d: Int) -> [Double]? {
        guard let a = any as? [Any], a.count == d else { return nil }
        var out: [Double] = []
        for v in a {
            guard let n = v as? NSNumber, n.doubleValue.isFinite else { return nil }
            out.append(n.doubleValue)
        }
        return out
    }
}
