/// How component covariances are parameterised (scikit-learn's four choices).
public enum CovarianceType: String, Sendable, CaseIterable, Codable {
    /// Each component has its own D×D matrix.
    case full
    /// Each component has its own diagonal (D variances).
    case diag
    /// Each component has one variance shared by all dimensions.
    case spherical
    /// All components share one D×D matrix.
    case tied

    /// Number of doubles in the covariance parameter array for K components in D dimensions.
    public func parameterCount(components k: Int, dimensions d: Int) -> Int {
        switch self {
        case .full: return k * d * d
        case .diag: return k * d
        case .spherical: return k
        case .tied: return d * d
        }
    }

    /// Number of doubles in the second-moment statistic (lower triangles packed).
    public func secondMomentCount(components k: Int, dimensions d: Int) -> Int {
        switch self {
        case .full: return k * packedCount(d)
        case .diag: return k * d
        case .spherical: return k
        case .tied: return packedCount(d)
        }
    }
}

/// Length of a packed lower triangle of a d×d matrix.
@inline(__always) func packedCount(_ d: Int) -> Int { d * (d + 1) / 2 }
