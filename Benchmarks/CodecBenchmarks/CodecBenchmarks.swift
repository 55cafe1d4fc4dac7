// The daemon's message codecs: JSON and binary decoding of the hot input shapes,
// posterior encoding (JSONWriter, in the shapes MixtureHost/HMMHost write), and
// checkpoint encode/decode of the learners.
import Benchmark
import BenchmarkFixtures
import LatentCore
import LatentDaemon

/// Values as a producer would print them: shortest round-trip doubles.
func values(_ count: Int, seed: UInt64 = 3) -> [Double] {
    var rng = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in 2 * rng.normal() }
}

func jsonArray(_ v: ArraySlice<Double>) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }

func jsonRows(_ v: [Double], width d: Int) -> String {
    "[" + stride(from: 0, to: v.count, by: d).map { jsonArray(v[$0..<($0 + d)]) }.joined(separator: ",") + "]"
}

/// A payload and the parser's reused output buffer.
final class DecodeState {
    let payload: [UInt8]
    var values: [Double] = []

    init(_ payload: [UInt8], capacity: Int) {
        self.payload = payload
        values.reserveCapacity(capacity)
    }
}

/// Which of several payloads a benchmark parses next, round-robin across iterations.
final class DistinctCursor {
    let count: Int
    var position = 0

    init(count: Int) { self.count = count }

    func advance() -> Int {
        defer { position = (position + 1) % count }
        return position
    }
}

/// The posterior a GMM host writes for one observation (or a 100-observation batch).
final class PosteriorState {
    var writer = JSONWriter()
    let resp: [Double]
    let k: Int

    init(components k: Int, batch: Int) {
        self.k = k
        var r = values(k * batch).map { abs($0) }
        for i in 0..<batch {
            let total = r[(i * k)..<((i + 1) * k)].reduce(0, +)
            for j in 0..<k { r[i * k + j] /= total }
        }
        resp = r
    }

    func writeSingle(n: Int) -> Int {
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string("gmm")
        writer.key("n"); writer.int(n)
        resp.withUnsafeBufferPointer { r in
            writer.key("resp"); writer.doubles(UnsafeBufferPointer(rebasing: r[0..<k]))
        }
        writer.key("label"); writer.int(3)
        writer.key("loglik"); writer.double(-11.702345617289431)
        writer.endObject()
        return writer.byteCount
    }

    func writeBatch(n: Int, count: Int) -> Int {
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string("gmm")
        writer.key("n"); writer.int(n)
        resp.withUnsafeBufferPointer { r in
            writer.key("resps"); writer.beginArray()
            for i in 0..<count { writer.doubles(UnsafeBufferPointer(rebasing: r[(i * k)..<((i + 1) * k)])) }
            writer.endArray()
        }
        writer.key("labels"); writer.beginArray()
        for i in 0..<count { writer.int(i % k) }
        writer.endArray()
        writer.key("logliks"); writer.beginArray()
        for i in 0..<count { writer.double(-11.702345617289431 + Double(i)) }
        writer.endArray()
        writer.endObject()
        return writer.byteCount
    }

    /// HMMHost's single-observation posterior: filtered, label, loglik, smoothed.
    func writeHMM(t: Int) -> Int {
        writer.reset()
        writer.beginObject()
        writer.key("model"); writer.string("hmm")
        writer.key("seq"); writer.string("m7")
        writer.key("t"); writer.int(t)
        resp.withUnsafeBufferPointer { r in
            writer.key("filtered"); writer.doubles(UnsafeBufferPointer(rebasing: r[0..<k]))
            writer.key("label"); writer.int(2)
            writer.key("loglik"); writer.double(-9.25)
            writer.key("smoothed"); writer.beginObject()
            writer.key("t"); writer.int(t - 4)
            writer.key("p"); writer.doubles(UnsafeBufferPointer(rebasing: r[0..<k]))
            writer.endObject()
        }
        writer.endObject()
        return writer.byteCount
    }
}

let benchmarks: @Sendable () -> Void = {
    let d = 8, batch = 100, perMessage = Bench.observationsPerIteration / batch

    // JSON decoding: {"x":[8]} and HMM {"seq":"m7","x":[8]}, one observation per
    // message (1000 per iteration); {"xs":[100×8]}, 10 messages per iteration.
    let gmmParser = ObservationParser(dimensions: d, maxObservationsPerMessage: 1000)
    let hmmParser = ObservationParser(dimensions: d, maxObservationsPerMessage: 1000, acceptsSequenceKeys: true)
    let single = DecodeState(Array("{\"x\":\(jsonArray(values(d)[...]))}".utf8), capacity: 1000 * d)
    let sequenced = DecodeState(Array("{\"seq\":\"m7\",\"x\":\(jsonArray(values(d)[...]))}".utf8), capacity: 1000 * d)
    let batched = DecodeState(Array("{\"xs\":\(jsonRows(values(batch * d), width: d))}".utf8), capacity: 1000 * d)

    Benchmark("JSON decode {\"x\":[8]} per observation", configuration: Bench.perObservation()) { benchmark in
        single.payload.withUnsafeBytes { p in
            for _ in benchmark.scaledIterations { blackHole(try! gmmParser.parse(p, into: &single.values)) }
        }
    }
    Benchmark("JSON decode HMM {\"seq\",\"x\":[8]} per observation", configuration: Bench.perObservation()) { benchmark in
        sequenced.payload.withUnsafeBytes { p in
            for _ in benchmark.scaledIterations { blackHole(try! hmmParser.parse(p, into: &sequenced.values)) }
        }
    }
    Benchmark("JSON decode {\"xs\":[100x8]} per observation", configuration: Bench.perObservation()) { benchmark in
        precondition(benchmark.scaledIterations.count == perMessage * batch)
        batched.payload.withUnsafeBytes { p in
            for _ in 0..<perMessage { blackHole(try! gmmParser.parse(p, into: &batched.values)) }
        }
    }
    // The same shape over 40 distinct payloads, as a stream delivers them: one payload
    // parsed over and over lets the branch predictor learn its digits, which made
    // parsing look half as cheap again as it was in the daemon.
    let distinct = (0..<40).map { m in
        DecodeState(Array("{\"xs\":\(jsonRows(values(batch * d, seed: 100 + UInt64(m)), width: d))}".utf8),
                    capacity: 1000 * d)
    }
    let next = DistinctCursor(count: distinct.count)
    Benchmark("JSON decode {\"xs\":[100x8]} 40 distinct per observation", configuration: Bench.perObservation()) { benchmark in
        precondition(benchmark.scaledIterations.count == perMessage * batch)
        for _ in 0..<perMessage {
            let state = distinct[next.advance()]
            state.payload.withUnsafeBytes { p in blackHole(try! gmmParser.parse(p, into: &state.values)) }
        }
    }

    // Binary f64le, 100 observations × 8 per message, 10 messages per iteration.
    let decoder = BinaryObservationDecoder(format: .f64le, dimensions: d, maxObservationsPerMessage: 1000)
    let binary = DecodeState(values(batch * d).flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } },
                             capacity: 1000 * d)
    Benchmark("binary decode f64le 100x8 per observation", configuration: Bench.perObservation()) { benchmark in
        precondition(benchmark.scaledIterations.count == perMessage * batch)
        binary.payload.withUnsafeBytes { p in
            for _ in 0..<perMessage { blackHole(try! decoder.decode(p, into: &binary.values)) }
        }
    }

    // Posterior encoding into a reused JSONWriter.
    let gmmSingle = PosteriorState(components: 8, batch: 1)
    Benchmark("posterior encode GMM K=8 per observation", configuration: Bench.perObservation()) { benchmark in
        for i in benchmark.scaledIterations { blackHole(gmmSingle.writeSingle(n: 1_000_000 + i)) }
    }
    let gmmBatch = PosteriorState(components: 8, batch: batch)
    Benchmark("posterior encode GMM K=8 batch of 100 per observation", configuration: Bench.perObservation()) { benchmark in
        precondition(benchmark.scaledIterations.count == perMessage * batch)
        for i in 0..<perMessage { blackHole(gmmBatch.writeBatch(n: 1_000_000 + i, count: batch)) }
    }
    let hmmPosterior = PosteriorState(components: 8, batch: 1)
    Benchmark("posterior encode HMM N=8 lag>0 per observation", configuration: Bench.perObservation()) { benchmark in
        for i in benchmark.scaledIterations { blackHole(hmmPosterior.writeHMM(t: 1000 + i)) }
    }

    // Checkpoints: the learner's state to bytes and back (one per call).
    for (type, k, dim) in [(CovarianceType.diag, 16, 8), (.full, 16, 32)] {
        let model = MixtureFixture.model(type, components: k, dimensions: dim)
        let learner = MixtureFixture.learner(model, data: MixtureFixture.data(components: k, dimensions: dim))
        let bytes = learner.encoded()
        Benchmark("checkpoint encode GMM \(type) K=\(k) D=\(dim) (\(bytes.count) B)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations {
                var w = ByteWriter(reservingCapacity: bytes.count)
                learner.encode(into: &w)
                blackHole(w)
            }
        }
        Benchmark("checkpoint decode GMM \(type) K=\(k) D=\(dim) (\(bytes.count) B)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations {
                var r = ByteReader(bytes)
                blackHole(try! MixtureLearner(settings: learner.settings, decoding: &r))
            }
        }
    }
    for n in [8, 32] {
        let model = HMMFixture.model(states: n)
        let learner = HMMFixture.learner(model, data: HMMFixture.sequence(model))
        var probe = ByteWriter()
        learner.encode(into: &probe)
        let bytes = probe.bytes
        Benchmark("checkpoint encode HMM N=\(n) D=8 (\(bytes.count) B)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations {
                var w = ByteWriter(reservingCapacity: bytes.count)
                learner.encode(into: &w)
                blackHole(w)
            }
        }
        Benchmark("checkpoint decode HMM N=\(n) D=8 (\(bytes.count) B)", configuration: Bench.perCall()) { benchmark in
            for _ in benchmark.scaledIterations {
                var r = ByteReader(bytes)
                blackHole(try! HMMLearner<GaussianEmissions>(settings: learner.settings, decoding: &r))
            }
        }
    }
}
