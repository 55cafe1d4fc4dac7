import LatentCore

/// The live sequences of one HMM, keyed by `seq`, in least-recently-used order.
///
/// Slots are reused and linked into a recency list, so touching a sequence,
/// finding the one to evict at `max_sequences` and sweeping the ones idle past
/// `sequence_timeout` are all O(1) per sequence, however many are live.
struct SequenceTable {
    /// Sequence states by slot (a free slot holds a stale value until reused).
    var states: [HMMSequence] = []
    private(set) var keys: [String] = []
    private(set) var lastSeen: [Double] = []
    private var index: [String: Int] = [:]
    private var newer: [Int] = []
    private var older: [Int] = []
    private var free: [Int] = []
    /// Most and least recently used slots (−1 when empty).
    private(set) var newest = -1
    private(set) var oldest = -1

    var count: Int { index.count }

    func slot(of key: String) -> Int? { index[key] }

    /// Marks a slot as used now (moves it to the front of the recency list).
    mutating func touch(_ slot: Int, now: Double) {
        lastSeen[slot] = now
        guard slot != newest else { return }
        unlink(slot)
        link(slot)
    }

    /// Adds a sequence; the caller evicts first when the table is full.
    mutating func insert(_ key: String, _ state: HMMSequence, now: Double) -> Int {
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            states[slot] = state
            keys[slot] = key
            lastSeen[slot] = now
        } else {
            slot = states.count
            states.append(state)
            keys.append(key)
            lastSeen.append(now)
            newer.append(-1)
            older.append(-1)
        }
        index[key] = slot
        link(slot)
        return slot
    }

    /// Removes a slot and returns its state.
    @discardableResult
    mutating func remove(_ slot: Int, placeholder: HMMSequence) -> HMMSequence {
        unlink(slot)
        index[keys[slot]] = nil
        free.append(slot)
        var state = placeholder
        swap(&state, &states[slot])
        return state
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
