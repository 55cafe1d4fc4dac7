import LatentCore
import LatentDaemon

/// Pre-encoded observation messages for `latentd throughput`: diag K=8 D=8
/// mixture samples in the three hot framings, so the producer only copies bytes.
struct LoadMessages {
    enum Framing: String, CaseIterable {
        case json1, json100, f64le100

        var observationsPerMessage: Int { self == .json1 ? 1 : 100 }
        /// The daemon model (and topic) that consumes this framing.
        var model: String { self == .f64le100 ? "b" : "j" }
    }

    static let dimensions = 8
    static let components = 8

    /// `pool` observations, row-major; means spread over [-5, 5]^D, unit variance.
    let observations: [Double]
    let pool: Int

    init(pool: Int = 4096, seed: UInt64 = 42) {
        var rng = Xoshiro256StarStar(seed: seed)
        let d = Self.dimensions
        let means = (0..<(Self.components * d)).map { _ in 10 * rng.uniform() - 5 }
        var xs: [Double] = []
        xs.reserveCapacity(pool * d)
        for _ in 0..<pool {
            let k = Int(rng.uniform() * Double(Self.components)) % Self.components
            for j in 0..<d { xs.append(means[k * d + j] + rng.normal()) }
        }
        observations = xs
        self.pool = pool
    }

    func row(_ i: Int) -> ArraySlice<Double> {
        let d = Self.dimensions, r = i % pool
        return observations[(r * d)..<(r * d + d)]
    }

    static func jsonArray(_ row: ArraySlice<Double>) -> String {
        "[" + row.map { "\($0)" }.joined(separator: ",") + "]"
    }

    /// Distinct payloads of one framing, cycled by the producer.
    func payloads(_ framing: Framing) -> [[UInt8]] {
        switch framing {
        case .json1:
            return (0..<pool).map { Array(#"{"x":\#(Self.jsonArray(row($0)))}"#.utf8) }
        case .json100:
            return (0..<(pool / 100)).map { m in
                let rows = (0..<100).map { Self.jsonArray(row(m * 100 + $0)) }
                return Array(#"{"xs":[\#(rows.joined(separator: ","))]}"#.utf8)
            }
        case .f64le100:
            return (0..<(pool / 100)).map { m in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(100 * Self.dimensions * 8)
                for i in 0..<100 {
                    for v in row(m * 100 + i) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
                }
                return bytes
            }
        }
    }

    /// A posterior of model p as the daemon writes one (K = 8, shortest round-trip
    /// doubles, about 230 bytes): what the posteriors-on reference publishes in place of
    /// each input message.
    static var posteriorBody: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("model"); w.string("p")
        w.key("n"); w.int(123_456)
        w.key("resp")
        w.doubles([0.9871234567890123, 0.012345678901234567, 4.5678901234567e-4, 2.3456789012345e-6,
                   7.890123456789e-9, 1.2345678901234e-11, 3.4567890123456e-15, 5.6789012345678e-19])
        w.key("label"); w.int(0)
        w.key("loglik"); w.double(-13.456789012345678)
        w.endObject()
        return w.bytes
    }

    /// A posterior of model p with an id (as `posteriorBody`, with `"id":` after
    /// `"n"` where the daemon writes it), split around the id's digits: what the
    /// latency reference (`latentd relay`) publishes for each message.
    static var posteriorAroundID: (head: [UInt8], tail: [UInt8]) {
        let body = posteriorBody, n = Array(#""n":123456"#.utf8)
        let at = (0...(body.count - n.count)).first { Array(body[$0..<($0 + n.count)]) == n }! + n.count
        return (Array(body[..<at]) + Array(#","id":"#.utf8), Array(body[at...]))
    }

    /// `"id":`, once: built per message it was an allocation in the relay's loop and the collector's.
    static let idKey: [UInt8] = Array(#""id":"#.utf8)

    /// Where the id's digits are in a latency payload, `{"x":[...],"id":-?DIGITS}`;
    /// nil when the payload does not end that way.
    static func idDigits(in payload: UnsafeRawBufferPointer) -> Range<Int>? {
        let key = idKey
        guard let last = payload.indices.last, payload[last] == UInt8(ascii: "}") else { return nil }
        var start = last
        while start > 0, payload[start - 1] >= 48 && payload[start - 1] <= 57 { start -= 1 }
        if start > 0, payload[start - 1] == UInt8(ascii: "-") { start -= 1 }
        guard start < last, start >= key.count,
              key.indices.allSatisfy({ payload[start - key.count + $0] == key[$0] }) else { return nil }
        return start..<last
    }

    /// `{"x":[...],"id":` for the latency probe; the producer appends the id and `}`.
    func idPrefixes(count: Int = 256) -> [[UInt8]] {
        (0..<count).map { Array(#"{"x":\#(Self.jsonArray(row($0))),"id":"#.utf8) }
    }
}
