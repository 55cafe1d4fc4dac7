/// Dense Cholesky helpers on row-major D×D matrices.
///
/// Densities are evaluated through the inverse of the lower Cholesky factor,
/// computed once per parameter update: the per-observation cost is then one
/// triangular matrix–vector product, and log|Σ| falls out of the diagonal.
public enum Cholesky {
    /// Factors `a = L Lᵀ` in place (lower triangle; the upper is zeroed).
    /// Returns false if `a` is not numerically positive definite.
    @discardableResult
    public static func factor(_ a: UnsafeMutablePointer<Double>, _ d: Int) -> Bool {
        for j in 0..<d {
            var s = a[j * d + j]
            for p in 0..<j { s -= a[j * d + p] * a[j * d + p] }
            guard s > 0, s.isFinite else { return false }
            let ljj = s.squareRoot()
            a[j * d + j] = ljj
            for i in (j + 1)..<d {
                var t = a[i * d + j]
                for p in 0..<j { t -= a[i * d + p] * a[j * d + p] }
                a[i * d + j] = t / ljj
            }
            for i in 0..<j { a[i * d + j] = 0 }
        }
        return true
    }

    /// Replaces a lower-triangular `l` by its inverse (also lower triangular).
    public static func invertLower(_ l: UnsafeMutablePointer<Double>, _ d: Int) {
        for j in 0..<d {
            l[j * d + j] = 1 / l[j * d + j]
            for i in (j + 1)..<d {
                var s = 0.0
                for p in j..<i { s -= l[i * d + p] * l[p * d + j] }
                l[i * d + j] = s / l[i * d + i]
            }
        }
    }

    /// Checks positive definiteness of a row-major matrix without modifying it.
    public static func isPositiveDefinite(_ m: [Double], dimensions d: Int) -> Bool {
        var copy = m
        return copy.withUnsafeMutableBufferPointer { factor($0.baseAddress!, d) }
    }
}
