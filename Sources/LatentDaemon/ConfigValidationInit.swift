import LatentCore
/// Checks of `init:` blocks: shapes that match K/N, D and the covariance type,
/// probability vectors that are distributions, covariances that are symmetric
/// positive definite. Starting parameters that break these would make the
/// first E-step produce NaN, which SPEC §5 says must never happen; refusing the
/// file is the only honest answer.

/// Tolerance on sums of probabilities: values typed in a file with a few
/// decimals (`0.3, 0.3, 0.4`) must pass, a real mistake (`0.3, 0.3, 0.3`) not.
let probabilitySumTolerance = 1e-6

extension ModelConfig {
    func initialProblems(_ initial: InitConfig, at base: String) -> [ConfigProblem] {
        var p = ProblemList()
        // Shapes can only be checked against valid sizes; invalid sizes have
        // already been reported where they are written.
        let k = latentCount
        let d = dimensions ?? 0

        func notHere(_ present: Bool, _ key: String, _ why: String) {
            if present { p.add("\(base).\(key)", why) }
        }
        func required<T>(_ value: T?, _ key: String, _ check: (T) -> Void) {
            if let value { check(value) } else { p.add("\(base).\(key)", "required in init for \(describeKind)") }
        }

        switch kind {
        case .gmm:
            for (key, present) in [("start", initial.start != nil), ("transitions", initial.transitions != nil),
                                   ("emissions", initial.emissions != nil)] {
                notHere(present, key, "only for kind hmm")
            }
            required(initial.weights, "weights") { checkDistribution($0, count: k, "\(base).weights", &p) }
        case .hmm:
            notHere(initial.weights != nil, "weights", "only for kind gmm (an HMM has start and transitions)")
            required(initial.start, "start") { checkDistribution($0, count: k, "\(base).start", &p) }
            required(initial.transitions, "transitions") { rows in
                if checkRowCount(rows, k, "\(base).transitions", &p) {
                    for (i, row) in rows.enumerated() {
                        checkDistribution(row, count: k, "\(base).transitions[\(i)]", &p)
                    }
                }
            }
        }

        if isCategorical {
            notHere(initial.means != nil, "means", "not used with emission categorical")
            notHere(initial.covariances != nil, "covariances", "not used with emission categorical")
            let m = symbols?.count ?? 0
            required(initial.emissions, "emissions") { rows in
                guard m >= 1, checkRowCount(rows, k, "\(base).emissions", &p) else { return }
                for (i, row) in rows.enumerated() {
                    checkDistribution(row, count: m, "\(base).emissions[\(i)]", &p)
                }
            }
        } else {
            if kind == .hmm { notHere(initial.emissions != nil, "emissions", "only for emission categorical") }
            required(initial.means, "means") { rows in
                guard d >= 1, checkRowCount(rows, k, "\(base).means", &p) else { return }
                for (i, row) in rows.enumerated() {
                    checkNumbers(row, count: d, "\(base).means[\(i)]", &p)
                }
            }
            required(initial.covariances, "covariances") { _ in
                checkCovariances(initial, k: k, d: d, at: "\(base).covariances", &p)
            }
        }
        return p.problems
    }

    private var describeKind: String {
        kind == .gmm ? "kind gmm" : "emission \(emission.rawValue)"
    }

    private func checkCovariances(_ initial: InitConfig, k: Int, d: Int, at path: String, _ p: inout ProblemList) {
        guard k >= 1, d >= 1, !(kind == .hmm && covariance == .tied) else { return }
        let shape: String
        switch covariance {
        case .full: shape = "\(k) matrices of \(d)×\(d)"
        case .diag: shape = "\(k) rows of \(d) variances"
        case .spherical: shape = "\(k) variances"
        case .tied: shape = "one \(d)×\(d) matrix"
        }
        let wrongShape = "must be \(shape) (covariance \(covariance.rawValue))"
        switch initial.covariances(as: covariance) {
        case .full(let matrices)?:
            guard matrices.count == k, matrices.allSatisfy({ isSquare($0, d) }) else { return p.add(path, wrongShape) }
            for (i, matrix) in matrices.enumerated() { checkSPD(matrix, "\(path)[\(i)]", &p) }
        case .diag(let rows)?:
            guard rows.count == k, rows.allSatisfy({ $0.count == d }) else { return p.add(path, wrongShape) }
            for (i, row) in rows.enumerated() {
                for (j, v) in row.enumerated() { checkVariance(v, "\(path)[\(i)][\(j)]", &p) }
            }
        case .spherical(let values)?:
            guard values.count == k else { return p.add(path, wrongShape) }
            for (i, v) in values.enumerated() { checkVariance(v, "\(path)[\(i)]", &p) }
        case .tied(let matrix)?:
            guard isSquare(matrix, d) else { return p.add(path, wrongShape) }
            checkSPD(matrix, path, &p)
        case nil:
            p.add(path, wrongShape)
        }
    }
}

/// `rows` has `count` rows (when `count` is a valid size); returns whether the
/// rows can be checked one by one.
private func checkRowCount(_ rows: [[Double]], _ count: Int, _ path: String, _ p: inout ProblemList) -> Bool {
    guard count >= 1 else { return false }
    if rows.count != count {
        p.add(path, "must have \(count) rows (got \(rows.count))")
        return false
    }
    return true
}

private func checkNumbers(_ values: [Double], count: Int, _ path: String, _ p: inout ProblemList) {
    if values.count != count {
        p.add(path, "must have \(count) numbers (got \(values.count))")
        return
    }
    for (i, v) in values.enumerated() where !v.isFinite {
        p.add("\(path)[\(i)]", "must be a finite number")
    }
}

/// Non-negative entries summing to 1 within `probabilitySumTolerance`.
private func checkDistribution(_ values: [Double], count: Int, _ path: String, _ p: inout ProblemList) {
    guard count >= 1 else { return }
    if values.count != count {
        p.add(path, "must have \(count) entries (got \(values.count))")
        return
    }
    var ok = true
    for (i, v) in values.enumerated() where !(v >= 0 && v.isFinite) {
        p.add("\(path)[\(i)]", "must be a probability >= 0")
        ok = false
    }
    let sum = values.reduce(0, +)
    if ok && abs(sum - 1) > probabilitySumTolerance {
        p.add(path, "must sum to 1 (sum is \(sum))")
    }
}

private func checkVariance(_ v: Double, _ path: String, _ p: inout ProblemList) {
    p.require(v > 0 && v.isFinite, path, "must be a variance > 0")
}

private func isSquare(_ m: [[Double]], _ d: Int) -> Bool {
    m.count == d && m.allSatisfy { $0.count == d }
}

private func checkSPD(_ m: [[Double]], _ path: String, _ p: inout ProblemList) {
    guard m.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return p.add(path, "must contain only finite numbers") }
    guard isSymmetric(m) else { return p.add(path, "must be symmetric") }
    p.require(isPositiveDefinite(m), path, "must be positive definite")
}

/// Symmetric up to rounding of the typed decimals (relative 1e-9).
func isSymmetric(_ m: [[Double]]) -> Bool {
    for i in m.indices {
        for j in 0..<i {
            let a = m[i][j], b = m[j][i]
            if abs(a - b) > 1e-9 * max(1, abs(a), abs(b)) { return false }
        }
    }
    return true
}

/// A Cholesky factorisation succeeds (every pivot > 0) exactly when a
/// symmetric matrix is positive definite; LatentCore's is the one the models use.
func isPositiveDefinite(_ m: [[Double]]) -> Bool {
    Cholesky.isPositiveDefinite(m.flatMap { $0 }, dimensions: m.count)
}
