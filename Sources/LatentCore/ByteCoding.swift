/// Exact binary encoding of learner state: integers little-endian, doubles by
/// bit pattern. Checkpoints must restore state bit for bit, which a decimal
/// text format would only promise with care at every call site.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func write(_ v: Int) { write(UInt64(bitPattern: Int64(v))) }
    public mutating func write(_ v: Double) { write(v.bitPattern) }
    public mutating func write(_ v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func write(_ v: [Double]) {
        write(v.count)
        for x in v { write(x) }
    }
    /// Length-prefixed, 4 bytes each (Viterbi back-pointers: the bulk of a long sequence).
    public mutating func write(_ v: [Int32]) {
        write(v.count)
        bytes.reserveCapacity(bytes.count + 4 * v.count)
        for x in v { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    }
    public mutating func write(_ s: String) {
        let utf8 = Array(s.utf8)
        write(utf8.count)
        bytes.append(contentsOf: utf8)
    }
}

/// Why a byte sequence could not be decoded.
public struct DecodingFailure: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct ByteReader {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readUInt64() throws(DecodingFailure) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw DecodingFailure("truncated at byte \(offset)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }
    public mutating func readInt() throws(DecodingFailure) -> Int { Int(Int64(bitPattern: try readUInt64())) }
    public mutating func readDouble() throws(DecodingFailure) -> Double { Double(bitPattern: try readUInt64()) }
    public mutating func readBool() throws(DecodingFailure) -> Bool {
        guard offset < bytes.count else { throw DecodingFailure("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset] != 0
    }
    /// Reads a length-prefixed array, refusing lengths that cannot fit in the rest.
    public mutating func readDoubles(expected: Int? = nil) throws(DecodingFailure) -> [Double] {
        let n = try readInt()
        guard n >= 0, n <= (bytes.count - offset) / 8 else { throw DecodingFailure("bad array length \(n) at byte \(offset)") }
        if let expected, n != expected { throw DecodingFailure("array of \(n) values where \(expected) were expected") }
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n { out[i] = try readDouble() }
        return out
    }
    public mutating func readInt32s() throws(DecodingFailure) -> [Int32] {
        let n = try readInt()
        guard n >= 0, n <= (bytes.count - offset) / 4 else { throw DecodingFailure("bad array length \(n) at byte \(offset)") }
        var out = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var v: UInt32 = 0
            for b in 0..<4 { v |= UInt32(bytes[offset + b]) << (8 * UInt32(b)) }
            out[i] = Int32(bitPattern: v)
            offset += 4
        }
        return out
    }
    public mutating func readString() throws(DecodingFailure) -> String {
        let n = try readInt()
        guard n >= 0, n <= bytes.count - offset else { throw DecodingFailure("bad string length \(n) at byte \(offset)") }
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
}
