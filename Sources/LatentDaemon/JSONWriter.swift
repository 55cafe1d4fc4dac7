/// An append-only JSON writer into a reusable byte buffer, for the daemon's output
/// messages (posteriors, params, errors, control replies).
///
/// One posterior goes out per input message, so building it must not allocate:
/// `reset()` keeps the buffer's capacity, numbers are formatted on the stack, and the
/// request's `id` is copied verbatim (`raw`) instead of being decoded and re-encoded.
/// Commas are inserted automatically; the caller only says where containers begin and
/// end. The writer does not check nesting: it trusts its (few, tested) callers.
///
/// Doubles are written in the shortest form that parses back to the same bits, so a
/// consumer sees exactly the value the model computed. JSON has no NaN or infinity;
/// those are written as `null` rather than producing a message nobody can parse.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Whether the next value or key needs a separating comma.
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Starts a new message, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// The written bytes, for handing to a socket without copying.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    // MARK: Structure

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// An object key. Static keys are the protocol's own names and need no escaping.
    /// `,"name":` is assembled on the stack and appended once: each append of a
    /// buffer costs a call and a uniqueness check, more than the bytes.
    public mutating func key(_ name: StaticString) {
        let count = name.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 4) { buffer in
            let p = buffer.baseAddress!
            p[0] = UInt8(ascii: ",")
            let start = needsComma ? 0 : 1
            p[1] = UInt8(ascii: "\"")
            (p + 2).update(from: name.utf8Start, count: count)
            p[count + 2] = UInt8(ascii: "\"")
            p[count + 3] = UInt8(ascii: ":")
            bytes.append(contentsOf: UnsafeBufferPointer(start: p + start, count: count + 4 - start))
        }
        needsComma = false
    }

    /// A key that is not known at compile time (e.g. a model name); escaped.
    /// Disfavored, so that a literal key takes the `StaticString` overload: a string
    /// literal prefers `String`, and every key was escaped byte by byte, about a
    /// tenth of an HMM posterior's encoding (callgrind).
    @_disfavoredOverload
    public mutating func key(_ name: String) {
        separate()
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        separate()
        appendEscaped(value)
        needsComma = true
    }

    /// A string from UTF-8 bytes, e.g. a sequence name taken from the input payload.
    /// The bytes must be valid UTF-8 (the parser guarantees it for what it returns).
    public mutating func string(utf8 value: UnsafeRawBufferPointer) {
        separate()
        appendEscaped(value.assumingMemoryBound(to: UInt8.self))
        needsComma = true
    }

    /// Already-valid JSON copied verbatim, e.g. the request's `id` from `ParsedMessage.idRange`.
    public mutating func raw(_ json: UnsafeRawBufferPointer) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    public mutating func null() {
        separate()
        appendStatic("null")
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        appendStatic(value ? "true" : "false")
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        separate()
        appendInt(value)
        needsComma = true
    }

    public mutating func double(_ value: Double) {
        separate()
        appendDouble(value)
        needsComma = true
    }

    /// Sixteen values at a time are formatted into a stack buffer and appended
    /// together: an append per value cost as much as formatting it.
    public mutating func doubles(_ values: UnsafeBufferPointer<Double>) {
        beginArray()
        // A value writes at most 24 bytes and its comma 1, but needs `doubleScratch`
        // after its start; under 1 KiB the buffer is on the stack.
        let chunk = 16
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: (chunk - 1) * 25 + Self.doubleScratch + 1) { scratch in
            let base = scratch.baseAddress!
            var i = 0
            while i < values.count {
                let end = Swift.min(values.count, i + chunk)
                var n = 0
                while i < end {
                    base[n] = UInt8(ascii: ",")
                    n += i > 0 ? 1 : 0
                    n += Self.format(values[i], into: base + n)
                    i += 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
            }
        }
        endArray()
    }

    public mutating func doubles(_ values: [Double]) {
        values.withUnsafeBufferPointer { doubles($0) }
    }

    public mutating func ints(_ values: UnsafeBufferPointer<Int>) {
        beginArray()
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendInt(v)
        }
        endArray()
    }

    public mutating func ints(_ values: [Int]) {
        values.withUnsafeBufferPointer { ints($0) }
    }

    // MARK: Formatting

    /// Static text without an intermediate array (array literals may allocate).
    @inline(__always) private mutating func appendStatic(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendInt(_ value: Int) {
        // 20 digits hold |Int.min|; the magnitude is taken as UInt so Int.min works.
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }

    private mutating func appendDouble(_ value: Double) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.doubleScratch) { buffer in
            let count = Self.format(value, into: buffer.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: count))
        }
    }

    /// Bytes `format` needs at its output.
    static var doubleScratch: Int { ShortestDecimal.scratchLength }

    /// `value` as JSON at `out` (`doubleScratch` bytes); returns the length. Finite
    /// values in the shortest form that parses back to the same bits, as
    /// `description` writes them ("0.1", "1e-05", "-0.0", "5e-324"); JSON has no NaN
    /// or infinity, so those are `null`.
    @inline(__always)
    static func format(_ value: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        // Normal values through Schubfach, at a fraction of the standard library's cost.
        if let count = ShortestDecimal.format(value, into: out) { return count }
        let text: StaticString
        if value == 0 {
            text = value.sign == .minus ? "-0.0" : "0.0"
        } else if !value.isFinite {
            text = "null"
        } else {
            // Subnormals: the standard library's printer (SwiftDtoa) hands its stack
            // buffer to `_writeASCII`; no String is made.
            var sink = PointerSink(start: out)
            value.write(to: &sink)
            return sink.count
        }
        out.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        return text.utf8CodeUnitCount
    }

    private mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped($0) }
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            runStart = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                appendStatic("u00")
                bytes.append(hex.utf8Start[Int(b >> 4)])
                bytes.append(hex.utf8Start[Int(b & 0xF)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Receives the standard library's number formatting at a pointer with room for it
/// (`JSONWriter.doubleScratch` bytes; a double is at most 24).
private struct PointerSink: TextOutputStream {
    let start: UnsafeMutablePointer<UInt8>
    var count = 0

    mutating func write(_ string: String) {
        for byte in string.utf8 where count < JSONWriter.doubleScratch {
            start[count] = byte
            count += 1
        }
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        let n = Swift.min(buffer.count, JSONWriter.doubleScratch - count)
        (start + count).update(from: buffer.baseAddress!, count: n)
        count += n
    }
}
