/// Parses the JSON input payloads of SPEC §4 (`{"x": [...]}`, `{"xs": [[...], ...]}` and
/// the optional `id`, `learn`, `seq`, `end`, `reset`).
///
/// This runs once per received message, so it is a purpose-built scanner rather than
/// JSONSerialization or Codable: observations go straight into a caller-owned buffer
/// that is reused across messages, and everything else comes back as flags and byte
/// ranges into the payload. With a buffer whose capacity covers
/// `maxObservationsPerMessage` observations, an accepted message allocates nothing.
///
/// It is also the daemon's first line of defence against bad input, so it is strict:
/// unknown or duplicate keys, ragged batches, non-finite numbers and anything that is
/// not exactly RFC 8259 JSON are rejected with an `ObservationError` that says what
/// and where. Nothing a producer can send makes it crash or recurse without bound.
public struct ObservationParser: Sendable {
    public let dimensions: Int
    public let maxObservationsPerMessage: Int
    /// Whether `seq`, `end` and `reset` are accepted. Off for GMMs, so that a producer
    /// that thinks it is talking to an HMM is told rather than silently ignored.
    public let acceptsSequenceKeys: Bool
    /// Nesting limit for `id` values (they are validated recursively).
    public static let maxIDDepth = 32

    private let symbols: SymbolTable?

    /// Vector observations (GMM, Gaussian HMM): `"x"` is an array of `dimensions`
    /// numbers. With `dimensions == 1` a bare number is accepted too (`"x": 2.5`,
    /// `"xs": [1, 2, 3]`), since wrapping each scalar in an array helps no one.
    public init(dimensions: Int, maxObservationsPerMessage: Int, acceptsSequenceKeys: Bool = false) {
        precondition(dimensions >= 1 && maxObservationsPerMessage >= 1)
        self.dimensions = dimensions
        self.maxObservationsPerMessage = maxObservationsPerMessage
        self.acceptsSequenceKeys = acceptsSequenceKeys
        self.symbols = nil
    }

    /// Categorical HMM: `"x"` is a symbol index (`3`) or a symbol name (`"H"`), both
    /// resolved here to an index into `symbols`. For `symbols: 6` in the config pass
    /// `["0", ..., "5"]`, so `"x": 3` and `"x": "3"` mean the same thing.
    /// Duplicate names should be rejected by config validation; here the first wins.
    public init(symbols: [String], maxObservationsPerMessage: Int) {
        precondition(!symbols.isEmpty && maxObservationsPerMessage >= 1)
        self.dimensions = 1
        self.maxObservationsPerMessage = maxObservationsPerMessage
        self.acceptsSequenceKeys = true
        self.symbols = SymbolTable(symbols)
    }

    /// Parses one payload of a vector model, replacing the contents of `values` with
    /// the observations, row-major (`count * dimensions` values). On error the
    /// contents of `values` are unspecified.
    public func parse(
        _ payload: UnsafeRawBufferPointer, into values: inout [Double]
    ) throws(ObservationError) -> ParsedMessage {
        precondition(symbols == nil, "categorical parser: use parse(_:intoSymbols:)")
        var sink = VectorSink(dimensions: dimensions)
        // Swapping (rather than copying) keeps the caller's storage uniquely referenced,
        // so writes reuse its capacity.
        swap(&sink.values, &values)
        defer {
            sink.trim()
            swap(&sink.values, &values)
        }
        return try parseMessage(payload, &sink)
    }

    /// Parses one payload of a categorical model into symbol indices.
    public func parse(
        _ payload: UnsafeRawBufferPointer, intoSymbols indices: inout [Int32]
    ) throws(ObservationError) -> ParsedMessage {
        guard let symbols else { preconditionFailure("vector parser: use parse(_:into:)") }
        indices.removeAll(keepingCapacity: true)
        var sink = SymbolSink(table: symbols)
        swap(&sink.indices, &indices)
        defer { swap(&sink.indices, &indices) }
        return try parseMessage(payload, &sink)
    }

    private func parseMessage<Sink: ObservationSink>(
        _ payload: UnsafeRawBufferPointer, _ sink: inout Sink
    ) throws(ObservationError) -> ParsedMessage {
        var s = JSONScanner(payload)
        var result = ParsedMessage()
        var seen: UInt8 = 0
        s.skipWhitespace()
        guard !s.atEnd else { throw .emptyPayload }
        try s.expect(UInt8(ascii: "{"), "expected '{'")
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "}") {
            s.pos += 1
        } else {
            var plain = Self.plainKey(s)
            while true {
                let key: Key
                if let first = plain {
                    plain = nil
                    key = first
                    seen |= key.bit
                    s.pos += key == .x ? 4 : 5
                } else {
                    s.skipWhitespace()
                    let keyStart = s.pos
                    guard s.peek == UInt8(ascii: "\"") else { throw s.fail("expected a key string") }
                    let (range, escaped) = try s.string()
                    let found = escaped ? Key(s.decodeString(range)) : Key(payload, range)
                    guard let found, acceptsSequenceKeys || !found.isSequenceKey else {
                        let name = escaped ? s.decodeString(range) : String(decoding: payload[range], as: UTF8.self)
                        throw .unknownKey(name, offset: keyStart)
                    }
                    key = found
                    guard seen & key.bit == 0 else { throw .duplicateKey(key.name, offset: keyStart) }
                    seen |= key.bit
                    s.skipWhitespace()
                    try s.expect(UInt8(ascii: ":"), "expected ':'")
                }
                s.skipWhitespace()
                switch key {
                case .x:
                    guard seen & Key.xs.bit == 0 else { throw .bothXAndXs }
                    try sink.observation(&s, index: nil)
                    result.count = 1
                case .xs:
                    guard seen & Key.x.bit == 0 else { throw .bothXAndXs }
                    result.count = try batch(&s, &sink)
                    result.isBatch = true
                case .id:
                    let start = s.pos
                    try s.skipValue(depth: 0, limit: Self.maxIDDepth)
                    result.idRange = start..<s.pos
                case .learn: result.learn = try flag(&s, "learn")
                case .end: result.end = try flag(&s, "end")
                case .reset: result.reset = try flag(&s, "reset")
                case .seq:
                    guard s.peek == UInt8(ascii: "\"") else { throw s.typeError("seq", expected: "a string") }
                    let (content, escaped) = try s.string()
                    result.seq = JSONStringValue(content: content, escaped: escaped)
                }
                s.skipWhitespace()
                if s.peek == UInt8(ascii: ",") { s.pos += 1; continue }
                try s.expect(UInt8(ascii: "}"), "expected ',' or '}'")
                break
            }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw .trailingGarbage(offset: s.pos) }
        // An HMM sequence can be ended (or reset) without a last observation.
        guard seen & (Key.x.bit | Key.xs.bit) != 0 || result.end || result.reset else { throw .missingObservations }
        return result
    }

    /// The first key when it is `"x":` or `"xs":` spelled plainly, as encoders write it
    /// (not consumed). Matched as one word: the general path (scan the string, match
    /// it, find the colon) cost a fifth as much as the eight numbers after it
    /// (callgrind, one observation per message).
    @inline(__always)
    private static func plainKey(_ s: JSONScanner) -> Key? {
        guard let base = s.bytes.baseAddress, s.pos + 8 <= s.bytes.count else { return nil }
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: s.pos, as: UInt64.self))
        if word & 0xFFFF_FFFF == 0x3A22_7822 { return .x }  // "x":
        if word & 0xFF_FFFF_FFFF == 0x3A_2273_7822 { return .xs }  // "xs":
        return nil
    }

    private func batch<Sink: ObservationSink>(
        _ s: inout JSONScanner, _ sink: inout Sink
    ) throws(ObservationError) -> Int {
        guard s.peek == UInt8(ascii: "[") else {
            throw s.typeError("xs", expected: "an array of observations")
        }
        s.pos += 1
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "]") { throw .emptyBatch }
        var n = 0
        while true {
            s.skipWhitespace()
            // Checked before parsing the element, so an oversized batch costs no more
            // than the limit's worth of work.
            guard n < maxObservationsPerMessage else { throw .tooManyObservations(limit: maxObservationsPerMessage) }
            try sink.observation(&s, index: n)
            n += 1
            s.skipWhitespace()
            if s.peek == UInt8(ascii: ",") { s.pos += 1; continue }
            try s.expect(UInt8(ascii: "]"), "expected ',' or ']'")
            return n
        }
    }

    private func flag(_ s: inout JSONScanner, _ name: String) throws(ObservationError) -> Bool {
        guard let value = try s.boolean() else { throw s.typeError(name, expected: "true or false") }
        return value
    }
}

/// What a payload said besides its observations.
public struct ParsedMessage: Sendable, Equatable {
    /// Observations appended to the caller's buffer.
    public var count = 0
    /// `"xs"` (reply with `resps`/`labels`/`logliks`) rather than `"x"`.
    public var isBatch = false
    public var learn = true
    /// Byte range of the raw `id` value in the payload, already validated, so the
    /// reply can echo it verbatim (`JSONWriter.raw`).
    public var idRange: Range<Int>?
    public var seq: JSONStringValue?
    public var end = false
    public var reset = false

    public init() {}
}

/// A string in the payload: the byte range of its content between the quotes, and
/// whether that content has escapes (`string(in:)` then decodes them). Plain data, not
/// a `String`, so that a `ParsedMessage` is copied and dropped without reference
/// counting: with a `String` case every message paid an outlined copy and destroy
/// (callgrind).
public struct JSONStringValue: Sendable, Equatable {
    public var content: Range<Int>
    public var escaped: Bool

    public init(content: Range<Int>, escaped: Bool) {
        self.content = content
        self.escaped = escaped
    }

    /// The text, from the payload the message was parsed from.
    public func string(in payload: UnsafeRawBufferPointer) -> String {
        escaped ? JSONScanner(payload).decodeString(content) : String(decoding: payload[content], as: UTF8.self)
    }
}

// MARK: - Keys

private enum Key: UInt8 {
    case x, xs, id, learn, seq, end, reset

    var bit: UInt8 { 1 << rawValue }
    var isSequenceKey: Bool { self == .seq || self == .end || self == .reset }
    var name: String {
        switch self {
        case .x: "x"
        case .xs: "xs"
        case .id: "id"
        case .learn: "learn"
        case .seq: "seq"
        case .end: "end"
        case .reset: "reset"
        }
    }

    /// Matches the raw key bytes without building a String.
    init?(_ payload: UnsafeRawBufferPointer, _ range: Range<Int>) {
        @inline(__always) func isKey(_ word: StaticString) -> Bool {
            guard word.utf8CodeUnitCount == range.count else { return false }
            let w = word.utf8Start
            for i in 0..<range.count where payload[range.lowerBound + i] != w[i] { return false }
            return true
        }
        if isKey("x") { self = .x }
        else if isKey("xs") { self = .xs }
        else if isKey("id") { self = .id }
        else if isKey("learn") { self = .learn }
        else if isKey("seq") { self = .seq }
        else if isKey("end") { self = .end }
        else if isKey("reset") { self = .reset }
        else { return nil }
    }

    /// Keys spelled with escapes (`"\u0078"`) are the same keys in JSON.
    init?(_ decoded: String) {
        guard let key = [Key.x, .xs, .id, .learn, .seq, .end, .reset].first(where: { $0.name == decoded })
        else { return nil }
        self = key
    }
}

// MARK: - Observation sinks

/// Where one observation's value(s) go; specialised per model kind so the generic
/// message loop compiles down to direct appends.
private protocol ObservationSink {
    /// Parses one observation at the cursor; `index` is its position in `xs`, nil for `x`.
    mutating func observation(_ s: inout JSONScanner, index: Int?) throws(ObservationError)
}

private func elementPath(_ index: Int?, _ element: Int? = nil) -> String {
    var path = index.map { "xs[\($0)]" } ?? "x"
    if let element { path += "[\(element)]" }
    return path
}

extension JSONScanner {
    /// "must be X, got Y" for the value at the cursor, or malformed if there is none.
    func typeError(_ path: String, expected: String) -> ObservationError {
        guard let kind = valueKind else { return fail("expected a value") }
        return .wrongType(path: path, expected: expected, found: kind)
    }
}

private struct VectorSink: ObservationSink {
    let dimensions: Int
    /// The caller's buffer. Its first `count` values are this message's; the rest are
    /// left from the message before, so that a message no larger than the one before
    /// is written in place: clearing the buffer and appending zeros for every row cost
    /// 230 instructions per one-observation message, as much as its structure
    /// (callgrind).
    var values: [Double] = []
    var count = 0

    /// Appends one value at `count`.
    @inline(__always) mutating func push(_ v: Double) {
        if count < values.count { values[count] = v } else { values.append(v) }
        count += 1
    }

    /// Room for `n` values at `count`.
    @inline(__always) mutating func reserve(_ n: Int) {
        if values.count < count + n { values.append(contentsOf: repeatElement(0, count: count + n - values.count)) }
    }

    /// Drops what is left from the message before.
    mutating func trim() {
        if values.count > count { values.removeLast(values.count - count) }
    }

    mutating func observation(_ s: inout JSONScanner, index: Int?) throws(ObservationError) {
        if s.peek != UInt8(ascii: "[") {
            guard dimensions == 1, s.peek == UInt8(ascii: "-") || s.peek &- UInt8(ascii: "0") < 10 else {
                throw s.typeError(elementPath(index), expected: "an array of \(dimensions) numbers")
            }
            push(try Self.element(&s, index, nil))
            return
        }
        if try fastArray(&s, index) { return }
        s.pos += 1
        s.skipWhitespace()
        var n = 0
        if s.peek == UInt8(ascii: "]") {
            s.pos += 1
        } else {
            while true {
                s.skipWhitespace()
                let v = try Self.element(&s, index, n)
                // Extra values are still validated, so the error can say how many there were.
                if n < dimensions { push(v) }
                n += 1
                s.skipWhitespace()
                if s.peek == UInt8(ascii: ",") { s.pos += 1; continue }
                try s.expect(UInt8(ascii: "]"), "expected ',' or ']'")
                break
            }
        }
        guard n == dimensions else {
            throw .wrongCount(path: elementPath(index), expected: dimensions, got: n)
        }
    }

    /// The array at the cursor if it holds exactly `dimensions` numbers, written
    /// straight into `values`: numbers of the shape `JSONScanner.fastNumber` takes
    /// directly, other numbers through `element` (which throws for malformed and
    /// non-finite ones). False, with nothing consumed or kept, at anything else (a
    /// value that is not a number, an array that does not end after `dimensions`
    /// values): the general loop then reports it, counting the values.
    /// Per number, the general loop's calls, cursor updates and checked appends cost
    /// as much as the number itself.
    private mutating func fastArray(_ s: inout JSONScanner, _ index: Int?) throws(ObservationError) -> Bool {
        guard let base = s.bytes.baseAddress else { return false }
        let end = s.bytes.count, d = dimensions, first = count, open = s.pos
        @inline(__always) func at(_ j: Int) -> UInt8 { j < end ? base.load(fromByteOffset: j, as: UInt8.self) : 0 }
        reserve(d)
        var i = open &+ 1
        let complete = try values.withUnsafeMutableBufferPointer { buffer throws(ObservationError) -> Bool in
            let out = buffer.baseAddress! + first
            for n in 0..<d {
                while JSONScanner.isWhitespace(at(i)) { i &+= 1 }
                let parsed = i &+ JSONScanner.uncheckedReach <= end
                    ? JSONScanner.fastNumber(base, i, end, unchecked: true) : JSONScanner.fastNumber(base, i, end)
                if let (value, next) = parsed, value.isFinite {
                    out[n] = value
                    i = next
                } else {
                    // Not a number at all ("]", a string, null): the general loop's error.
                    let c = at(i)
                    guard c == UInt8(ascii: "-") || c &- UInt8(ascii: "0") < 10 else { return false }
                    s.pos = i
                    out[n] = try Self.element(&s, index, n)
                    i = s.pos
                }
                while JSONScanner.isWhitespace(at(i)) { i &+= 1 }
                guard at(i) == (n == d &- 1 ? UInt8(ascii: "]") : UInt8(ascii: ",")) else { return false }
                i &+= 1
            }
            return true
        }
        if complete {
            count += d
            s.pos = i
        } else {
            s.pos = open
        }
        return complete
    }

    private static func element(_ s: inout JSONScanner, _ index: Int?, _ element: Int?) throws(ObservationError) -> Double {
        switch s.peek {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let v = try s.number()
            guard v.isFinite else { throw .notFinite(path: elementPath(index, element)) }
            return v
        default:
            throw s.typeError(elementPath(index, element), expected: "a number")
        }
    }
}

private struct SymbolSink: ObservationSink {
    let table: SymbolTable
    var indices: [Int32] = []

    mutating func observation(_ s: inout JSONScanner, index: Int?) throws(ObservationError) {
        switch s.peek {
        case UInt8(ascii: "\""):
            let (content, escaped) = try s.string()
            let found = escaped ? table.lookup(s.decodeString(content)) : table.lookup(s.bytes, content)
            guard let found else {
                let name = escaped ? s.decodeString(content) : String(decoding: s.bytes[content], as: UTF8.self)
                throw .unknownSymbol(path: elementPath(index), symbol: name)
            }
            indices.append(found)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = s.pos
            let v = try s.number()
            guard v >= 0, v < Double(table.count), v.rounded(.towardZero) == v else {
                let text = String(decoding: s.bytes[start..<s.pos], as: UTF8.self)
                throw .invalidSymbolIndex(path: elementPath(index), value: text, count: table.count)
            }
            indices.append(Int32(v))
        default:
            throw s.typeError(elementPath(index), expected: "a symbol index or name")
        }
    }
}
