/// The E-step of a diagonal-covariance mixture over a segment of rows (the rows of a
/// message up to the end of the mini-batch), as the learner runs batch messages.
///
/// Four rows at a time: each component block's means and precisions are loaded once
/// for four rows, and the four rows are normalized together in SIMD lanes
/// (`normalizeResponsibilities(rows:…)`). Every row gets the operations of the
/// one-observation E-step (`fillLogJoint`, `normalizeResponsibilities`) in the same
/// order, so the same bits whatever the split of the rows into messages.
extension GaussianMixture {
    func diagonalSegmentResponsibilities(
        _ xs: UnsafePointer<Double>, rows: Int, into resp: UnsafeMutablePointer<Double>,
        logLikelihoods: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        let k = components, d = dimensions
        if k % 4 == 0 {
            normalizedDiagonalSegment(xs, rows: rows, into: resp, logLikelihoods: logLikelihoods, scratch: scratch)
            return
        }
        logNormalizers.withUnsafeBufferPointer { ln in
            diagonalBlocks.withUnsafeBufferPointer { blocks in
                let ln = ln.baseAddress!
                var first = 0
                while first + 4 <= rows {
                    let x0 = xs + first * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d
                    let o0 = resp + first * k, o1 = o0 + k, o2 = o1 + k, o3 = o2 + k
                    var b = blocks.baseAddress!
                    var j = 0
                    while j < k {
                        let (h0, h1, h2, h3) = blockSquares(x0, x1, x2, x3, d, &b)
                        if j + 4 <= k {  // whole vectors: the same c − ½h per lane, stored at once
                            let c = load4(ln + j)
                            store4(c - 0.5 * h0, o0 + j); store4(c - 0.5 * h1, o1 + j)
                            store4(c - 0.5 * h2, o2 + j); store4(c - 0.5 * h3, o3 + j)
                        } else {
                            for lane in 0..<(k - j) {
                                let c = ln[j + lane]
                                o0[j + lane] = c - 0.5 * h0[lane]; o1[j + lane] = c - 0.5 * h1[lane]
                                o2[j + lane] = c - 0.5 * h2[lane]; o3[j + lane] = c - 0.5 * h3[lane]
                            }
                        }
                        j += 4
                    }
                    first += 4
                }
                while first < rows {
                    fillLogJoint(xs + first * d, into: resp + first * k, scratch: scratch)
                    first += 1
                }
            }
        }
        normalizeResponsibilities(rows: rows, resp, k, logLikelihoods: logLikelihoods)
    }
}

extension GaussianMixture {
    /// `diagonalSegmentResponsibilities` for K a multiple of 4, with the normalization
    /// folded in. The log joints of four rows come out of the Mahalanobis loop as one
    /// vector per row (lanes: four components), while `normalizeResponsibilities(rows:…)`
    /// needs one vector per component (lanes: four rows) and gathered them one double
    /// at a time, twice, then scattered the results back (at K=8 D=8 the E-step took
    /// 381 instructions per row that way, 343 this way; callgrind). Here each block of
    /// four is transposed in registers into `scratch` (4·K doubles),
    /// normalized there, and transposed back into `resp`. Every row gets the same
    /// operations in the same order as in the two-pass version, so the same bits.
    func normalizedDiagonalSegment(
        _ xs: UnsafePointer<Double>, rows: Int, into resp: UnsafeMutablePointer<Double>,
        logLikelihoods: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        let k = components, d = dimensions
        var first = 0
        logNormalizers.withUnsafeBufferPointer { ln in
            diagonalBlocks.withUnsafeBufferPointer { blocks in
                let ln = ln.baseAddress!
                let columns = scratch  // column j (component j of the four rows) at 4·j
                @inline(__always) func column(_ j: Int) -> SIMD4<Double> { load4(columns + 4 * j) }
                @inline(__always) func setColumn(_ j: Int, _ v: SIMD4<Double>) { store4(v, columns + 4 * j) }
                while first + 4 <= rows {
                    let x0 = xs + first * d, x1 = x0 + d, x2 = x1 + d, x3 = x2 + d
                    let o0 = resp + first * k, o1 = o0 + k, o2 = o1 + k, o3 = o2 + k
                    var b = blocks.baseAddress!
                    var m = SIMD4<Double>(repeating: -.infinity)
                    var j = 0
                    while j < k {
                        let (h0, h1, h2, h3) = blockSquares(x0, x1, x2, x3, d, &b)
                        let c = load4(ln + j)
                        let (t0, t1, t2, t3) = transposed(c - 0.5 * h0, c - 0.5 * h1, c - 0.5 * h2, c - 0.5 * h3)
                        // The running maximum in component order, as before.
                        m = m.replacing(with: t0, where: t0 .> m); m = m.replacing(with: t1, where: t1 .> m)
                        m = m.replacing(with: t2, where: t2 .> m); m = m.replacing(with: t3, where: t3 .> m)
                        setColumn(j, t0); setColumn(j + 1, t1); setColumn(j + 2, t2); setColumn(j + 3, t3)
                        j += 4
                    }
                    guard m[0].isFinite && m[1].isFinite && m[2].isFinite && m[3].isFinite else {
                        var j = 0
                        while j < k {
                            let (r0, r1, r2, r3) = transposed(column(j), column(j + 1), column(j + 2), column(j + 3))
                            store4(r0, o0 + j); store4(r1, o1 + j); store4(r2, o2 + j); store4(r3, o3 + j)
                            j += 4
                        }
                        for r in first..<(first + 4) { logLikelihoods[r] = normalizeResponsibilities(resp + r * k, k) }
                        first += 4
                        continue
                    }
                    // Lane sums as in the two-pass version: p_c adds components c, c+4, c+8, …
                    var p0 = SIMD4<Double>.zero, p1 = p0, p2 = p0, p3 = p0
                    j = 0
                    while j < k {
                        let e0 = vectorExp(column(j) - m), e1 = vectorExp(column(j + 1) - m)
                        let e2 = vectorExp(column(j + 2) - m), e3 = vectorExp(column(j + 3) - m)
                        p0 += e0; p1 += e1; p2 += e2; p3 += e3
                        setColumn(j, e0); setColumn(j + 1, e1); setColumn(j + 2, e2); setColumn(j + 3, e3)
                        j += 4
                    }
                    let total = (p0 + p1) + (p2 + p3)
                    let inverse = 1 / total
                    j = 0
                    while j < k {
                        let (r0, r1, r2, r3) = transposed(column(j) * inverse, column(j + 1) * inverse,
                                                          column(j + 2) * inverse, column(j + 3) * inverse)
                        store4(r0, o0 + j); store4(r1, o1 + j); store4(r2, o2 + j); store4(r3, o3 + j)
                        j += 4
                    }
                    let logLikelihood = m + vectorLog(total)
                    store4(logLikelihood, logLikelihoods + first)
                    first += 4
                }
            }
        }
        while first < rows {
            fillLogJoint(xs + first * d, into: resp + first * k, scratch: scratch)
            logLikelihoods[first] = normalizeResponsibilities(resp + first * k, k)
            first += 1
        }
    }
}

/// Four rows against one block of four components: lane c of result r is
/// Σ_i (x_r[i] − μ_c,i)²·(1/σ²_c,i), the Mahalanobis sum in dimension order. Each
/// block's means and precisions are loaded once for the four rows. Advances `b` past
/// the block (`GaussianMixture.diagonalBlocks` layout).
@inline(__always)
func blockSquares(
    _ x0: UnsafePointer<Double>, _ x1: UnsafePointer<Double>, _ x2: UnsafePointer<Double>, _ x3: UnsafePointer<Double>,
    _ d: Int, _ b: inout UnsafePointer<SIMD4<Double>>
) -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    var h0 = SIMD4<Double>.zero, h1 = h0, h2 = h0, h3 = h0
    for i in 0..<d {
        let mean = b[0], precision = b[1]
        let z0 = SIMD4<Double>(repeating: x0[i]) - mean, z1 = SIMD4<Double>(repeating: x1[i]) - mean
        let z2 = SIMD4<Double>(repeating: x2[i]) - mean, z3 = SIMD4<Double>(repeating: x3[i]) - mean
        h0 = multiplyAdd(z0 * z0, precision, h0); h1 = multiplyAdd(z1 * z1, precision, h1)
        h2 = multiplyAdd(z2 * z2, precision, h2); h3 = multiplyAdd(z3 * z3, precision, h3)
        b += 2
    }
    return (h0, h1, h2, h3)
}

/// The 4×4 transpose: lane j of result i is lane i of argument j.
@inline(__always)
func transposed(
    _ a: SIMD4<Double>, _ b: SIMD4<Double>, _ c: SIMD4<Double>, _ d: SIMD4<Double>
) -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    let low = SIMD8(lowHalf: SIMD4(lowHalf: a.lowHalf, highHalf: b.lowHalf), highHalf: SIMD4(lowHalf: c.lowHalf, highHalf: d.lowHalf))
    let high = SIMD8(lowHalf: SIMD4(lowHalf: a.highHalf, highHalf: b.highHalf), highHalf: SIMD4(lowHalf: c.highHalf, highHalf: d.highHalf))
    return (low.evenHalf, low.oddHalf, high.evenHalf, high.oddHalf)
}

extension MixtureStatistics {
    /// `accumulateDiagonal` for `rows` rows (weights rows × K): the same operations
    /// in the same order for every sum, so the same bits as adding the rows one by
    /// one, but each component's Σγ, Σγx and Σγx² stay in registers over the rows,
    /// eight dimensions at a time, and are loaded and stored once per segment instead
    /// of once per row. Rows are walked with pointers: checked index products
    /// (n·K + j, n·D + i) were a third of the inner loop.
    ///
    /// Two components per pass over the rows: each row's x is loaded once for both,
    /// and eight chains of adds are in flight instead of four. With one component per
    /// pass each pass was a sixteen-row chain of dependent adds, and the adder waited
    /// on it. Callgrind, K=8 D=8 on 100-row messages: 164 → 122 instructions per row.
    @inline(__always)
    mutating func accumulateDiagonalSegment(_ xs: UnsafePointer<Double>, rows m: Int, gamma: UnsafePointer<Double>) {
        let k = components, d = dimensions
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s1 in
                secondMoments.withUnsafeMutableBufferPointer { s2 in
                    let c = c.baseAddress!, s1 = s1.baseAddress!, s2 = s2.baseAddress!
                    var j = 0
                    while j + 2 <= k {
                        accumulateComponents(pair: true, xs, rows: m, gamma: gamma + j, k: k, d: d, counts: c + j,
                                             sums: s1 + j * d, moments: s2 + j * d)
                        j += 2
                    }
                    if j < k {
                        accumulateComponents(pair: false, xs, rows: m, gamma: gamma + j, k: k, d: d, counts: c + j,
                                             sums: s1 + j * d, moments: s2 + j * d)
                    }
                }
            }
        }
    }
}

/// Component j of `accumulateDiagonalSegment`, and with `pair` component j + 1 in the
/// same pass (`gamma` points at γ_0j; `counts`, `sums` and `moments` at component j's,
/// component j + 1's follow). `pair` is a constant at each call, so the one-component
/// body (the last component when K is odd) has none of the second's operations.
@inline(__always)
private func accumulateComponents(
    pair: Bool, _ xs: UnsafePointer<Double>, rows m: Int, gamma: UnsafePointer<Double>, k: Int, d: Int,
    counts: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>, moments: UnsafeMutablePointer<Double>
) {
    var count0 = counts[0], count1 = pair ? counts[1] : 0
    var g = gamma
    for _ in 0..<m {
        count0 += g[0]
        if pair { count1 += g[1] }
        g += k
    }
    counts[0] = count0
    if pair { counts[1] = count1 }
    let sums0 = sums, sums1 = sums + d, moments0 = moments, moments1 = moments + d
    var i = 0
    while i + 8 <= d {
        var a0 = load4(sums0 + i), a1 = load4(sums0 + i + 4), q0 = load4(moments0 + i), q1 = load4(moments0 + i + 4)
        var b0 = SIMD4<Double>(), b1 = b0, r0 = b0, r1 = b0
        if pair { b0 = load4(sums1 + i); b1 = load4(sums1 + i + 4); r0 = load4(moments1 + i); r1 = load4(moments1 + i + 4) }
        var g = gamma, x = xs + i
        for _ in 0..<m {
            let x0 = load4(x), x1 = load4(x + 4)
            let gv = SIMD4<Double>(repeating: g[0]), gx0 = gv * x0, gx1 = gv * x1
            a0 += gx0; a1 += gx1
            q0 = multiplyAdd(gx0, x0, q0); q1 = multiplyAdd(gx1, x1, q1)
            if pair {
                let hv = SIMD4<Double>(repeating: g[1]), hx0 = hv * x0, hx1 = hv * x1
                b0 += hx0; b1 += hx1
                r0 = multiplyAdd(hx0, x0, r0); r1 = multiplyAdd(hx1, x1, r1)
            }
            g += k; x += d
        }
        store4(a0, sums0 + i); store4(a1, sums0 + i + 4); store4(q0, moments0 + i); store4(q1, moments0 + i + 4)
        if pair { store4(b0, sums1 + i); store4(b1, sums1 + i + 4); store4(r0, moments1 + i); store4(r1, moments1 + i + 4) }
        i += 8
    }
    if i + 4 <= d {
        var a0 = load4(sums0 + i), q0 = load4(moments0 + i)
        var b0 = SIMD4<Double>(), r0 = b0
        if pair { b0 = load4(sums1 + i); r0 = load4(moments1 + i) }
        var g = gamma, x = xs + i
        for _ in 0..<m {
            let x0 = load4(x), gx0 = SIMD4<Double>(repeating: g[0]) * x0
            a0 += gx0
            q0 = multiplyAdd(gx0, x0, q0)
            if pair {
                let hx0 = SIMD4<Double>(repeating: g[1]) * x0
                b0 += hx0
                r0 = multiplyAdd(hx0, x0, r0)
            }
            g += k; x += d
        }
        store4(a0, sums0 + i); store4(q0, moments0 + i)
        if pair { store4(b0, sums1 + i); store4(r0, moments1 + i) }
        i += 4
    }
    while i < d {
        var a = sums0[i], q = moments0[i], b = 0.0, r = 0.0
        if pair { b = sums1[i]; r = moments1[i] }
        var g = gamma, x = xs + i
        for _ in 0..<m {
            let gx = g[0] * x.pointee
            a += gx
            q = multiplyAdd(gx, x.pointee, q)
            if pair {
                let hx = g[1] * x.pointee
                b += hx
                r = multiplyAdd(hx, x.pointee, r)
            }
            g += k; x += d
        }
        sums0[i] = a; moments0[i] = q
        if pair { sums1[i] = b; moments1[i] = r }
        i += 1
    }
}
