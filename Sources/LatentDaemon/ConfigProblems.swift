import Foundation
import Yams

/// One thing wrong with a configuration file, located by its path in the file.
///
/// The description is the line `latentd check-config` prints (SPEC §2):
/// `models[1].components: must be >= 1`. Operators fix files by path, so every
/// problem, whether found while decoding or while validating, carries one.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// Dotted path with list indices, e.g. `models[0].learning.alpha`; empty
    /// for problems with the file as a whole (unreadable, not YAML).
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Thrown by `DaemonConfig.load(path:)` / `parse(yaml:)`: every problem found,
/// so one run of `check-config` shows them all instead of one per edit.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem per line, nothing else: the CLI prints it as it is.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A coding key that accepts any string or index. Needed because Yams' keyed
/// container only lists keys its `Key` type can represent: an enum of known
/// keys would silently drop the very typos we want to report.
struct AnyCodingKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Renders a coding path as the file path users see: `models[0].learning.alpha`.
func renderPath(_ codingPath: [any CodingKey]) -> String {
    var out = ""
    for key in codingPath {
        if let index = key.intValue {
            out += "[\(index)]"
        } else {
            if !out.isEmpty { out += "." }
            out += key.stringValue
        }
    }
    return out
}

/// Collects unknown keys during decoding so that all of them are reported
/// together, along with validation problems, instead of stopping at the first.
/// Passed through `userInfo`; decoding happens on one thread, hence a class.
final class UnknownKeyCollector {
    var problems: [ConfigProblem] = []
}

extension CodingUserInfoKey {
    // The initialiser is failable only in signature; a literal key never fails.
    static let latentdUnknownKeys = CodingUserInfoKey(rawValue: "latentd.unknownKeys")!
}

extension Decoder {
    /// The one shared strictness check: every key of the mapping being decoded
    /// must be one of `known`. Unknown keys go to the collector in `userInfo`
    /// when there is one (so decoding continues and all are reported), and are
    /// thrown otherwise (a plain `YAMLDecoder`/`JSONDecoder` stays strict).
    /// Returns the keys that are present, which lets validation tell a key
    /// written with its default value from one not written at all.
    @discardableResult
    func checkKeys<Key: CodingKey & CaseIterable>(_: Key.Type) throws -> Set<String> {
        let present = try container(keyedBy: AnyCodingKey.self).allKeys
        let known = Set(Key.allCases.map(\.stringValue))
        for key in present where !known.contains(key.stringValue) {
            let problem = ConfigProblem(path: renderPath(codingPath + [key]), message: "unknown key")
            if let collector = userInfo[.latentdUnknownKeys] as? UnknownKeyCollector {
                collector.problems.append(problem)
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: "unknown key"))
            }
        }
        return Set(present.map(\.stringValue))
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent or null.
    func value<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback()
    }

    /// A string enumeration with an error that lists the allowed values, e.g.
    /// `models[0].kind: must be one of gmm, hmm (got "gmx")`.
    func choice<T: RawRepresentable & CaseIterable>(_: T.Type, _ key: Key) throws -> T? where T.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        if let value = T(rawValue: text) { return value }
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw DecodingError.dataCorruptedError(
            forKey: key, in: self, debugDescription: "must be one of \(allowed) (got \"\(text)\")")
    }
}

/// Turns whatever decoding threw into one readable problem with its path,
/// instead of Swift's `DecodingError` dump.
func configProblem(from error: any Error) -> ConfigProblem {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return ConfigProblem(path: renderPath(context.codingPath + [key]), message: "required key is missing")
    case DecodingError.typeMismatch(let type, let context):
        return ConfigProblem(path: renderPath(context.codingPath), message: "expected \(describeExpected(type))")
    case DecodingError.valueNotFound(let type, let context):
        return ConfigProblem(path: renderPath(context.codingPath), message: "expected \(describeExpected(type)), found nothing")
    case DecodingError.dataCorrupted(let context):
        if let underlying = context.underlyingError {
            return configProblem(from: underlying)
        }
        return ConfigProblem(path: renderPath(context.codingPath), message: context.debugDescription)
    case let yaml as YamlError:
        return ConfigProblem(path: "", message: describeYamlError(yaml))
    default:
        return ConfigProblem(path: "", message: String(describing: error))
    }
}

/// What a type mismatch expected, in the words of the file rather than Swift's.
private func describeExpected(_ type: Any.Type) -> String {
    let name = String(describing: type)
    switch type {
    case is Bool.Type: return "true or false"
    case is Double.Type, is Float.Type: return "a number"
    case is UInt64.Type, is UInt.Type, is UInt32.Type: return "a non-negative integer"
    case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
    case is String.Type: return "a string"
    default:
        if name.contains("Mapping") || name.hasPrefix("Dictionary") { return "a mapping (key: value)" }
        if name.contains("Sequence") || name.hasPrefix("Array") { return "a list" }
        if name.contains("Scalar") { return "a single value, not a list or mapping" }
        return "a value of type \(name)"
    }
}

/// YAML syntax errors on one line with their position (`line 3, column 7: ...`).
private func describeYamlError(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
         .composer(_, let problem, let mark, _):
        return "invalid YAML at line \(mark.line), column \(mark.column): \(problem)"
    case .duplicatedKeysInMapping(let duplicates, let context):
        return "invalid YAML at line \(context.mark.line), column \(context.mark.column): "
            + "duplicate key \(duplicates.joined(separator: ", "))"
    case .reader(let problem, _, _, _):
        return "invalid YAML: \(problem)"
    default:
        return "invalid YAML: " + String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}
