/// CRC-32/ISO-HDLC (the zlib/PNG/Ethernet CRC), used to detect torn or corrupted
/// checkpoint files. It is not a cryptographic check: it protects against disks and
/// crashes, not against someone editing a file on purpose.
///
/// Slicing-by-8 keeps multi-megabyte checkpoints cheap to verify on start-up while
/// staying a plain table lookup (no platform intrinsics, identical everywhere).
public struct CRC32: Sendable, Equatable {
    /// Running register, kept pre-inverted so `update` can be called any number of times.
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The checksum of everything passed to `update` so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var crc = state
        var i = 0
        let n = bytes.count
        crc32Tables.withUnsafeBufferPointer { table in
            // Eight bytes per step; each table k gives the CRC contribution of a byte
            // that is followed by k zero bytes.
            while i + 8 <= n {
                let lo = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ crc
                let hi = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = table[7 * 256 + Int(lo & 0xFF)]
                    ^ table[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((lo >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int(lo >> 24)]
                    ^ table[3 * 256 + Int(hi & 0xFF)]
                    ^ table[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((hi >> 16) & 0xFF)]
                    ^ table[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                let byte = base.load(fromByteOffset: i, as: UInt8.self)
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}

/// Eight 256-entry tables for the reflected polynomial 0xEDB88320, built once.
private let crc32Tables: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 {
            c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
        }
        table[n] = c
    }
    for n in 0..<256 {
        var c = table[n]
        for k in 1..<8 {
            c = table[Int(c & 0xFF)] ^ (c >> 8)
            table[k * 256 + n] = c
        }
    }
    return table
}()
