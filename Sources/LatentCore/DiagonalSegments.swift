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
                        var h0 = SIMD4<Double>.zero, h1 = h0, h2 = h0, h3 = h0
                        for i in 0..<d {
                            let mean = b[0], precision = b[1]
                            let z0 = SIMD4<Double>(repeating: x0[i]) - mean, z1 = SIMD4<Double>(repeating: x1[i]) - mean
                            let z2 = SIMD4<Double>(repeating: x2[i]) - mean, z3 = SIMD4<Double>(repeating: x3[i]) - mean
                            h0 = multiplyAdd(z0 * z0, precision, h0); h1 = multiplyAdd(z1 * z1, precision, h1)
                            h2 = multiplyAdd(z2 * z2, precision, h2); h3 = multiplyAdd(z3 * z3, precision, h3)
                            b += 2
                        }
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

extension MixtureStatistics {
    /// `accumulateDiagonal` for `rows` rows (weights rows × K): the same operations
    /// in the same order for every sum, so the same bits as adding the rows one by
    /// one, but each component's Σγ, Σγx and Σγx² stay in registers over the rows,
    /// eight dimensions at a time (four chains of adds), and are loaded and stored
    /// once per segment instead of once per row. Rows are walked with pointers:
    /// checked index products (n·K + j, n·D + i) were a third of the inner loop.
    @inline(__always)
    mutating func accumulateDiagonalSegment(_ xs: UnsafePointer<Double>, rows m: Int, gamma: UnsafePointer<Double>) {
        let k = components, d = dimensions
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s1 in
                secondMoments.withUnsafeMutableBufferPointer { s2 in
                    for j in 0..<k {
                        var count = c[j]
                        var g = gamma + j
                        for _ in 0..<m { count += g.pointee; g += k }
                        c[j] = count
                        let row = s1.baseAddress! + j * d, moments = s2.baseAddress! + j * d
                        var i = 0
                        while i + 8 <= d {
                            var a0 = load4(row + i), a1 = load4(row + i + 4)
                            var q0 = load4(moments + i), q1 = load4(moments + i + 4)
                            var g = gamma + j, x = xs + i
                            for _ in 0..<m {
                                let gv = SIMD4<Double>(repeating: g.pointee)
                                let x0 = load4(x), x1 = load4(x + 4), gx0 = gv * x0, gx1 = gv * x1
                                a0 += gx0; a1 += gx1
                                q0 = multiplyAdd(gx0, x0, q0); q1 = multiplyAdd(gx1, x1, q1)
                                g += k; x += d
                            }
                            store4(a0, row + i); store4(a1, row + i + 4)
                            store4(q0, moments + i); store4(q1, moments + i + 4)
                            i += 8
                        }
                        if i + 4 <= d {
                            var a0 = load4(row + i), q0 = load4(moments + i)
                            var g = gamma + j, x = xs + i
                            for _ in 0..<m {
                                let x0 = load4(x), gx0 = SIMD4<Double>(repeating: g.pointee) * x0
                                a0 += gx0
                                q0 = multiplyAdd(gx0, x0, q0)
                                g += k; x += d
                            }
                            store4(a0, row + i); store4(q0, moments + i)
                            i += 4
                        }
                        while i < d {
                            var a = row[i], q = moments[i]
                            var g = gamma + j, x = xs + i
                            for _ in 0..<m {
                                let gx = g.pointee * x.pointee
                                a += gx
                                q = multiplyAdd(gx, x.pointee, q)
                                g += k; x += d
                            }
                            row[i] = a; moments[i] = q
                            i += 1
                        }
                    }
                }
            }
        }
    }
}
