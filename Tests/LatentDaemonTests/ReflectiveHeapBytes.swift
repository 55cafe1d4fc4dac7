/// The test oracle for the per-model memory in `status` (`heap_bytes`): the bytes
/// of every array reachable from a value, found by reflection, so that nothing has
/// to be listed by hand. `LearnerHeapBytesTests` checks the hand-written sums
/// (LatentCore's HeapBytes.swift, the hosts' `heapBytes`) against it, so an array
/// added to a learner and left out of its sum fails a test. Not used by the daemon:
/// `Mirror` decodes every field's type name on each access, and a `status` request
/// that walked its models this way took 1–4 ms instead of 0.1.
///
/// It counts each array's capacity and each object once (shared or cyclic
/// references), walks superclasses, optionals and arrays of non-plain elements, and
/// leaves out headers, allocator overhead and strings. A type can report its own
/// count (`ReportsHeapBytes`).
enum ReflectiveHeapBytes {
    /// Array storage reachable from `value`.
    static func reachable(from value: Any) -> Int {
        var seen = Set<ObjectIdentifier>()
        return walk(value, &seen)
    }

    private static func walk(_ value: Any, _ seen: inout Set<ObjectIdentifier>) -> Int {
        // Most fields are numbers and flags: a cast to a concrete type is cheap, the
        // casts to protocols and `Mirror` below are not.
        switch value {
        case is Int, is Double, is Bool, is UInt64, is Int32, is UInt8, is Float, is String: return 0
        default: break
        }
        if let own = value as? any ReportsHeapBytes { return own.heapBytes }
        if let array = value as? any CountedArray { return array.reachableBytes(&seen) }
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
    func reachableBytes(_ seen: inout Set<ObjectIdentifier>) -> Int
}

extension Array: CountedArray {
    /// The allocation, plus what the elements hold when they can hold anything.
    /// Elements of a plain type (numbers, and structs and enums of them, which hold no
    /// reference: `_isPOD`, the standard library's test, for want of a public one) are
    /// not walked one by one: those arrays are nearly all of a model.
    fileprivate func reachableBytes(_ seen: inout Set<ObjectIdentifier>) -> Int {
        let own = capacity * MemoryLayout<Element>.stride
        return _isPOD(Element.self) ? own : own + ReflectiveHeapBytes.elements(self, &seen)
    }
}
