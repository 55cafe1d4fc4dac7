import Testing
@testable import LatentDaemon

@Suite struct BinaryObservationsTests {
    func encode64(_ values: [Double]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    func encode32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    func decode(_ d: BinaryObservationDecoder, _ bytes: [UInt8]) -> Result<(ParsedMessage, [Double]), ObservationError> {
        var values: [Double] = []
        return bytes.withUnsafeBytes { payload in
            Result { () throws(ObservationError) in (try d.decode(payload, into: &values), values) }
        }
    }

    @Test func f64RoundTripsExactly() throws {
        let d = BinaryObservationDecoder(format: .f64le, dimensions: 3, maxObservationsPerMessage: 100)
        var rng = SeededGenerator(seed: 9)
        var values: [Double] = []
        while values.count < 30 {
            let v = Double(bitPattern: rng.next())
            if v.isFinite { values.append(v) }
        }
        let (m, decoded) = try decode(d, encode64(values)).get()
        #expect(m.count == 10 && m.isBatch)
        #expect(decoded.map(\.bitPattern) == values.map(\.bitPattern))
        // Unaligned payloads (a frame after a topic prefix) are fine.
        let (_, shifted) = try (([0] + encode64(values)).withUnsafeBytes { raw in
            var out: [Double] = []
            return Result { () throws(ObservationError) in
                (try d.decode(UnsafeRawBufferPointer(rebasing: raw[1...]), into: &out), out)
            }
        }).get()
        #expect(shifted.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func f32WidensExactly() throws {
        let d = BinaryObservationDecoder(format: .f32le, dimensions: 2, maxObservationsPerMessage: 100)
        let values: [Float] = [1.5, -0.1, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let (m, decoded) = try decode(d, encode32(values)).get()
        #expect(m.count == 2 && m.isBatch)
        #expect(decoded == values.map(Double.init))
        let (single, _) = try decode(d, encode32([1, 2])).get()
        #expect(single.count == 1 && !single.isBatch)
    }

    @Test func errors() {
        let d = BinaryObservationDecoder(format: .f64le, dimensions: 2, maxObservationsPerMessage: 2)
        #expect(throws: ObservationError.emptyPayload) { try decode(d, []).get() }
        #expect(throws: ObservationError.partialObservation(byteCount: 20, multiple: 16)) {
            try decode(d, [UInt8](repeating: 0, count: 20)).get()
        }
        #expect(throws: ObservationError.tooManyObservations(limit: 2)) {
            try decode(d, encode64([1, 2, 3, 4, 5, 6])).get()
        }
        #expect(throws: ObservationError.nonFiniteValue(index: 3, dimensions: 2, kind: .nan)) {
            try decode(d, encode64([1, 2, 3, .nan])).get()
        }
        #expect(throws: ObservationError.nonFiniteValue(index: 0, dimensions: 2, kind: .negativeInfinity)) {
            try decode(d, encode64([-.infinity, 2])).get()
        }
        let f32 = BinaryObservationDecoder(format: .f32le, dimensions: 3, maxObservationsPerMessage: 2)
        #expect(throws: ObservationError.partialObservation(byteCount: 8, multiple: 12)) {
            try decode(f32, [UInt8](repeating: 0, count: 8)).get()
        }
        #expect(throws: ObservationError.nonFiniteValue(index: 4, dimensions: 3, kind: .infinity)) {
            try decode(f32, encode32([0, 0, 0, 0, .infinity, 0])).get()
        }
    }

    /// Decoding tests four values at a time and the rest one by one: a non-finite
    /// value is named at every position of both parts, with a finite neighbour whose
    /// exponent is all ones but one bit (the largest finite magnitude).
    @Test func nonFiniteValueIsFoundAtEveryPosition() {
        let d = BinaryObservationDecoder(format: .f64le, dimensions: 1, maxObservationsPerMessage: 100)
        let kinds: [(Double, ObservationError.NonFinite)] = [(.nan, .nan), (.infinity, .infinity), (-.infinity, .negativeInfinity)]
        for position in 0..<11 {
            for (value, kind) in kinds {
                var values = [Double](repeating: -.greatestFiniteMagnitude, count: 11)
                values[position] = value
                #expect(throws: ObservationError.nonFiniteValue(index: position, dimensions: 1, kind: kind)) {
                    try decode(d, encode64(values)).get()
                }
            }
        }
        let finite = [Double](repeating: .greatestFiniteMagnitude, count: 11)
        #expect((try? decode(d, encode64(finite)).get())?.1 == finite)
    }

    @Test func reusesCallerBuffer() throws {
        let d = BinaryObservationDecoder(format: .f64le, dimensions: 2, maxObservationsPerMessage: 8)
        var values: [Double] = []
        values.reserveCapacity(16)
        let capacity = values.capacity
        let payloads = [encode64([1, 2]), encode64(Array(repeating: 3, count: 16)), encode64([4, 5, 6, 7])]
        for i in 0..<10_000 {
            let m = try payloads[i % 3].withUnsafeBytes { p in
                Result { () throws(ObservationError) in try d.decode(p, into: &values) }
            }.get()
            #expect(values.count == 2 * m.count)
        }
        #expect(values.capacity == capacity)
    }
}
