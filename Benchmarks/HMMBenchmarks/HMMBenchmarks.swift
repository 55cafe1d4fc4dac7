// HMM hot path for N ∈ {2, 8, 32} states (D = 8 diagonal Gaussian emissions): the
// forward filter step, forward–backward expected counts over windows, and the
// windowed learner's observe (filter, smoother, online Viterbi, window learning).
import Benchmark
import BenchmarkFixtures
import LatentCore

final class ForwardState {
    let model: HiddenMarkovModel<GaussianEmissions>
    let data: [Double]
    var alpha: [Double]
    var scratch: [Double]

    init(states n: Int) {
        model = HMMFixture.model(states: n)
        data = HMMFixture.sequence(model)
        alpha = [Double](repeating: 0, count: 2 * n)
        scratch = [Double](repeating: 0, count: model.stepScratchCount)
    }

    /// One filter step per row; α ping-pongs between two halves of `alpha`.
    func run(_ rows: Range<Int>) -> Double {
        let n = model.states, d = model.emissions.observationWidth
        var logLikelihood = 0.0
        data.withUnsafeBufferPointer { xs in
            alpha.withUnsafeMutableBufferPointer { a in
                scratch.withUnsafeMutableBufferPointer { s in
                    for row in rows {
                        let current = a.baseAddress! + (row % 2) * n
                        let previous = row == rows.lowerBound ? nil : UnsafePointer(a.baseAddress! + ((row + 1) % 2) * n)
                        logLikelihood += model.forwardStep(
                            xs.baseAddress! + row * d, previous: previous, into: current, scratch: s.baseAddress!)
                    }
                }
            }
        }
        return logLikelihood
    }
}

final class WindowState {
    static let window = 100
    let model: HiddenMarkovModel<GaussianEmissions>
    let data: [Double]
    var stats: HMMStatistics<MixtureStatistics>
    var workspace = HMMWorkspace()

    init(states n: Int) {
        model = HMMFixture.model(states: n)
        data = HMMFixture.sequence(model)
        stats = HMMStatistics(states: n, emission: model.emissions.emptyStatistics())
        run(0..<Self.window)  // sizes the workspace
    }

    /// Forward–backward over consecutive windows of 100 observations, the first
    /// starting the sequence (the learner's windows do the same with 64).
    @discardableResult
    func run(_ rows: Range<Int>) -> Double {
        let d = model.emissions.observationWidth
        var logLikelihood = 0.0
        stats.reset()
        data.withUnsafeBufferPointer { xs in
            for start in stride(from: rows.lowerBound, to: rows.upperBound, by: Self.window) {
                let count = min(Self.window, rows.upperBound - start)
                logLikelihood += model.forwardBackward(
                    xs.baseAddress! + start * d, count: count, previous: nil, statistics: &stats, workspace: &workspace)
            }
        }
        return logLikelihood
    }
}

final class HMMLearnerState {
    var learner: HMMLearner<GaussianEmissions>
    let data: [Double]
    var filtered: [Double]
    var smoothed: [Double]
    /// Each iteration's sequence, started in the previous one's storage as the
    /// daemon's sequence table does (`HMMSequence.reset`).
    var sequence: HMMSequence

    init(states n: Int) {
        let model = HMMFixture.model(states: n)
        data = HMMFixture.sequence(model)
        learner = HMMFixture.learner(model, data: data)
        filtered = [Double](repeating: 0, count: n)
        smoothed = filtered
        sequence = learner.newSequence()
    }
}

let benchmarks: @Sendable () -> Void = {
    // scaledIterations is 0..<1000: the rows of a 1000-observation sequence.
    for n in [2, 8, 32] {
        let forward = ForwardState(states: n)
        Benchmark("HMM forwardStep N=\(n) D=8", configuration: Bench.perObservation()) { benchmark in
            blackHole(forward.run(benchmark.scaledIterations))
        }

        let window = WindowState(states: n)
        Benchmark("HMM forwardBackward window=100 N=\(n) D=8", configuration: Bench.perObservation()) { benchmark in
            blackHole(window.run(benchmark.scaledIterations))
        }

        // One 1000-observation sequence per iteration, in the storage of the one
        // before (as the daemon starts new sequences); its end (the Viterbi path
        // and the last window) is not measured.
        let state = HMMLearnerState(states: n)
        Benchmark("HMM learner observe window=64 N=\(n) D=8", configuration: Bench.perObservation()) { benchmark in
            var s = state.sequence
            state.sequence = state.learner.newSequence()  // so that `s` holds the only reference
            s.reset()
            let d = state.learner.settings.shape.observationWidth
            benchmark.startMeasurement()
            state.data.withUnsafeBufferPointer { xs in
                for row in benchmark.scaledIterations {
                    blackHole(state.learner.observe(
                        xs.baseAddress! + row * d, sequence: &s, learn: true,
                        filtered: &state.filtered, smoothed: &state.smoothed))
                }
            }
            benchmark.stopMeasurement()
            blackHole(state.learner.end(&s, learn: true))
            state.sequence = s
        }
    }
}
