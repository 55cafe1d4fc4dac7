import Foundation
import LatentCore

/// Loads a committed JSON fixture (written by scripts/fixtures/*.py).
enum Fixture {
    static func load(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// Flattens nested JSON number arrays row-major.
func flat(_ any: Any?) -> [Double] {
    if let n = any as? NSNumber { return [n.doubleValue] }
    if let a = any as? [Any] { return a.flatMap { flat($0) } }
    return []
}

func bits(_ s: Any?) -> Double { Double(bitPattern: UInt64(s as! String, radix: 16)!) }

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The synthetic mixture stream of scripts/fixtures/stream_reference.py,
/// regenerated bit for bit from the same xoshiro256** draws.
struct MixtureStream {
    var rng: Xoshiro256StarStar
    let cumulative: [Double]
    let means: [[Double]]
    let chol: [[[Double]]]

    init(seed: UInt64, parameters p: [String: Any]) {
        rng = Xoshiro256StarStar(seed: seed)
        cumulative = flat(p["cumulative_weights"])
        means = (p["means"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        chol = (p["chol"] as! [[[NSNumber]]]).map { $0.map { $0.map(\.doubleValue) } }
    }

    mutating func next() -> [Double] {
        let u = rng.uniform()
        let k = cumulative.firstIndex(where: { u < $0 }) ?? cumulative.count - 1
        let d = means[k].count
        let z = (0..<d).map { _ in rng.normal() }
        return (0..<d).map { i in
            var s = chol[k][i][0] * z[0]
            if i > 0 { for j in 1...i { s += chol[k][i][j] * z[j] } }
            return means[k][i] + s
        }
    }

    mutating func take(_ n: Int) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(n * means[0].count)
        for _ in 0..<n { out.append(contentsOf: next()) }
        return out
    }
}

extension GaussianMixture {
    /// Builds a mixture from a fixture's {"weights","means","covariances"} block.
    init(fixture p: [String: Any], type: CovarianceType) throws {
        try self.init(weights: flat(p["weights"]), means: flat(p["means"]), covariances: flat(p["covariances"]), covarianceType: type)
    }
}
