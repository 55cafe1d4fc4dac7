/// Why an input payload was rejected.
///
/// Every rejected message is reported back to its producer on `error/<model>`, so each
/// case renders as one sentence a person can act on: it names the offending key or
/// element (`xs[4][1]`) or the byte offset in the payload. Cases carry data rather than
/// a preformatted string so tests and the daemon can match on them; the strings are
/// built only when `description` is asked for, never on the accepting path.
public enum ObservationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON at all (or not the JSON we accept): what was expected at which byte.
    case malformed(offset: Int, reason: String)
    case unknownKey(String, offset: Int)
    case duplicateKey(String, offset: Int)
    /// A value of the wrong JSON type; `path` is a key or an element like `xs[2][0]`.
    case wrongType(path: String, expected: String, found: String)
    /// An observation with the wrong number of values (`x`, or a ragged `xs[i]`).
    case wrongCount(path: String, expected: Int, got: Int)
    /// A number that overflows a Double (`1e400`).
    case notFinite(path: String)
    case missingObservations
    case bothXAndXs
    case emptyBatch
    case tooManyObservations(limit: Int)
    case trailingGarbage(offset: Int)
    /// An `id` nested deeper than the limit; bounds recursion on hostile input.
    case tooDeep(offset: Int, limit: Int)
    case unknownSymbol(path: String, symbol: String)
    case invalidSymbolIndex(path: String, value: String, count: Int)
    /// Binary formats: no bytes at all.
    case emptyPayload
    /// Binary formats: the length is not a whole number of observations.
    case partialObservation(byteCount: Int, multiple: Int)
    /// Binary formats: value number `index` (0-based, row-major) is NaN or infinite.
    case nonFiniteValue(index: Int, dimensions: Int, kind: NonFinite)

    public enum NonFinite: String, Sendable {
        case nan = "NaN"
        case infinity
        case negativeInfinity = "-infinity"

        init(_ value: Double) {
            self = value.isNaN ? .nan : (value < 0 ? .negativeInfinity : .infinity)
        }
    }

    public var description: String {
        switch self {
        case let .malformed(offset, reason):
            return "malformed JSON at byte \(offset): \(reason)"
        case let .unknownKey(key, offset):
            return "unknown key \(quoted(key)) at byte \(offset)"
        case let .duplicateKey(key, offset):
            return "duplicate key \(quoted(key)) at byte \(offset)"
        case let .wrongType(path, expected, found):
            return "\(path) must be \(expected), got \(found)"
        case let .wrongCount(path, expected, got):
            return "\(path) must have \(expected) value\(expected == 1 ? "" : "s"), got \(got)"
        case let .notFinite(path):
            return "\(path) is not a finite number"
        case .missingObservations:
            return "missing \"x\" or \"xs\""
        case .bothXAndXs:
            return "\"x\" and \"xs\" cannot both be given"
        case .emptyBatch:
            return "\"xs\" is empty"
        case let .tooManyObservations(limit):
            return "too many observations: more than \(limit) in one message"
        case let .trailingGarbage(offset):
            return "unexpected data after the JSON object at byte \(offset)"
        case let .tooDeep(offset, limit):
            return "id is nested deeper than \(limit) levels at byte \(offset)"
        case let .unknownSymbol(path, symbol):
            return "\(path): unknown symbol \(quoted(symbol))"
        case let .invalidSymbolIndex(path, value, count):
            return "\(path) must be a symbol index in 0..<\(count), got \(value)"
        case .emptyPayload:
            return "empty payload"
        case let .partialObservation(byteCount, multiple):
            return "payload of \(byteCount) bytes is not a whole number of observations "
                + "(expected a multiple of \(multiple) bytes)"
        case let .nonFiniteValue(index, dimensions, kind):
            return "value \(index) (observation \(index / dimensions), component "
                + "\(index % dimensions)) is \(kind.rawValue)"
        }
    }
}

/// A JSON-style quoted rendering (error messages, the config fingerprint), so odd
/// keys stay readable and distinct strings never render alike.
func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += "\\u" + hex4(scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func hex4(_ v: UInt32) -> String {
    let digits = Array("0123456789abcdef")
    return String((0..<4).reversed().map { digits[Int((v >> (4 * UInt32($0))) & 0xF)] })
}
