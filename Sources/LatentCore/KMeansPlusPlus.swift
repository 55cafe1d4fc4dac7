/// k-means++ seeding (Arthur & Vassilvitskii 2007) in scikit-learn's greedy
/// form (2 + ⌊ln K⌋ candidates per step, keep the one that lowers the potential
/// most), followed by a few Lloyd iterations. EM only finds local optima, so the
/// learner's warm-up runs this several times and keeps the best fit.
public enum KMeansPlusPlus {
    /// Returns K×D centers chosen from the rows of `data`.
    public static func seed(
        _ data: [Double], dimensions d: Int, clusters k: Int, rng: inout Xoshiro256StarStar
    ) -> [Double] {
        let n = data.count / d
        precondition(n >= 1 && k >= 1)
        var centers = [Double](repeating: 0, count: k * d)
        func distance(_ a: Int, _ c: Int) -> Double {
            var s = 0.0
            for i in 0..<d { let z = data[a * d + i] - data[c * d + i]; s += z * z }
            return s
        }
        var first = Int(rng.next() % UInt64(n))
        for i in 0..<d { centers[i] = data[first * d + i] }
        var closest = (0..<n).map { distance($0, first) }
        var potential = closest.reduce(0, +)
        let trials = 2 + Int(_log(Double(k)))
        for c in 1..<max(k, 1) {
            var bestCandidate = first, bestPotential = Double.infinity, bestClosest = closest
            for _ in 0..<trials {
                let candidate = sampleProportional(closest, total: potential, rng: &rng)
                var next = closest
                var pot = 0.0
                for a in 0..<n { next[a] = min(next[a], distance(a, candidate)); pot += next[a] }
                if pot < bestPotential { bestPotential = pot; bestCandidate = candidate; bestClosest = next }
            }
            first = bestCandidate
            closest = bestClosest
            potential = bestPotential
            for i in 0..<d { centers[c * d + i] = data[bestCandidate * d + i] }
        }
        return centers
    }

    /// Lloyd iterations from `centers`; a center that loses all its points stays put.
    public static func lloyd(_ data: [Double], dimensions d: Int, centers: [Double], iterations: Int) -> (centers: [Double], labels: [Int]) {
        let n = data.count / d, k = centers.count / d
        var centers = centers
        var labels = [Int](repeating: 0, count: n)
        for _ in 0..<iterations {
            var changed = false
            for a in 0..<n {
                var best = 0, bestDistance = Double.infinity
                for c in 0..<k {
                    var s = 0.0
                    for i in 0..<d { let z = data[a * d + i] - centers[c * d + i]; s += z * z }
                    if s < bestDistance { bestDistance = s; best = c }
                }
                if labels[a] != best { labels[a] = best; changed = true }
            }
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for a in 0..<n {
                counts[labels[a]] += 1
                for i in 0..<d { sums[labels[a] * d + i] += data[a * d + i] }
            }
            for c in 0..<k where counts[c] > 0 {
                for i in 0..<d { centers[c * d + i] = sums[c * d + i] / Double(counts[c]) }
            }
            if !changed { break }
        }
        return (centers, labels)
    }

    private static func sampleProportional(_ weights: [Double], total: Double, rng: inout Xoshiro256StarStar) -> Int {
        guard total > 0 else { return Int(rng.next() % UInt64(weights.count)) }
        let target = rng.uniform() * total
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w
            if acc > target { return i }
        }
        return weights.count - 1
    }
}
