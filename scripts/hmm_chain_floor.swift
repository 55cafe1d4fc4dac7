// The floor of a two-state scaled forward recursion, for the HMM N=2 goal against
// hmmlearn's "scaling" implementation (README, Performance): categorical emissions by
// table lookup, the prediction, the products, the normalizer, its reciprocal and the
// scaling, and nothing else: no checks, no general-N loops, no posterior output. Each
// step needs the previous one's result, so its time is the latency of that chain.
//
//     swiftc -O -target-cpu haswell scripts/hmm_chain_floor.swift -o /tmp/hmm_chain_floor
//     /tmp/hmm_chain_floor
//
// prints the fastest of seven runs over two million steps, without and with the log of
// the normalizer that a forward step returns (the predictive log-likelihood).
import Glibc

@inline(never) func run(_ xs: UnsafePointer<Int32>, _ t: Int, _ b: UnsafePointer<Double>, logs: Bool) -> Double {
    let a00 = 0.9, a01 = 0.1, a10 = 0.2, a11 = 0.8
    var p0 = 0.5, p1 = 0.5, total = 0.0
    for i in 0..<t {
        let s = Int(xs[i])
        let q0 = (p0 * a00 + p1 * a10) * b[2 * s], q1 = (p0 * a01 + p1 * a11) * b[2 * s + 1]
        let c = q0 + q1, inverse = 1 / c
        p0 = q0 * inverse
        p1 = q1 * inverse
        total += logs ? log(c) : c
    }
    return total + p0
}

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let t = 2_000_000
var state: UInt64 = 88_172_645_463_325_252
let symbols: [Int32] = (0..<t).map { _ in
    state ^= state << 13; state ^= state >> 7; state ^= state << 17
    return Int32(state % 16)
}
let emissions: [Double] = (0..<32).map { Double($0 % 7 + 1) / 40 }
var sink = 0.0
for logs in [false, true] {
    var best = Double.infinity
    for _ in 0..<7 {
        let start = seconds()
        sink += symbols.withUnsafeBufferPointer { x in
            emissions.withUnsafeBufferPointer { run(x.baseAddress!, t, $0.baseAddress!, logs: logs) }
        }
        best = min(best, (seconds() - start) / Double(t) * 1e9)
    }
    print(#"{"log":\#(logs),"ns_per_step":\#((best * 10).rounded() / 10)}"#)
}
if sink.isNaN { print(sink) }
