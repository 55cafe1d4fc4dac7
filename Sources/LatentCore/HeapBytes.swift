/// Bytes of array storage the learners hold, and everything they hold: the
/// daemon's per-model memory in `status` (`heap_bytes`; issue 4 asks for memory
/// reported per model). Capacities, not counts (what is allocated), without array
/// headers or allocator overhead.
///
/// Written out per type rather than found by reflection: `Mirror` decodes every
/// field's type name on each access, which made a `status` request ten to forty
/// times slower. `LearnerHeapBytesTests` checks each sum against a reflective walk
/// of the same value, so an array added to one of these types and left out here
/// fails a test.
extension Array {
    /// The array's allocation.
    @inlinable public var storageBytes: Int { capacity * MemoryLayout<Element>.stride }
}

extension Optional {
    @inlinable func heapBytes(_ bytes: (Wrapped) -> Int) -> Int { map(bytes) ?? 0 }
}

extension GaussianMixture {
    public var heapBytes: Int {
        weights.storageBytes + means.storageBytes + covariances.storageBytes + precisionFactors.storageBytes
            + logNormalizers.storageBytes + diagonalBlocks.storageBytes + factorPanels.storageBytes
    }
}

extension MixtureStatistics {
    public var heapBytes: Int { counts.storageBytes + sums.storageBytes + secondMoments.storageBytes }
}

extension MixtureLearner {
    /// The iterate, the averaged model and the spare the M-step writes into, the
    /// three sets of statistics, the warm-up buffer and the scratch.
    public var heapBytes: Int {
        iterate.heapBytes(\.heapBytes) + averagedModel.heapBytes(\.heapBytes) + spare.heapBytes(\.heapBytes)
            + statistics.heapBytes + averagedStatistics.heapBytes + pending.heapBytes
            + warmupBuffer.storageBytes + worst.storageBytes + gamma.storageBytes + scratch.storageBytes
            + segmentScratch.storageBytes
    }
}

extension GaussianEmissions {
    public var heapBytes: Int { densities.heapBytes }
}

extension SymbolCounts {
    public var heapBytes: Int { counts.storageBytes }
}

extension HiddenMarkovModel {
    public var heapBytes: Int {
        start.storageBytes + transitions.storageBytes + logStart.storageBytes + logTransitions.storageBytes
            + transposedTransitions.storageBytes + transposedLogTransitions.storageBytes + emissions.heapBytes
    }
}

extension HMMStatistics {
    public var heapBytes: Int { start.storageBytes + transitions.storageBytes + emission.heapBytes }
}

extension RecursiveHMMStatistics {
    public var heapBytes: Int { values.storageBytes + emissionLayout.heapBytes }
}

extension HMMWorkspace {
    var heapBytes: Int {
        alpha.storageBytes + beta.storageBytes + likelihoods.storageBytes + normalizers.storageBytes + scratch.storageBytes
    }
}

extension ViterbiWorkspace {
    var heapBytes: Int {
        delta.storageBytes + next.storageBytes + logDensities.storageBytes + backPointers.storageBytes
            + path.storageBytes + scratch.storageBytes
    }
}

extension RecursiveWorkspace {
    var heapBytes: Int { kernel.storageBytes + next.storageBytes + mean.storageBytes + scratch.storageBytes }
}

extension HMMLearner {
    /// The model and its spare, the statistics (windowed or recursive), the warm-up
    /// segments and the three workspaces. Live sequences are the daemon's
    /// (`HMMSequence.heapBytes`).
    public var heapBytes: Int {
        var bytes = model.heapBytes(\.heapBytes) + spare.heapBytes(\.heapBytes)
            + statistics.heapBytes + pending.heapBytes + recursive.heapBytes(\.heapBytes)
            + warmupSegments.storageBytes + next.storageBytes + ratios.storageBytes + scratch.storageBytes
            + workspace.heapBytes + viterbiWorkspace.heapBytes + recursiveWorkspace.heapBytes
        for segment in warmupSegments { bytes += segment.storageBytes }
        return bytes
    }
}
