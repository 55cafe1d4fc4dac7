/// Decodes `f64le` / `f32le` payloads: observations back to back, `dimensions`
/// little-endian IEEE floats each (SPEC §4).
///
/// Binary producers are the high-rate ones, so like `ObservationParser` this writes
/// into a caller-owned buffer that is reused across messages and allocates nothing.
/// NaN and infinities are refused here because they would poison the sufficient
/// statistics (SPEC §5: NaN/Inf never reach the statistics).
public struct BinaryObservationDecoder: Sendable {
    public enum Format: String, Sendable {
        case f64le, f32le

        public var bytesPerValue: Int { self == .f64le ? 8 : 4 }
    }

    public let format: Format
    public let dimensions: Int
    public let maxObservationsPerMessage: Int

    public init(format: Format, dimensions: Int, maxObservationsPerMessage: Int) {
        precondition(dimensions >= 1 && maxObservationsPerMessage >= 1)
        self.format = format
        self.dimensions = dimensions
        self.maxObservationsPerMessage = maxObservationsPerMessage
    }

    /// Bytes per observation.
    public var stride: Int { dimensions * format.bytesPerValue }

    /// Replaces the contents of `values` with the decoded observations, row-major.
    ///
    /// The result's `isBatch` is true when the payload holds more than one observation,
    /// so a producer sending one reading per message gets the single-observation reply
    /// shape, as with `"x"`. On error the contents of `values` are unspecified.
    public func decode(
        _ payload: UnsafeRawBufferPointer, into values: inout [Double]
    ) throws(ObservationError) -> ParsedMessage {
        guard !payload.isEmpty else { throw .emptyPayload }
        guard payload.count % stride == 0 else {
            throw .partialObservation(byteCount: payload.count, multiple: stride)
        }
        let count = payload.count / stride
        guard count <= maxObservationsPerMessage else {
            throw .tooManyObservations(limit: maxObservationsPerMessage)
        }
        let n = count * dimensions
        // Sized once and written through one buffer pointer: `append` per value paid a
        // capacity and uniqueness check each, a tenth of the daemon's time on f64le batches.
        // Resized only when the row count changes: clearing it first zeroed the buffer
        // again for every message.
        if values.count != n {
            values.removeAll(keepingCapacity: true)
            values.append(contentsOf: repeatElement(0, count: n))
        }
        let firstNonFinite: Int? = values.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            let exponent = Self.exponentMask
            // Whether some value has an all-ones exponent (NaN or ±∞): tested without an
            // early exit, and the index looked for only then.
            var anyNonFinite = false
            switch format {
            case .f64le:
                #if _endian(little)
                // Four values per step, their exponent test folded into the copy (a
                // separate scalar pass over the copy was 40 % of decoding, perf).
                let raw = payload.baseAddress!, mask = SIMD4<UInt64>(repeating: exponent)
                var nonFinite = SIMDMask<SIMD4<Int64>>(repeating: false)
                var i = 0
                while i + 4 <= n {
                    let bits = raw.loadUnaligned(fromByteOffset: 8 * i, as: SIMD4<UInt64>.self)
                    UnsafeMutableRawPointer(out + i).storeBytes(of: bits, as: SIMD4<UInt64>.self)
                    nonFinite = nonFinite .| ((bits & mask) .== mask)
                    i += 4
                }
                anyNonFinite = any(nonFinite)
                while i < n {
                    let bits = raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    out[i] = Double(bitPattern: bits)
                    anyNonFinite = anyNonFinite || bits & exponent == exponent
                    i += 1
                }
                #else
                for i in 0..<n {
                    out[i] = Double(bitPattern: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                }
                anyNonFinite = Self.anyExponentAllOnes(out, n)
                #endif
            case .f32le:
                for i in 0..<n {
                    out[i] = Double(Float(bitPattern: UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
                }
                anyNonFinite = Self.anyExponentAllOnes(out, n)
            }
            guard anyNonFinite else { return nil }
            return (0..<n).first { !out[$0].isFinite }
        }
        if let i = firstNonFinite { throw nonFinite(i, values[i]) }
        var result = ParsedMessage()
        result.count = count
        result.isBatch = count > 1
        return result
    }

    /// A double's exponent bits: all ones for NaN and ±∞.
    private static let exponentMask: UInt64 = 0x7FF0_0000_0000_0000

    /// One pass without early exit (it vectorizes) over decoded values.
    private static func anyExponentAllOnes(_ values: UnsafePointer<Double>, _ n: Int) -> Bool {
        var found: UInt64 = 0
        for i in 0..<n { found |= (values[i].bitPattern & exponentMask) == exponentMask ? 1 : 0 }
        return found != 0
    }

    private func nonFinite(_ index: Int, _ value: Double) -> ObservationError {
        .nonFiniteValue(index: index, dimensions: dimensions, kind: .init(value))
    }
}
