/// Categorical symbol name → index, once per observation, so it must not allocate:
/// an open-addressing table of FNV-1a hashes over one flat byte store, and lookups
/// compare the payload's bytes in place instead of building a String key.
struct SymbolTable: Sendable {
    let count: Int
    private let storage: [UInt8]
    private let offsets: [Int]
    private let slots: [Int32]

    init(_ symbols: [String]) {
        count = symbols.count
        var storage: [UInt8] = []
        var offsets = [0]
        for symbol in symbols {
            storage.append(contentsOf: symbol.utf8)
            offsets.append(storage.count)
        }
        var size = 4
        while size < 2 * symbols.count { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (i, symbol) in symbols.enumerated() {
            let bytes = Array(symbol.utf8)
            var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & (size - 1)
            var duplicate = false
            while slots[slot] >= 0 {
                let other = Int(slots[slot])
                if storage[offsets[other]..<offsets[other + 1]].elementsEqual(bytes) { duplicate = true; break }
                slot = (slot + 1) & (size - 1)
            }
            if !duplicate { slots[slot] = Int32(i) }
        }
        self.storage = storage
        self.offsets = offsets
        self.slots = slots
    }

    private static func hash<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    func lookup(_ payload: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int32? {
        let key = payload[range]
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & (slots.count - 1)
        while slots[slot] >= 0 {
            let i = Int(slots[slot])
            if storage[offsets[i]..<offsets[i + 1]].elementsEqual(key) { return slots[slot] }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    func lookup(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { lookup(UnsafeRawBufferPointer($0), 0..<$0.count) }
    }
}
