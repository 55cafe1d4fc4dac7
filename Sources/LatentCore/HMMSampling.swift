/// Index drawn from a discrete distribution by inverse CDF: the first k with
/// u < p_0 + … + p_k, the sum running from 0 left to right, or the last index
/// if rounding leaves the total below u. One definition for start, transition
/// and symbol draws, so that the Python port has one rule to copy.
@inline(__always)
func inverseCDF(_ u: Double, _ p: UnsafePointer<Double>, _ count: Int) -> Int {
    var cumulative = 0.0
    for k in 0..<count {
        cumulative += p[k]
        if u < cumulative { return k }
    }
    return count - 1
}

extension HiddenMarkovModel {
    /// Draws one sequence: z_1 ~ π, z_t ~ A[z_{t−1}, ·], x_t ~ p(x | z_t).
    ///
    /// Synthetic data for the learning-quality checks is regenerated in Python
    /// (scripts/fixtures/hmm_learning.py) to fit hmmlearn on exactly the same
    /// observations, so the draw order is part of the contract:
    ///
    ///     for t in 0..<length:
    ///         u = rng.uniform()
    ///         z_t = inverseCDF(u, t == 0 ? start : transitions row z_{t−1})
    ///         emissions.sample(state: z_t, rng: &rng, into: x_t)
    ///
    /// `inverseCDF` picks the first k with u < p_0 + … + p_k (running sum from
    /// 0, left to right; last index if none) over the normalized probabilities
    /// the model stores. The emission draws are those documented on
    /// `GaussianEmissions.sample` (D normals, Cholesky factor) and
    /// `CategoricalEmissions.sample` (one uniform, the same inverse CDF).
    /// Nothing else touches `rng`.
    ///
    /// - Returns: observations row-major (`emissions.observationWidth` doubles
    ///   each; a categorical symbol is its index as a Double) and the states.
    public func sample(length: Int, rng: inout Xoshiro256StarStar) -> (observations: [Double], states: [Int]) {
        precondition(length >= 0, "length must not be negative")
        let n = states, w = emissions.observationWidth
        var observations = [Double](repeating: 0, count: length * w)
        var path = [Int](repeating: 0, count: length)
        start.withUnsafeBufferPointer { pi in
            transitions.withUnsafeBufferPointer { a in
                observations.withUnsafeMutableBufferPointer { x in
                    var z = 0
                    for t in 0..<length {
                        let u = rng.uniform()
                        z = t == 0 ? inverseCDF(u, pi.baseAddress!, n) : inverseCDF(u, a.baseAddress! + z * n, n)
                        path[t] = z
                        emissions.sample(state: z, rng: &rng, into: x.baseAddress! + t * w)
                    }
                }
            }
        }
        return (observations, path)
    }
}
