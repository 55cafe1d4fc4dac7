import LatentCore

/// The live sequences of one HMM, keyed by `seq`, in least-recently-used order.
///
/// Slots are reused and linked into a recency list, so touching a sequence,
/// finding the one to evict at `max_sequences` and sweeping the ones idle past
/// `sequence_timeout` are all O(1) per sequence, however many are live.
///
/// A slot keeps a finished sequence's storage, reset, for the next new sequence:
/// a stream of short sequences would otherwise allocate a new sequence's arrays,
/// and regrow its window and Viterbi back-pointers, for every one of them.
struct SequenceTable {
    /// Storage at most this large (heap bytes) stays in its slot when its sequence
    /// ends; a larger one (a long sequence's back-pointers) is released, so that a
    /// finished long sequence does not keep its memory.
    static let retainedBytes = 64 * 1024

    /// Sequence states by slot. A free slot holds a reset sequence (`retained`) or
    /// the placeholder.
    var states: [HMMSequence] = []
    private(set) var keys: [String] = []
    private(set) var lastSeen: [Double] = []
    private var index: [String: Int] = [:]
    private var newer: [Int] = []
    private var older: [Int] = []
    private var free: [Int] = []
    /// Free slots whose storage is a reset sequence, ready to start the next one.
    private var retained: [Int] = []
    /// Most and least recently used slots (−1 when empty).
    private(set) var newest = -1
    private(set) var oldest = -1

    var count: Int { index.count }

    /// `mutating` though it changes nothing: called on a host's stored table, a
    /// non-mutating lookup copied the whole table first (nine retains and releases per
    /// message, callgrind), an in-place access does not.
    mutating func slot(of key: String) -> Int? { index[key] }

    /// Marks a slot as used now (moves it to the front of the recency list).
    mutating func touch(_ slot: Int, now: Double) {
        lastSeen[slot] = now
        guard slot != newest else { return }
        unlink(slot)
        link(slot)
    }

    /// Adds a new sequence in a retained slot's storage, or else `fresh()`; the
    /// caller evicts first when the table is full.
    mutating func insertNew(_ key: String, now: Double, fresh: () -> HMMSequence) -> Int {
        guard let slot = retained.popLast() else { return insert(key, fresh(), now: now) }
        occupy(slot, key, now: now)
        return slot
    }

    /// Adds a sequence (a restored one); the caller evicts first when the table is full.
    mutating func insert(_ key: String, _ state: HMMSequence, now: Double) -> Int {
        let slot: Int
        if let reused = free.popLast() ?? retained.popLast() {
            slot = reused
            states[slot] = state
        } else {
            slot = states.count
            states.append(state)
            keys.append(key)
            lastSeen.append(now)
            newer.append(-1)
            older.append(-1)
        }
        occupy(slot, key, now: now)
        return slot
    }

    /// Gives a slot whose state is in place its key and time, and makes it the newest.
    private mutating func occupy(_ slot: Int, _ key: String, now: Double) {
        keys[slot] = key
        lastSeen[slot] = now
        index[key] = slot
        link(slot)
    }

    /// Removes a slot: its state is reset for the next new sequence, or replaced by
    /// `placeholder` when it holds more than `retainedBytes`.
    mutating func remove(_ slot: Int, placeholder: HMMSequence) {
        unlink(slot)
        index[keys[slot]] = nil
        if states[slot].heapBytes <= Self.retainedBytes {
            states[slot].reset()
            retained.append(slot)
        } else {
            states[slot] = placeholder
            free.append(slot)
        }
    }

    mutating func removeAll() {
        self = SequenceTable()
    }

    /// Live slots from the least to the most recently used.
    var slotsOldestFirst: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        var s = oldest
        while s >= 0 { out.append(s); s = newer[s] }
        return out
    }

    private mutating func unlink(_ slot: Int) {
        let n = newer[slot], o = older[slot]
        if n >= 0 { older[n] = o } else if newest == slot { newest = o }
        if o >= 0 { newer[o] = n } else if oldest == slot { oldest = n }
        newer[slot] = -1
        older[slot] = -1
    }

    private mutating func link(_ slot: Int) {
        older[slot] = newest
        newer[slot] = -1
        if newest >= 0 { newer[newest] = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}

extension SequenceTable {
    /// The table's own arrays, the key index at its entries' size. The sequences'
    /// storage is `sequenceBytes()`'s, so that `status` walks the sequences once
    /// (with 100,000 live, a pass costs about 20 ms).
    var heapBytes: Int {
        states.storageBytes + keys.storageBytes + lastSeen.storageBytes + indexBytes
            + newer.storageBytes + older.storageBytes + free.storageBytes + retained.storageBytes
    }

    /// The key index at its entries' size (a dictionary's storage, estimated).
    var indexBytes: Int { index.capacity * (MemoryLayout<String>.stride + MemoryLayout<Int>.stride) }

    /// `HMMSequence.heapBytes` summed over the live sequences and over every slot
    /// (finished sequences' storage kept for reuse included), in one pass.
    func sequenceBytes() -> (live: Int, all: Int) {
        var all = 0
        for state in states { all += state.heapBytes }
        var idle = 0
        for slot in free { idle += states[slot].heapBytes }
        for slot in retained { idle += states[slot].heapBytes }
        return (all - idle, all)
    }
}
