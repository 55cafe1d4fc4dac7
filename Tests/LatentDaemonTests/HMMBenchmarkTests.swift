import CAllocationCounter
import Testing
@testable import LatentDaemon

/// The HMM benchmark at tiny sizes: every kernel reports a finite positive
/// figure, and the timed loops allocate nothing, so the figures measure the
/// numerics and not malloc. No timing is asserted (debug builds, shared CI).
@Suite struct HMMBenchmarkTests {
    @Test(arguments: HMMBenchmark.Emission.allCases, [2, 5])
    func kernelsReportFinitePositiveFiguresWithoutAllocating(emission: HMMBenchmark.Emission, states: Int) {
        let width = emission == .gaussian ? 3 : 6
        // The Swift runtime's one-off allocations (type metadata the first time a
        // generic is used) are not per observation: a first run pays them.
        _ = HMMBenchmark.run(emission, states: states, width: width, observations: 50, repeats: 1, window: 8, lag: 4)
        let r = HMMBenchmark.run(emission, states: states, width: width, observations: 300, repeats: 2,
                                 window: 8, lag: 4, allocations: { latentd_thread_allocations() })
        #expect(r.checksum.isFinite)
        for kernel in HMMBenchmark.Kernel.allCases {
            let ns = r.nanoseconds[kernel] ?? .nan
            #expect(ns.isFinite && ns > 0, "\(kernel): \(ns) ns/obs")
            #expect(r.allocations[kernel] == 0, "\(kernel): \(r.allocations[kernel] ?? 999) allocations in 2×300 observations")
        }
    }

    /// A window longer than the data and a last, partial window still count every observation.
    @Test func partialWindowsAndShortData() {
        let r = HMMBenchmark.run(.categorical, states: 3, width: 4, observations: 13, repeats: 1, window: 8, lag: 20)
        #expect(r.nanoseconds.count == HMMBenchmark.Kernel.allCases.count)
        #expect(r.nanoseconds.values.allSatisfy { $0.isFinite && $0 > 0 })
    }

    @Test func jsonLineNamesEveryKernel() {
        let r = HMMBenchmark.run(.gaussian, states: 2, width: 2, observations: 50, repeats: 1)
        let line = r.json
        #expect(line.hasPrefix(#"{"emission":"gaussian","states":2,"d":2,"n":50,"window":8,"lag":8,"#))
        for kernel in HMMBenchmark.Kernel.allCases { #expect(line.contains(#""\#(kernel.rawValue)_ns":"#)) }
    }
}
