/// The bytes of array storage a model holds, for its `status` entry (`heap_bytes`):
/// what an operator needs to see which model the daemon's memory goes to (issue 4:
/// memory reported per model and per HMM sequence).
///
/// The count walks the model's host by reflection, so that every array the host,
/// its learner, its statistics, its spare model, its scratch and its buffers hold is
/// counted, including ones added later, without a hand-kept list per type that
/// would drift. It counts each array's capacity (what is allocated, not only what
/// is used) and each object once, and leaves out headers, allocator overhead and
/// strings. Types with many elements to walk report their own count
/// (`ReportsHeapBytes`): an HMM's sequence table with 100,000 live sequences would
/// otherwise take seconds to reflect, and `status` must answer within 100 ms.
enum HeapBytes {
    /// Array storage reachable from `value`.
    static func reachable(from value: Any) -> Int {
        var seen = Set<ObjectIdentifier>()
        return walk(value, &seen)
    }

    private static func walk(_ value: Any, _ seen: inout Set<ObjectIdentifier>) -> Int {
        if let own = value as? any ReportsHeapBytes { return own.heapBytes }
        if let array = value as? any CountedArray { return array.storageBytes(&seen) }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .class, !seen.insert(ObjectIdentifier(value as AnyObject)).inserted { return 0 }
        var bytes = 0
        var level: Mirror? = mirror
        while let m = level {
            for child in m.children { bytes += walk(child.value, &seen) }
            level = m.superclassMirror
        }
        return bytes
    }

    fileprivate static func elements(_ elements: some Sequence, _ seen: inout Set<ObjectIdentifier>) -> Int {
        var bytes = 0
        for element in elements { bytes += walk(element, &seen) }
        return bytes
    }
}

/// A type that counts its own heap bytes instead of being walked.
protocol ReportsHeapBytes {
    var heapBytes: Int { get }
}

private protocol CountedArray {
    func storageBytes(_ seen: inout Set<ObjectIdentifier>) -> Int
}

extension Array: CountedArray {
    /// The allocation, plus what the elements hold when they can hold anything: the
    /// numeric arrays that make up nearly all of a model are not walked element by
    /// element.
    fileprivate func storageBytes(_ seen: inout Set<ObjectIdentifier>) -> Int {
        let own = capacity * MemoryLayout<Element>.stride
        switch Element.self {
        case is Double.Type, is Float.Type, is Int.Type, is Int32.Type, is UInt8.Type, is UInt64.Type, is Bool.Type,
             is SIMD4<Double>.Type:
            return own
        default:
            return own + HeapBytes.elements(self, &seen)
        }
    }
}
