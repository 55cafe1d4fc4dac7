import Foundation

/// A duration written in the configuration file as a string such as `"500ms"`,
/// `"30s"`, `"5m"` or `"1h"` (SPEC §3).
///
/// Durations are stored as whole milliseconds: that is the finest unit the file
/// can express, it keeps equality and the config fingerprint exact (no floating
/// point), and every consumer (timers, poll timeouts) works in milliseconds or
/// converts losslessly to `Duration`.
///
/// Bare numbers are refused on purpose: `interval: 30` could mean seconds or
/// milliseconds, and a silent guess is exactly the kind of typo SPEC §3 wants
/// caught.
public struct ConfigDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in milliseconds (never negative).
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        precondition(milliseconds >= 0, "a ConfigDuration is never negative")
        self.milliseconds = milliseconds
    }

    public static func milliseconds(_ value: Int64) -> ConfigDuration { .init(milliseconds: value) }
    public static func seconds(_ value: Int64) -> ConfigDuration { .init(milliseconds: value * 1_000) }
    public static func minutes(_ value: Int64) -> ConfigDuration { .init(milliseconds: value * 60_000) }
    public static func hours(_ value: Int64) -> ConfigDuration { .init(milliseconds: value * 3_600_000) }

    /// The same length as a Swift `Duration`, for clocks and `Task.sleep`.
    public var duration: Duration { .milliseconds(milliseconds) }

    /// The length in (fractional) seconds, for logs and arithmetic.
    public var seconds: Double { Double(milliseconds) / 1_000 }

    /// The units accepted after the number, with their length in milliseconds.
    /// Longer suffixes first so that `ms` is not read as `m` followed by junk.
    static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000),
    ]

    /// Parses `"<number><unit>"`; the number may have a fractional part
    /// (`"1.5s"`) as long as the result is a whole number of milliseconds.
    /// Returns a readable reason on failure, used verbatim in config problems.
    public static func parse(_ text: String) -> Result<ConfigDuration, DurationParseError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = units.first(where: { trimmed.hasSuffix($0.suffix) }) else {
            return .failure(.init(text: text))
        }
        let number = trimmed.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2,
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return .failure(.init(text: text)) }

        // Exact decimal arithmetic: whole part and fraction separately, so
        // "0.1s" is exactly 100 ms and overflow is detected.
        guard let whole = Int64(parts[0]) else { return .failure(.init(text: text)) }
        var (total, overflow) = whole.multipliedReportingOverflow(by: unit.milliseconds)
        if overflow { return .failure(.init(text: text)) }
        if parts.count == 2 {
            var scale: Int64 = 1
            var fraction: Int64 = 0
            for digit in parts[1] {
                guard scale < 1_000_000_000_000 else { return .failure(.init(text: text)) }
                scale *= 10
                fraction = fraction * 10 + Int64(digit.wholeNumberValue!)
            }
            let scaled = fraction * unit.milliseconds
            guard scaled % scale == 0 else {
                return .failure(.init(text: text, reason: "must be a whole number of milliseconds"))
            }
            (total, overflow) = total.addingReportingOverflow(scaled / scale)
            if overflow { return .failure(.init(text: text)) }
        }
        return .success(.init(milliseconds: total))
    }

    /// The shortest exact rendering in the file's own syntax (`"90s"`, `"5m"`),
    /// so that logs and `check-config` show durations the way users write them.
    public var description: String {
        for unit in Self.units.reversed() where unit.milliseconds > 1 && milliseconds % unit.milliseconds == 0 && milliseconds > 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }
}

/// Why a duration string was refused; its description is the message part of a
/// config problem (`checkpoint.interval: expected a duration like "30s" ...`).
public struct DurationParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    init(text: String, reason: String? = nil) {
        self.text = text
        self.reason = reason ?? "expected a duration like \"500ms\", \"30s\", \"5m\" or \"1h\""
    }

    public var description: String { "\(reason) (got \"\(text)\")" }
}

extension ConfigDuration: Decodable {
    /// Decodes from a string only. YAML scalars such as `30` would decode as the
    /// string "30"; they fail here because they lack a unit.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch ConfigDuration.parse(text) {
        case .success(let value):
            self = value
        case .failure(let error):
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }
}
