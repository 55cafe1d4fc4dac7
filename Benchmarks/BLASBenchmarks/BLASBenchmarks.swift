// Full-covariance E-step + second moments: latentd's hand-written kernels (per
// observation, and over mini-batch segments of 16 observations as the learner runs batch
// messages) against OpenBLAS matrix products over the same segments. Issue 4 asks which
// wins per size; README.md has the answer for this machine. OpenBLAS runs single-threaded;
// the kernel it dispatches to is named in the benchmark (`OPENBLAS_CORETYPE=Cooperlake`
// overrides its CPU detection).
import Benchmark
import BenchmarkFixtures
import COpenBLAS
import Foundation
import LatentCore

/// One segment of B rows: Y = X·W with W = [L₁⁻ᵀ … L_K⁻ᵀ] (D × K·D), so row n of block k
/// is L_k⁻¹x_n; the Mahalanobis term is ‖L_k⁻¹x_n − L_k⁻¹μ_k‖² (scikit-learn's form).
/// The second moments: S = Xᵀ·G with G = [γ_1∘X … γ_K∘X] (one dgemm, full D×D blocks),
/// or one dsyrk per component on √γ_k∘X (lower triangles only).
final class BLASState {
    let k: Int, d: Int, rows = 16
    let data: [Double]
    var w: [Double], projectedMeans: [Double], logNormalizers: [Double]
    var y: [Double], g: [Double], resp: [Double], moments: [Double]

    init(k: Int, d: Int) {
        self.k = k
        self.d = d
        let model = MixtureFixture.model(.full, components: k, dimensions: d)
        data = MixtureFixture.data(components: k, dimensions: d)
        w = [Double](repeating: 0, count: d * k * d)
        projectedMeans = [Double](repeating: 0, count: k * d)
        logNormalizers = [Double](repeating: 0, count: k)
        for j in 0..<k {
            var l = model.covarianceMatrix(j)
            l.withUnsafeMutableBufferPointer { m in
                Cholesky.factor(m.baseAddress!, d)
                Cholesky.invertLower(m.baseAddress!, d)
            }
            var logDet = 0.0
            for r in 0..<d {
                logDet += log(l[r * d + r])
                var mu = 0.0
                for p in 0..<d {
                    w[p * k * d + j * d + r] = l[r * d + p]
                    mu += l[r * d + p] * model.means[j * d + p]
                }
                projectedMeans[j * d + r] = mu
            }
            logNormalizers[j] = log(model.weights[j]) - 0.5 * Double(d) * log(2 * Double.pi) + logDet
        }
        y = [Double](repeating: 0, count: rows * k * d)
        g = [Double](repeating: 0, count: rows * k * d)
        resp = [Double](repeating: 0, count: rows * k)
        moments = [Double](repeating: 0, count: k * d * d)
    }

    /// E-step and second moments of `rows`-row segments; `syrk` picks the moment kernel.
    func run(_ range: Range<Int>, syrk: Bool) -> Double {
        let k = k, d = d, b = rows, kd = k * d
        var checksum = 0.0
        data.withUnsafeBufferPointer { xs in
        w.withUnsafeBufferPointer { w in
        projectedMeans.withUnsafeBufferPointer { pm in
        y.withUnsafeMutableBufferPointer { y in
        g.withUnsafeMutableBufferPointer { g in
        resp.withUnsafeMutableBufferPointer { r in
        moments.withUnsafeMutableBufferPointer { s in
            var start = range.lowerBound
            while start + b <= range.upperBound {
                let x = xs.baseAddress! + start * d
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(kd), Int32(d),
                            1, x, Int32(d), w.baseAddress!, Int32(kd), 0, y.baseAddress!, Int32(kd))
                for n in 0..<b {
                    var best = -Double.infinity
                    for j in 0..<k {
                        var q = 0.0
                        for t in 0..<d { let z = y[n * kd + j * d + t] - pm[j * d + t]; q += z * z }
                        r[n * k + j] = logNormalizers[j] - 0.5 * q
                        best = max(best, r[n * k + j])
                    }
                    var total = 0.0
                    for j in 0..<k { let e = exp(r[n * k + j] - best); r[n * k + j] = e; total += e }
                    for j in 0..<k { r[n * k + j] /= total }
                    checksum += best + log(total)
                    for j in 0..<k {
                        let gamma = syrk ? r[n * k + j].squareRoot() : r[n * k + j]
                        // dgemm: G is B × K·D; dsyrk: component j's rows are contiguous (B × D).
                        let base = syrk ? j * b * d + n * d : n * kd + j * d
                        for t in 0..<d { g[base + t] = gamma * x[n * d + t] }
                    }
                }
                if syrk {
                    for j in 0..<k {
                        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, Int32(d), Int32(b), 1,
                                    g.baseAddress! + j * b * d, Int32(d), 1, s.baseAddress! + j * d * d, Int32(d))
                    }
                } else {
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(kd), Int32(b),
                                1, x, Int32(d), g.baseAddress!, Int32(kd), 1, s.baseAddress!, Int32(kd))
                }
                start += b
            }
        } } } } } } }
        return checksum + moments[0]
    }
}

/// latentd's own segment kernels (FullCovarianceSegments.swift) on the same 16-row
/// segments: what the learner runs on the rows of a batch message.
final class SegmentState {
    let model: GaussianMixture
    let data: [Double]
    var stats: MixtureStatistics
    var resp: [Double], logLikelihoods: [Double], eScratch: [Double], sScratch: [Double]

    init(k: Int, d: Int) {
        model = MixtureFixture.model(.full, components: k, dimensions: d)
        data = MixtureFixture.data(components: k, dimensions: d)
        stats = MixtureStatistics(components: k, dimensions: d, covarianceType: .full)
        resp = [Double](repeating: 0, count: 16 * k)
        logLikelihoods = [Double](repeating: 0, count: 16)
        eScratch = [Double](repeating: 0, count: model.segmentScratchCount)
        sScratch = [Double](repeating: 0, count: MixtureStatistics.segmentScratchCount(rows: 16, dimensions: d))
    }

    func run(_ range: Range<Int>) -> Double {
        let d = model.dimensions
        var checksum = 0.0
        stats.reset()
        data.withUnsafeBufferPointer { xs in
        resp.withUnsafeMutableBufferPointer { r in
        logLikelihoods.withUnsafeMutableBufferPointer { ll in
        eScratch.withUnsafeMutableBufferPointer { es in
        sScratch.withUnsafeMutableBufferPointer { ss in
            var start = range.lowerBound
            while start + 16 <= range.upperBound {
                let x = xs.baseAddress! + start * d
                model.segmentResponsibilities(x, rows: 16, into: r.baseAddress!, logLikelihoods: ll.baseAddress!,
                                              scratch: es.baseAddress!)
                stats.accumulateSegment(x, rows: 16, gamma: r.baseAddress!, scratch: ss.baseAddress!)
                checksum += ll[0]
                start += 16
            }
        } } } } }
        return checksum + stats.total
    }
}

let benchmarks: @Sendable () -> Void = {
    openblas_set_num_threads(1)
    let core = String(cString: openblas_get_corename())
    for (k, d) in [(4, 8), (8, 8), (16, 8), (8, 32), (16, 32)] {
        let hand = EStepState(.full, k: k, d: d)
        Benchmark("full K=\(k) D=\(d) hand per observation", configuration: Bench.perObservation()) { benchmark in
            blackHole(hand.run(benchmark.scaledIterations))
        }
        let segments = SegmentState(k: k, d: d)
        Benchmark("full K=\(k) D=\(d) hand segments of 16", configuration: Bench.perObservation()) { benchmark in
            blackHole(segments.run(benchmark.scaledIterations))
        }
        let blas = BLASState(k: k, d: d)
        Benchmark("full K=\(k) D=\(d) OpenBLAS \(core) dgemm+dgemm", configuration: Bench.perObservation()) { benchmark in
            blackHole(blas.run(benchmark.scaledIterations, syrk: false))
        }
        Benchmark("full K=\(k) D=\(d) OpenBLAS \(core) dgemm+dsyrk", configuration: Bench.perObservation()) { benchmark in
            blackHole(blas.run(benchmark.scaledIterations, syrk: true))
        }
    }
}
