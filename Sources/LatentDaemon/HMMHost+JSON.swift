import Foundation
import LatentCore

/// The JSON shapes of SPEC §4 for hidden Markov models.
extension HMMHost {
    /// `posterior/<model>`: {"model","seq","t","id","filtered","label","loglik","smoothed":{"t","p"}}.
    /// A batch (`xs`) gives "ts", "filtereds", "labels", "logliks" and "smootheds"
    /// (null where no smoothed value was due yet). Before the first model exists
    /// the values are null and the message says `"warmup": true`.
    @_specialize(exported: false, kind: full, where E == GaussianEmissions)
    @_specialize(exported: false, kind: full, where E == CategoricalEmissions)
    func writePosterior(_ m: ParsedMessage, key: String, payload: UnsafeRawBufferPointer) {
        let n = settings.states
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string(config.name)
        writer.key("seq"); writer.string(key)
        if let id = m.idRange { writer.key("id"); writer.raw(UnsafeRawBufferPointer(rebasing: payload[id])) }
        filtered.withUnsafeBufferPointer { f in
            smoothed.withUnsafeBufferPointer { s in
                func probabilities(_ buffer: UnsafeBufferPointer<Double>, _ i: Int) {
                    writer.doubles(UnsafeBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
                }
                func smoothedEntry(_ i: Int) {
                    let o = outcomes[i]
                    guard o.scored, o.smoothedT >= 1 else { writer.null(); return }
                    writer.beginObject()
                    writer.key("t"); writer.int(o.smoothedT)
                    writer.key("p"); probabilities(s, i)
                    writer.endObject()
                }
                if m.isBatch {
                    writer.key("ts"); writer.beginArray()
                    for i in 0..<m.count { writer.int(outcomes[i].t) }
                    writer.endArray()
                    writer.key("filtereds"); writer.beginArray()
                    for i in 0..<m.count { if outcomes[i].scored { probabilities(f, i) } else { writer.null() } }
                    writer.endArray()
                    writer.labelsAndLogLikelihoods(outcomes.prefix(m.count))
                    if settings.lag > 0 {
                        writer.key("smootheds"); writer.beginArray()
                        for i in 0..<m.count { smoothedEntry(i) }
                        writer.endArray()
                    }
                } else {
                    let o = outcomes[0]
                    writer.key("t"); writer.int(o.t)
                    writer.key("filtered"); if o.scored { probabilities(f, 0) } else { writer.null() }
                    writer.key("label"); if o.scored { writer.int(o.label) } else { writer.null() }
                    writer.key("loglik"); if o.scored { writer.double(o.logLikelihood) } else { writer.null() }
                    if settings.lag > 0 && o.scored && o.smoothedT >= 1 { writer.key("smoothed"); smoothedEntry(0) }
                }
            }
        }
        if !outcomes[m.count - 1].scored { writer.key("warmup"); writer.bool(true) }
        writer.endObject()
    }

    /// `viterbi/<model>`: {"model","seq","path","loglik","t","reason"}; `loglik` is
    /// log p(x_1..T) of the whole sequence. A sequence that ended before the first
    /// model existed has a null path and `"warmup": true`.
    func writeViterbi(_ e: HMMEnding, key: String, t: Int, reason: StaticString) {
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string(config.name)
        writer.key("seq"); writer.string(key)
        writer.key("t"); writer.int(t)
        writer.key("reason"); writer.string(String(describing: reason))
        if let path = e.path {
            writer.key("path"); writer.ints(path)
            writer.key("loglik"); writer.double(e.logLikelihood)
        } else {
            writer.key("path"); writer.null()
            writer.key("loglik"); writer.null()
            writer.key("warmup"); writer.bool(true)
        }
        writer.endObject()
    }

    /// `params/<model>`: {"model","kind","version","n","params":{"start","transitions",
    /// "means","covariances"} or {"start","transitions","emissions"}}.
    func writeParams(into w: inout JSONWriter) {
        w.beginObject()
        w.key("model"); w.string(config.name)
        w.key("kind"); w.string("hmm")
        w.key("version"); w.int(version)
        w.key("n"); w.int(learner.observations)
        w.key("params")
        if let model = learner.model {
            w.beginObject()
            w.key("emission"); w.string(config.emission.rawValue)
            w.key("start"); w.doubles(model.start)
            w.key("transitions"); MixtureHost.writeRows(model.transitions, width: model.states, into: &w)
            model.emissions.writeParams(into: &w)
            if let symbolNames { w.key("symbols"); w.beginArray(); for s in symbolNames { w.string(s) }; w.endArray() }
            w.endObject()
        } else {
            w.null()
        }
        w.endObject()
    }

    func writeStatus(into w: inout JSONWriter) {
        w.key("name"); w.string(config.name)
        w.key("kind"); w.string("hmm")
        w.key("emission"); w.string(config.emission.rawValue)
        w.key("topic"); w.string(config.topic)
        w.key("version"); w.int(version)
        w.key("n"); w.int(learner.observations)
        w.key("steps"); w.int(learner.step)
        w.key("warming_up"); w.bool(learner.model == nil)
        w.key("frozen"); w.bool(settings.frozen)
        w.key("estimator"); w.string(settings.hard ? "hard" : settings.recursive ? "recursive" : "windowed")
        w.key("rejected"); w.int(rejected)
        w.key("sequences"); w.int(table.count)
        w.key("sequences_ended"); w.int(ended)
        w.key("sequences_evicted"); w.int(evicted)
        w.key("sequences_timed_out"); w.int(timedOut)
        let sequences = table.sequenceBytes()
        w.key("sequence_bytes"); w.int(sequences.live)
        w.key("heap_bytes"); w.int(heapBytes(sequences: sequences.all))
    }

    /// Control `score`: a whole sequence (`"xs"`, or one observation `"x"`) scored
    /// without learning and without touching live sequences: filtered and smoothed
    /// posteriors, predictive log-likelihoods, the Viterbi path and log p(x_1..T).
    func score(request: [String: Any], into w: inout JSONWriter) -> String? {
        let rows: [Any]
        if let xs = request["xs"] as? [Any], !xs.isEmpty {
            rows = xs
        } else if let x = request["x"] {
            rows = [x]
        } else {
            return "score needs \"xs\" (a non-empty sequence of observations) or \"x\" (one observation)"
        }
        var data: [Double] = []
        for (i, row) in rows.enumerated() {
            if let symbolNames {
                if let name = row as? String, let index = symbolNames.firstIndex(of: name) {
                    data.append(Double(index))
                } else if let number = row as? NSNumber, !(row is String), let index = Int(exactly: number.doubleValue),
                          (0..<symbolNames.count).contains(index) {
                    data.append(Double(index))
                } else {
                    return "xs[\(i)] must be a symbol name or an index in 0..<\(symbolNames.count)"
                }
            } else {
                let d = settings.shape.observationWidth
                guard let values = MixtureHost.numbers(row, d) ?? (d == 1 ? MixtureHost.numbers([row], 1) : nil) else {
                    return "xs[\(i)] must be an array of \(d) finite numbers"
                }
                data.append(contentsOf: values)
            }
        }
        guard let r = learner.score(data) else { return "model \(config.name) is still warming up (no parameters yet)" }
        let n = settings.states, t = rows.count
        w.key("model"); w.string(config.name)
        w.key("version"); w.int(version)
        w.key("loglik"); w.double(r.logLikelihood)
        w.key("logliks"); w.doubles(r.predictive)
        w.key("filtered"); MixtureHost.writeRows(r.filtered, width: n, into: &w)
        w.key("smoothed"); MixtureHost.writeRows(r.smoothed, width: n, into: &w)
        w.key("labels"); w.beginArray()
        r.filtered.withUnsafeBufferPointer { f in for i in 0..<t { w.int(argmax(f.baseAddress! + i * n, n)) } }
        w.endArray()
        w.key("path"); w.ints(r.path)
        w.key("path_loglik"); w.double(r.pathLogProbability)
        return nil
    }
}
