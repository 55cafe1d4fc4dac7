/// The full-covariance E-step and second moments over a segment of observations
/// that share one mixture (the rows of a message up to the end of the mini-batch).
///
/// Per observation, a full K=16 D=32 E-step loads each entry of L⁻¹ once per
/// multiply-add, and adding γ·xxᵀ to the statistics loads and stores each of
/// K·D(D+1)/2 sums per observation. Over a segment, an entry of L⁻¹ serves four
/// observations from registers, and each sum is loaded and stored once per
/// segment: the same arithmetic with far less memory traffic. (Benchmarks/README.md
/// compares it with OpenBLAS over the same segments.)
///
/// Each row's E-step is computed alone (a group of four repeats its last row when
/// short), so a posterior does not depend on the row's neighbours.
extension GaussianMixture {
    /// Scratch doubles `segmentResponsibilities` needs: four centred rows, or (diagonal)
    /// four rows of log joint densities.
    public var segmentScratchCount: Int { Self.segmentScratchCount(components: components, dimensions: dimensions) }
    static func segmentScratchCount(components k: Int, dimensions d: Int) -> Int { 4 * Swift.max(d, k) }

    /// Responsibilities of `rows` row-major observations into `resp` (rows × K) and
    /// log p(x) of each into `logLikelihoods`; full and diagonal covariances (the
    /// latter in DiagonalSegments.swift). Each row gets the same result whatever its
    /// neighbours: rows are taken four at a time, and the one to three left over one
    /// by one with the same operations per row.
    public func segmentResponsibilities(
        _ xs: UnsafePointer<Double>, rows: Int, into resp: UnsafeMutablePointer<Double>,
        logLikelihoods: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        if covarianceType == .diag {
            diagonalSegmentResponsibilities(xs, rows: rows, into: resp, logLikelihoods: logLikelihoods, scratch: scratch)
            return
        }
        precondition(covarianceType == .full, "segment E-step is for full and diagonal covariances")
        let k = components, d = dimensions
        means.withUnsafeBufferPointer { mu in
            logNormalizers.withUnsafeBufferPointer { ln in
                factorPanels.withUnsafeBufferPointer { panels in
                    var first = 0
                    while first + 4 <= rows {
                        let x0 = xs + first * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d
                        let z0 = scratch, z1 = scratch + d, z2 = scratch + 2 * d, z3 = scratch + 3 * d
                        for j in 0..<k {
                            let m = mu.baseAddress! + j * d
                            for i in 0..<d {
                                z0[i] = x0[i] - m[i]; z1[i] = x1[i] - m[i]
                                z2[i] = x2[i] - m[i]; z3[i] = x3[i] - m[i]
                            }
                            // y = L⁻¹z four rows of L⁻¹ at a time from the row panels (as
                            // the per-observation E-step), for four observations at once:
                            // each panel entry is loaded once for four multiply-adds.
                            var panel = panels.baseAddress! + j * panelBlockSize
                            var s0 = SIMD4<Double>.zero, s1 = s0, s2 = s0, s3 = s0
                            var r = 0
                            while 4 * r < d {
                                let count = min(4 * r + 4, d)
                                var a0 = SIMD4<Double>.zero, a1 = a0, a2 = a0, a3 = a0
                                var b0 = SIMD4<Double>.zero, b1 = b0, b2 = b0, b3 = b0
                                var p = 0
                                while p + 2 <= count {
                                    let l = panel[p], u = panel[p + 1]
                                    a0 = multiplyAdd(l, SIMD4(repeating: z0[p]), a0)
                                    a1 = multiplyAdd(l, SIMD4(repeating: z1[p]), a1)
                                    a2 = multiplyAdd(l, SIMD4(repeating: z2[p]), a2)
                                    a3 = multiplyAdd(l, SIMD4(repeating: z3[p]), a3)
                                    b0 = multiplyAdd(u, SIMD4(repeating: z0[p + 1]), b0)
                                    b1 = multiplyAdd(u, SIMD4(repeating: z1[p + 1]), b1)
                                    b2 = multiplyAdd(u, SIMD4(repeating: z2[p + 1]), b2)
                                    b3 = multiplyAdd(u, SIMD4(repeating: z3[p + 1]), b3)
                                    p += 2
                                }
                                if p < count {
                                    let l = panel[p]
                                    a0 = multiplyAdd(l, SIMD4(repeating: z0[p]), a0)
                                    a1 = multiplyAdd(l, SIMD4(repeating: z1[p]), a1)
                                    a2 = multiplyAdd(l, SIMD4(repeating: z2[p]), a2)
                                    a3 = multiplyAdd(l, SIMD4(repeating: z3[p]), a3)
                                }
                                let y0 = a0 + b0, y1 = a1 + b1, y2 = a2 + b2, y3 = a3 + b3
                                s0 = multiplyAdd(y0, y0, s0); s1 = multiplyAdd(y1, y1, s1)
                                s2 = multiplyAdd(y2, y2, s2); s3 = multiplyAdd(y3, y3, s3)
                                panel += count
                                r += 1
                            }
                            resp[first * k + j] = ln[j] - 0.5 * s0.sum()
                            resp[(first + 1) * k + j] = ln[j] - 0.5 * s1.sum()
                            resp[(first + 2) * k + j] = ln[j] - 0.5 * s2.sum()
                            resp[(first + 3) * k + j] = ln[j] - 0.5 * s3.sum()
                        }
                        for n in first..<(first + 4) {
                            logLikelihoods[n] = normalizeResponsibilities(resp + n * k, k)
                        }
                        first += 4
                    }
                    // The rest one by one, with the four-row code's operations for one row.
                    while first < rows {
                        let x0 = xs + first * d
                        for j in 0..<k {
                            let m = mu.baseAddress! + j * d
                            for i in 0..<d { scratch[i] = x0[i] - m[i] }
                            let squares = panelSquaredNorm(scratch, panels.baseAddress! + j * panelBlockSize, d)
                            resp[first * k + j] = ln[j] - 0.5 * squares
                        }
                        logLikelihoods[first] = normalizeResponsibilities(resp + first * k, k)
                        first += 1
                    }
                }
            }
        }
    }
}

extension MixtureStatistics {
    /// Scratch doubles `accumulateSegment` needs for `rows` observations: each row's
    /// packed x xᵀ.
    public static func segmentScratchCount(rows: Int, dimensions d: Int) -> Int { rows * packedCount(d) }

    /// Adds `rows` observations with weights `gamma` (rows × K) to full-covariance
    /// statistics: Σγ, Σγx and the packed Σγxxᵀ, each sum loaded and stored once
    /// for the segment.
    ///
    /// Each row's packed x xᵀ is formed once for all K components, then every packed
    /// entry p of component k becomes s ← s + γ_nk·(x xᵀ)_n,p for n in order, in a
    /// register: the operations of `accumulate` (one observation), in the same order,
    /// so the result has the same bits whatever the split of the rows into segments
    /// (messages) — a restart that splits them differently continues bit for bit —
    /// and the same bits as adding the rows one by one.
    ///
    /// Eight vectors of sums are in flight at a time (16 entries of two components, or
    /// 32 of one): one sum per entry is a chain of dependent adds, and a row of the
    /// triangle at a time (the first version) left the adder waiting on them.
    public mutating func accumulateSegment(
        _ xs: UnsafePointer<Double>, rows m: Int, gamma: UnsafePointer<Double>,
        scratch: UnsafeMutablePointer<Double>
    ) {
        if covarianceType == .diag {
            accumulateDiagonalSegment(xs, rows: m, gamma: gamma)
            return
        }
        precondition(covarianceType == .full, "segment statistics are for full and diagonal covariances")
        let k = components, d = dimensions, packed = packedCount(d)
        let products = scratch
        for n in 0..<m { packedOuterProduct(xs + n * d, d, into: products + n * packed) }
        let largest = largestMagnitude(xs, count: m * d)  // below 1e150 every product is finite
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s1 in
                secondMoments.withUnsafeMutableBufferPointer { s2 in
                    for j in 0..<k {
                        var any = false
                        for n in 0..<m where gamma[n * k + j] != 0 { any = true }
                        if !any { continue }
                        for n in 0..<m where gamma[n * k + j] != 0 { c[j] += gamma[n * k + j] }
                        addWeightedProducts(s1.baseAddress! + j * d, count: d, xs, rowStride: d, rows: m,
                                            gamma: gamma + j, gammaStride: k, fused: false)
                    }
                    // Blocks of entries whose products (16 KB) stay in L1 while every
                    // component passes over them: K passes over the whole segment's
                    // products (67 KB at D = 32) ran at the speed of L2. Within a block,
                    // two components at a time, so that each load of the products serves
                    // two multiply-adds. The pair kernel adds a zero weight's 0·(x xᵀ)
                    // instead of skipping the row, which leaves every sum's bits as they
                    // were as long as the products are finite (sums are never −0).
                    let pairable = largest < 1e150
                    let block = max(32, 2048 / max(m, 1) / 32 * 32)
                    var start = 0
                    while start < packed {
                        let count = min(block, packed - start)
                        var j = 0
                        while j < k {
                            let target = s2.baseAddress! + j * packed + start
                            let paired = pairable && j + 1 < k
                            var done = 0
                            if paired {
                                done = addWeightedProductsToPair(
                                    target, target + packed, count: count, products + start,
                                    rowStride: packed, rows: m, gamma: gamma + j, gammaStride: k)
                                addWeightedProducts(
                                    target + packed + done, count: count - done, products + start + done,
                                    rowStride: packed, rows: m, gamma: gamma + j + 1, gammaStride: k)
                            }
                            addWeightedProducts(
                                target + done, count: count - done, products + start + done,
                                rowStride: packed, rows: m, gamma: gamma + j, gammaStride: k)
                            j += paired ? 2 : 1
                        }
                        start += count
                    }
                }
            }
        }
    }
}

/// max |x| over `count` doubles, in four independent chains: one chain of dependent
/// compares cost about as much as forming the segment's products (D = 32). (SIMD
/// lanes would be shorter, but `pointwiseMax` is generic and not inlined, and the
/// masked SIMD operations allocate in a debug build.)
@inline(__always)
func largestMagnitude(_ x: UnsafePointer<Double>, count: Int) -> Double {
    var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
    var i = 0
    while i + 4 <= count {
        a0 = max(a0, abs(x[i])); a1 = max(a1, abs(x[i + 1]))
        a2 = max(a2, abs(x[i + 2])); a3 = max(a3, abs(x[i + 3]))
        i += 4
    }
    while i < count { a0 = max(a0, abs(x[i])); i += 1 }
    return max(max(a0, a1), max(a2, a3))
}

/// target[p] ← target[p] + γ_n·products[n][p] for n in 0..<rows, entry by entry in
/// row order (rows of `count` doubles, `gamma` read with `gammaStride`), skipping
/// rows whose γ is 0 as `accumulate` does, with `accumulate`'s operations: its fused
/// multiply-add (`multiplyAdd`) for the second moments, a product then an add for the
/// first moments (`fused: false`, where the rows are the observations themselves).
/// Thirty-two sums stay in registers across the rows: stored and loaded back for each
/// row (as the first moments once were) they made a chain through memory.
@inline(__always)
func addWeightedProducts(
    _ target: UnsafeMutablePointer<Double>, count: Int, _ products: UnsafePointer<Double>,
    rowStride: Int, rows m: Int, gamma: UnsafePointer<Double>, gammaStride: Int, fused: Bool = true
) {
    @inline(__always) func add(_ g: SIMD4<Double>, _ x: SIMD4<Double>, _ a: SIMD4<Double>) -> SIMD4<Double> {
        fused ? multiplyAdd(g, x, a) : a + g * x
    }
    @inline(__always) func add(_ g: Double, _ x: Double, _ a: Double) -> Double { fused ? multiplyAdd(g, x, a) : a + g * x }
    var p = 0
    while p + 32 <= count {
        var a0 = load4(target + p), a1 = load4(target + p + 4), a2 = load4(target + p + 8)
        var a3 = load4(target + p + 12), a4 = load4(target + p + 16), a5 = load4(target + p + 20)
        var a6 = load4(target + p + 24), a7 = load4(target + p + 28)
        var x = products + p, gp = gamma
        for _ in 0..<m {
            let gs = gp.pointee
            if gs != 0 {
                let g = SIMD4<Double>(repeating: gs)
                a0 = add(g, load4(x), a0); a1 = add(g, load4(x + 4), a1)
                a2 = add(g, load4(x + 8), a2); a3 = add(g, load4(x + 12), a3)
                a4 = add(g, load4(x + 16), a4); a5 = add(g, load4(x + 20), a5)
                a6 = add(g, load4(x + 24), a6); a7 = add(g, load4(x + 28), a7)
            }
            x += rowStride
            gp += gammaStride
        }
        store4(a0, target + p); store4(a1, target + p + 4); store4(a2, target + p + 8)
        store4(a3, target + p + 12); store4(a4, target + p + 16); store4(a5, target + p + 20)
        store4(a6, target + p + 24); store4(a7, target + p + 28)
        p += 32
    }
    while p + 4 <= count {
        var a = load4(target + p)
        for n in 0..<m {
            let gs = gamma[n * gammaStride]
            if gs == 0 { continue }
            a = add(SIMD4(repeating: gs), load4(products + n * rowStride + p), a)
        }
        store4(a, target + p)
        p += 4
    }
    while p < count {
        var a = target[p]
        for n in 0..<m {
            let gs = gamma[n * gammaStride]
            if gs == 0 { continue }
            a = add(gs, products[n * rowStride + p], a)
        }
        target[p] = a
        p += 1
    }
}

/// `addWeightedProducts` for two components (weights `gamma[0]` and `gamma[1]`, read
/// with `gammaStride`), sixteen entries at a time: each vector of products is loaded
/// once for both. A zero weight is added, not skipped: with finite products that leaves
/// the sums' bits as skipping would. Each entry gets the same multiply-adds in the same
/// order as alone. Returns how many leading entries it did (a multiple of 16).
@inline(__always)
func addWeightedProductsToPair(
    _ first: UnsafeMutablePointer<Double>, _ second: UnsafeMutablePointer<Double>, count: Int,
    _ products: UnsafePointer<Double>, rowStride: Int, rows m: Int, gamma: UnsafePointer<Double>, gammaStride: Int
) -> Int {
    var p = 0
    while p + 16 <= count {
        var a0 = load4(first + p), a1 = load4(first + p + 4), a2 = load4(first + p + 8), a3 = load4(first + p + 12)
        var b0 = load4(second + p), b1 = load4(second + p + 4), b2 = load4(second + p + 8), b3 = load4(second + p + 12)
        var x = products + p, gp = gamma
        for _ in 0..<m {
            let g = SIMD4<Double>(repeating: gp[0]), h = SIMD4<Double>(repeating: gp[1])
            let x0 = load4(x), x1 = load4(x + 4), x2 = load4(x + 8), x3 = load4(x + 12)
            a0 = multiplyAdd(g, x0, a0); a1 = multiplyAdd(g, x1, a1)
            a2 = multiplyAdd(g, x2, a2); a3 = multiplyAdd(g, x3, a3)
            b0 = multiplyAdd(h, x0, b0); b1 = multiplyAdd(h, x1, b1)
            b2 = multiplyAdd(h, x2, b2); b3 = multiplyAdd(h, x3, b3)
            x += rowStride
            gp += gammaStride
        }
        store4(a0, first + p); store4(a1, first + p + 4); store4(a2, first + p + 8); store4(a3, first + p + 12)
        store4(b0, second + p); store4(b1, second + p + 4); store4(b2, second + p + 8); store4(b3, second + p + 12)
        p += 16
    }
    return p
}

/// ‖L⁻¹z‖² for one observation from a component's row panels of L⁻¹ (see
/// `GaussianMixture.factorPanels`): four rows of L⁻¹ per SIMD multiply-add, even and
/// odd columns in two sums. The per-observation E-step (full and tied) and the
/// segment E-step's left-over rows use it; the four-row segment code does the same
/// operations per row, so every path gives a row the same bits.
@inline(__always)
func panelSquaredNorm(_ z: UnsafePointer<Double>, _ panels: UnsafePointer<SIMD4<Double>>, _ d: Int) -> Double {
    var panel = panels
    var squares = SIMD4<Double>.zero
    var r = 0
    while 4 * r < d {
        let count = min(4 * r + 4, d)
        var a = SIMD4<Double>.zero, b = SIMD4<Double>.zero
        var p = 0
        while p + 2 <= count {
            a = multiplyAdd(panel[p], SIMD4(repeating: z[p]), a)
            b = multiplyAdd(panel[p + 1], SIMD4(repeating: z[p + 1]), b)
            p += 2
        }
        if p < count { a = multiplyAdd(panel[p], SIMD4(repeating: z[p]), a) }
        let y = a + b
        squares = multiplyAdd(y, y, squares)
        panel += count
        r += 1
    }
    return squares.sum()
}
