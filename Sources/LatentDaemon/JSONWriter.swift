/// An append-only JSON writer into a reusable byte buffer, for the daemon's output
/// messages (posteriors, params, errors, control replies).
///
/// One posterior goes out per input message, so building it must not allocate:
/// `reset()` keeps the buffer, numbers are formatted in place, and the request's `id`
/// is copied verbatim (`raw`) instead of being decoded and re-encoded. Commas are
/// inserted automatically; the caller only says where containers begin and end. The
/// writer does not check nesting: it trusts its (few, tested) callers.
///
/// Doubles are written in the shortest form that parses back to the same bits, so a
/// consumer sees exactly the value the model computed. JSON has no NaN or infinity;
/// those are written as `null` rather than producing a message nobody can parse.
public struct JSONWriter: Sendable {
    /// The message is `storage[..<count]`; past it, zeros: room that grows by doubling
    /// and is kept across messages. Each token is written through one buffer pointer.
    /// An `Array.append(contentsOf:)` per token (a call, capacity and uniqueness
    /// checks, a `memcpy` call) was about a fifth of an HMM posterior's encoding
    /// (callgrind).
    private var storage: [UInt8]
    private var count = 0
    /// Whether the next value or key needs a separating comma.
    private var needsComma = false

    public init(capacity: Int = 1024) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// A copy of the written bytes (an allocation), for replies and tests; `withBytes`
    /// lends them without copying.
    public var bytes: [UInt8] { Array(storage[..<count]) }

    /// How many bytes are written, without the copy `bytes.count` makes.
    public var byteCount: Int { count }

    /// Bytes the writer holds without growing.
    var capacity: Int { storage.count }

    /// Starts a new message, keeping the buffer.
    public mutating func reset() {
        count = 0
        needsComma = false
    }

    /// The written bytes, for handing to a socket without copying.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// Lets `body` write at most `room` bytes at the end; it returns how many it wrote.
    @inline(__always)
    private mutating func write(room: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + room > storage.count { grow(room) }
        let start = count
        // Debug builds (the tests) check the room: a short growth rule or a token
        // longer than its room would otherwise write past the buffer unnoticed.
        assert(start + room <= storage.count, "JSONWriter: \(room) bytes of room at \(start) in \(storage.count)")
        let written = storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
        assert(written <= room, "JSONWriter: wrote \(written) bytes in \(room) of room")
        count += written
    }

    @inline(never)
    private mutating func grow(_ room: Int) {
        storage.append(contentsOf: repeatElement(0, count: Swift.max(room, storage.count, 64)))
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        write(room: 1) { p in p.pointee = byte; return 1 }
    }

    @inline(__always)
    private mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress else { return }
        write(room: buffer.count) { p in p.update(from: source, count: buffer.count); return buffer.count }
    }

    // MARK: Structure

    public mutating func beginObject() { separate(); append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { append(UInt8(ascii: "]")); needsComma = true }

    /// An object key. Static keys are the protocol's own names and need no escaping.
    public mutating func key(_ name: StaticString) {
        let length = name.utf8CodeUnitCount, comma = needsComma ? 1 : 0
        write(room: length + 4) { p in
            p[0] = UInt8(ascii: ",")
            p[comma] = UInt8(ascii: "\"")
            (p + comma + 1).update(from: name.utf8Start, count: length)
            p[comma + length + 1] = UInt8(ascii: "\"")
            p[comma + length + 2] = UInt8(ascii: ":")
            return comma + length + 3
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
        append(UInt8(ascii: ":"))
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
        append(json.assumingMemoryBound(to: UInt8.self))
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

    /// Formatted straight into the buffer, which first makes room for the widest
    /// values: 24 bytes and a comma each, and the 64 that `format` may touch past the
    /// last one's start.
    public mutating func doubles(_ values: UnsafeBufferPointer<Double>) {
        beginArray()
        write(room: values.count * 25 + Self.doubleScratch) { base in
            var n = 0
            for (i, v) in values.enumerated() {
                base[n] = UInt8(ascii: ",")
                n += i > 0 ? 1 : 0
                n += Self.format(v, into: base + n)
            }
            return n
        }
        endArray()
    }

    public mutating func doubles(_ values: [Double]) {
        values.withUnsafeBufferPointer { doubles($0) }
    }

    public mutating func ints(_ values: UnsafeBufferPointer<Int>) {
        beginArray()
        for (i, v) in values.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
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
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always) private mutating func separate() {
        if needsComma { append(UInt8(ascii: ",")) }
    }

    /// Written in place, right to left, two digits per step once the length is
    /// known, instead of a digit per division into a stack buffer and a copy out of
    /// it (two integers per posterior, `n` and the label: callgrind about 10,788 →
    /// 10,762 instructions per json1 posterior message).
    private mutating func appendInt(_ value: Int) {
        // 20 digits hold |Int.min|; the magnitude is taken as UInt so Int.min works.
        let magnitude = UInt64(value.magnitude)
        write(room: 21) { p in
            p[0] = UInt8(ascii: "-")
            let sign = value < 0 ? 1 : 0
            var length = 1, rest = magnitude
            while rest >= 100 { rest /= 100; length += 2 }
            length += rest >= 10 ? 1 : 0
            var end = p + sign + length, v = magnitude
            while v >= 100 {
                let q = v / 100
                end -= 2
                ShortestDecimal.writeTwo(v &- q &* 100, end)
                v = q
            }
            if v >= 10 { ShortestDecimal.writeTwo(v, end - 2) } else { end[-1] = UInt8(ascii: "0") &+ UInt8(v) }
            return sign + length
        }
    }

    private mutating func appendDouble(_ value: Double) {
        write(room: Self.doubleScratch) { p in Self.format(value, into: p) }
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

    /// Control characters, the quote and the backslash (RFC 8259 §7).
    @inline(__always)
    private static func needsEscape(_ b: UInt8) -> Bool { b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Names almost never need escaping: then the quoted bytes are one write, not a
        // run of appends (model and sequence names are written into every posterior).
        var escapes: UInt8 = 0
        for b in utf8 { escapes |= Self.needsEscape(b) ? 1 : 0 }
        if escapes == 0, let source = utf8.baseAddress {
            let n = utf8.count
            write(room: n + 2) { p in
                p[0] = UInt8(ascii: "\"")
                (p + 1).update(from: source, count: n)
                p[n + 1] = UInt8(ascii: "\"")
                return n + 2
            }
            return
        }
        append(UInt8(ascii: "\""))
        var runStart = 0
        for (i, b) in utf8.enumerated() where Self.needsEscape(b) {
            append(UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            runStart = i + 1
            append(UInt8(ascii: "\\"))
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): append(b)
            case 0x0A: append(UInt8(ascii: "n"))
            case 0x0D: append(UInt8(ascii: "r"))
            case 0x09: append(UInt8(ascii: "t"))
            case 0x08: append(UInt8(ascii: "b"))
            case 0x0C: append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                appendStatic("u00")
                append(hex.utf8Start[Int(b >> 4)])
                append(hex.utf8Start[Int(b & 0xF)])
            }
        }
        append(UnsafeBufferPointer(rebasing: utf8[runStart...]))
        append(UInt8(ascii: "\""))
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
