import Testing
@testable import LatentDaemon

@Suite struct CRC32Tests {
    @Test func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    /// The sliced fast path must agree with the textbook bit-at-a-time definition for
    /// every length and alignment, and incremental updates with a one-shot checksum.
    @Test func matchesBitwiseDefinitionAndIncrementalUpdates() {
        var rng = SeededGenerator(seed: 7)
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var reference: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                reference ^= UInt32(b)
                for _ in 0..<8 { reference = (reference & 1) != 0 ? (reference >> 1) ^ 0xEDB8_8320 : reference >> 1 }
            }
            reference ^= 0xFFFF_FFFF
            #expect(CRC32.checksum(bytes) == reference)

            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &rng)
            var crc = CRC32()
            crc.update(Array(bytes[..<split]))
            crc.update(Array(bytes[split...]))
            #expect(crc.value == reference)
        }
    }
}
