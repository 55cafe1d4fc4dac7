#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The numerics need only a handful of libm functions; routing them through one
// file keeps the platform imports out of every other source.
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

/// log(2π), used by every Gaussian normalizer.
let log2Pi = 1.8378770664093454835606594728112

/// log Σ exp(v_i) without overflow: shift by the maximum first.
@inline(__always)
func logSumExp(_ v: UnsafePointer<Double>, _ count: Int) -> Double {
    var m = -Double.infinity
    for i in 0..<count where v[i] > m { m = v[i] }
    if !m.isFinite { return m }
    var s = 0.0
    for i in 0..<count { s += _exp(v[i] - m) }
    return m + _log(s)
}
