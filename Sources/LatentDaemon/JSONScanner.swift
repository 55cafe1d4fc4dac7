/// A validating, non-allocating cursor over one JSON payload.
///
/// The input path sees every message the daemon receives, most of them tiny, so it
/// must not build a document tree or touch the heap: values are checked in place and
/// reported as byte ranges or Doubles. Everything is validated to the letter of
/// RFC 8259 (including UTF-8 and surrogate pairs), because the `id` is echoed back
/// verbatim and must never make our own output invalid JSON.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var pos = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }

    /// The current byte, or 0 at the end (NUL is never valid outside a string).
    @inline(__always) var peek: UInt8 { pos < bytes.count ? bytes[pos] : 0 }

    /// JSON's whitespace: space, tab, line feed, carriage return.
    @inline(__always) static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    @inline(__always) mutating func skipWhitespace() {
        while pos < bytes.count && Self.isWhitespace(bytes[pos]) { pos += 1 }
    }

    func fail(_ reason: String, at offset: Int? = nil) -> ObservationError {
        let at = offset ?? pos
        if at >= bytes.count && !reason.hasPrefix("unterminated") {
            return .malformed(offset: at, reason: "unexpected end of input, " + reason)
        }
        return .malformed(offset: at, reason: reason)
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ reason: String) throws(ObservationError) {
        guard peek == byte else { throw fail(reason) }
        pos += 1
    }

    /// A readable name for the JSON type starting here, for "must be X, got Y" errors;
    /// nil if no JSON value can start here (so the caller reports malformed input).
    var valueKind: String? {
        switch peek {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"): return matches("true") ? "a boolean" : nil
        case UInt8(ascii: "f"): return matches("false") ? "a boolean" : nil
        case UInt8(ascii: "n"): return matches("null") ? "null" : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return nil
        }
    }

    private func matches(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { return false }
        let w = word.utf8Start
        for i in 0..<n where bytes[pos + i] != w[i] { return false }
        return true
    }

    /// Consumes `true`, `false` or `null` exactly.
    mutating func literal(_ word: StaticString) throws(ObservationError) {
        guard matches(word) else { throw fail("invalid literal") }
        pos += word.utf8CodeUnitCount
    }

    mutating func boolean() throws(ObservationError) -> Bool? {
        switch peek {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: return nil
        }
    }

    // MARK: Strings

    /// Validates the string starting at the opening quote. Returns its content range
    /// (between the quotes) and whether it contains escapes, i.e. whether the raw bytes
    /// differ from the decoded text.
    mutating func string() throws(ObservationError) -> (content: Range<Int>, escaped: Bool) {
        let open = pos
        try expect(UInt8(ascii: "\""), "expected '\"'")
        let start = pos
        var escaped = false
        while true {
            guard pos < bytes.count else { throw fail("unterminated string", at: open) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return (start..<(pos - 1), escaped)
            } else if b == UInt8(ascii: "\\") {
                escaped = true
                try escape()
            } else if b < 0x20 {
                throw fail("control character in string")
            } else if b < 0x80 {
                pos += 1
            } else {
                try utf8Sequence()
            }
        }
    }

    private mutating func escape() throws(ObservationError) {
        let at = pos
        pos += 1
        switch peek {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 1
        case UInt8(ascii: "u"):
            pos += 1
            let unit = try hex4(escapeAt: at)
            if (0xD800..<0xDC00).contains(unit) {
                // A lone surrogate is legal JSON grammar but not text; many decoders
                // reject it, so it is refused here rather than echoed downstream.
                guard peek == UInt8(ascii: "\\") else { throw fail("unpaired surrogate", at: at) }
                pos += 1
                guard peek == UInt8(ascii: "u") else { throw fail("unpaired surrogate", at: at) }
                pos += 1
                guard (0xDC00..<0xE000).contains(try hex4(escapeAt: pos - 2)) else {
                    throw fail("unpaired surrogate", at: at)
                }
            } else if (0xDC00..<0xE000).contains(unit) {
                throw fail("unpaired surrogate", at: at)
            }
        default:
            throw fail("invalid escape", at: at)
        }
    }

    private mutating func hex4(escapeAt: Int) throws(ObservationError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("invalid \\u escape", at: escapeAt) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c &- UInt8(ascii: "A") &+ 10
            default: throw fail("invalid \\u escape", at: escapeAt)
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    /// One multi-byte UTF-8 sequence per RFC 3629 (no overlongs, surrogates or > U+10FFFF).
    private mutating func utf8Sequence() throws(ObservationError) {
        let b0 = bytes[pos]
        let count: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
        switch b0 {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; hi = 0x9F
        case 0xF0: count = 4; lo = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; hi = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard pos + count <= bytes.count else { throw fail("invalid UTF-8") }
        let b1 = bytes[pos + 1]
        guard b1 >= lo && b1 <= hi else { throw fail("invalid UTF-8") }
        for i in 2..<max(count, 2) where bytes[pos + i] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8")
        }
        pos += count
    }

    /// The decoded text of a validated string; only used when it has escapes (rare),
    /// which is the one place the input path may allocate.
    func decodeString(_ content: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var i = content.lowerBound
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = bytes[at + k]
                let d = c <= UInt8(ascii: "9") ? c &- 48 : (c | 0x20) &- UInt8(ascii: "a") &+ 10
                v = v << 4 | UInt32(d)
            }
            return v
        }
        while i < content.upperBound {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                if let scalar = Unicode.Scalar(scalar) { UTF8.encode(scalar) { out.append($0) } }
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Skipping

    /// Validates any JSON value without keeping it (the `id`), with bounded nesting so
    /// a payload of 100k '[' cannot exhaust the stack.
    mutating func skipValue(depth: Int, limit: Int) throws(ObservationError) {
        switch peek {
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // Legal JSON, but many decoders (Foundation's among them) refuse numbers
            // beyond a Double, and the id is echoed to them.
            let start = pos
            guard try number().isFinite else { throw fail("number out of range", at: start) }
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            guard depth < limit else { throw .tooDeep(offset: pos, limit: limit) }
            let isObject = peek == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            skipWhitespace()
            if peek == close { pos += 1; return }
            while true {
                skipWhitespace()
                if isObject {
                    guard peek == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                    _ = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "expected ':'")
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1, limit: limit)
                skipWhitespace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                try expect(close, isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                return
            }
        default:
            throw fail("expected a value")
        }
    }
}
