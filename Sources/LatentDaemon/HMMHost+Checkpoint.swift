import LatentCore

/// An HMM's checkpoint: the learner and every in-flight sequence, so that after
/// a restart labeling continues exactly (SPEC §6, issue 3).
extension HMMHost {
    static var snapshotTag: String { "hmm-host-1" }

    func snapshot() -> [UInt8] {
        var w = ByteWriter(reservingCapacity: 4096 + 256 * table.count)
        w.write(Self.snapshotTag)
        w.write(versionBase)
        w.write(paramsPublishedAt)
        w.write(paramsPublishedVersion)
        for counter in [ended, evicted, timedOut] { w.write(counter) }
        learner.encode(into: &w)
        // Oldest first, so the restored table has the same eviction order.
        let slots = table.slotsOldestFirst
        w.write(slots.count)
        for slot in slots {
            w.write(table.keys[slot])
            learner.encode(table.states[slot], into: &w)
        }
        return w.bytes
    }

    /// Idle clocks restart at the restore: time spent stopped does not count
    /// toward `sequence_timeout`.
    func restore(_ payload: [UInt8]) throws {
        var r = ByteReader(payload)
        let tag = try r.readString()
        guard tag == Self.snapshotTag else { throw DecodingFailure("not an HMM checkpoint (\"\(tag)\")") }
        let base = try r.readInt(), at = try r.readInt(), publishedVersion = try r.readInt()
        let counters = [try r.readInt(), try r.readInt(), try r.readInt()]
        let restored = try HMMLearner<E>(settings: settings, decoding: &r)
        let count = try r.readInt()
        // More live sequences than a lowered max_sequences allows are kept: the next
        // new sequences evict the oldest (publishing their paths) until the table fits.
        guard count >= 0 else { throw DecodingFailure("negative sequence count \(count)") }
        var restoredTable = SequenceTable()
        let now = monotonicSeconds()
        for _ in 0..<count {
            let key = try r.readString()
            let state = try restored.decodeSequence(from: &r)
            guard restoredTable.slot(of: key) == nil else { throw DecodingFailure("sequence \"\(key)\" stored twice") }
            _ = restoredTable.insert(key, state, now: now)
        }
        guard r.isAtEnd else { throw DecodingFailure("trailing bytes after the sequences") }
        versionBase = base
        paramsPublishedAt = at
        paramsPublishedVersion = publishedVersion
        (ended, evicted, timedOut) = (counters[0], counters[1], counters[2])
        learner = restored
        table = restoredTable
    }
}
