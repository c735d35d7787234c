import Foundation
import StamCore

/// Reads and validates a JSON object request body field by field, collecting every problem so one 422 names
/// all bad fields at once. Each accessor returns `nil` when the field is absent (or invalid: recorded),
/// `.some(nil)` for an explicit `null` on an optional field, and `.some(value)` otherwise.
public struct JSONObjectReader {
    public private(set) var errors: [APIError.FieldError] = []
    private let object: [String: JSONValue]

    /// Parses `body`; refuses anything but a JSON object and any field not in `allowed`.
    public init(body: Data, allowed: Set<String>) throws {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body), case .object(let object) = value else {
            throw APIError(status: .badRequest, code: "malformed_body", message: "the body must be a JSON object")
        }
        self.object = object
        for key in object.keys.sorted() where !allowed.contains(key) {
            errors.append(.init(field: key, message: "is not a writable field (writable: \(allowed.sorted().joined(separator: ", ")))"))
        }
    }

    /// Throws the 422 when any field was bad.
    public func finish() throws {
        if !errors.isEmpty { throw APIError.invalid(errors) }
    }

    public mutating func fail(_ field: String, _ message: String) { errors.append(.init(field: field, message: message)) }

    /// Records a missing required field.
    public mutating func require<Value>(_ field: String, _ value: Value??) {
        if value == nil, object[field] == nil { fail(field, "is required") }
    }

    private mutating func raw(_ field: String, optional: Bool) -> JSONValue?? {
        guard let value = object[field] else { return nil }
        if case .null = value {
            if optional { return .some(nil) }
            fail(field, "may not be null")
            return nil
        }
        return .some(value)
    }

    private mutating func read<Value>(_ field: String, optional: Bool, expected: String, _ convert: (JSONValue) -> Value?) -> Value?? {
        guard let value = raw(field, optional: optional) else { return nil }
        guard let value else { return .some(nil) }
        guard let converted = convert(value) else {
            fail(field, "must be \(expected)")
            return nil
        }
        return .some(converted)
    }

    /// A string within `min...max` characters, matching `format`, without control characters (`lineBreaks`:
    /// tab, line feed and carriage return allowed, as in a `text` field); the schema's rules of the field, which
    /// the database checks too.
    public mutating func string(_ field: String, max: Int?, min: Int = 0, format: TextFormat? = nil, lineBreaks: Bool = true,
                                optional: Bool) -> String?? {
        let value = read(field, optional: optional, expected: "a string") { if case .string(let text) = $0 { text } else { nil } }
        guard case let text?? = value else { return value }
        // Characters as JSON Schema's maxLength and PostgreSQL's char_length count them: code points (Swift's
        // `count` counts grapheme clusters, so "e" + a combining accent would be one).
        let length = text.unicodeScalars.count
        if let max, length > max {
            fail(field, "must be at most \(max) characters (got \(length))")
            return nil
        }
        if length < min {
            fail(field, min == 1 ? "must not be empty" : "must be at least \(min) characters (got \(length))")
            return nil
        }
        if ControlCharacters.contains(in: text, lineBreaks: lineBreaks) {
            fail(field, lineBreaks ? "must not contain control characters other than tab and line breaks" : "must not contain control characters or line breaks")
            return nil
        }
        if let format, !format.matches(text) {
            fail(field, "must be \(format.explanation)")
            return nil
        }
        return value
    }

    /// An int32, within `range` when the schema declares one (the database checks it too).
    public mutating func int(_ field: String, range: ClosedRange<Int>? = nil, optional: Bool) -> Int?? {
        let value = read(field, optional: optional, expected: "an integer from -2147483648 to 2147483647") {
            if case .number(let number) = $0, number.rounded() == number, abs(number) <= 2_147_483_647 { Int(number) } else { nil }
        }
        if case let number?? = value, let range, !range.contains(number) {
            fail(field, "must be from \(range.lowerBound) to \(range.upperBound) (got \(number))")
            return nil
        }
        return value
    }

    public mutating func int64(_ field: String, range: ClosedRange<Int>? = nil, optional: Bool) -> Int64?? {
        let value = read(field, optional: optional, expected: "an integer within ±2^53") {
            if case .number(let number) = $0, number.rounded() == number, abs(number) <= 9_007_199_254_740_992 { Int64(number) } else { nil }
        }
        if case let number?? = value, let range, !range.contains(Int(number)) {
            fail(field, "must be from \(range.lowerBound) to \(range.upperBound) (got \(number))")
            return nil
        }
        return value
    }

    /// A non-empty list of integers within `range` (an action's `list: true` field), returned distinct and sorted:
    /// `[1, 1]` names partition 1 once.
    public mutating func intList(_ field: String, range: ClosedRange<Int>, optional: Bool) -> [Int]?? {
        let expected = "a non-empty list of integers from \(range.lowerBound) to \(range.upperBound)"
        return read(field, optional: optional, expected: expected) { json -> [Int]? in
            guard case .array(let items) = json, !items.isEmpty else { return nil }
            var numbers = Set<Int>()
            for item in items {
                guard case .number(let number) = item, number.rounded() == number, abs(number) <= 2_147_483_647,
                      range.contains(Int(number)) else { return nil }
                numbers.insert(Int(number))
            }
            return numbers.sorted()
        }
    }

    /// A non-empty list of UUIDs (a collection action's rows), returned distinct in the order first given.
    public mutating func uuidList(_ field: String, optional: Bool) -> [UUID]?? {
        read(field, optional: optional, expected: "a non-empty list of UUIDs") { json -> [UUID]? in
            guard case .array(let items) = json, !items.isEmpty else { return nil }
            var ids: [UUID] = []
            var seen = Set<UUID>()
            for item in items {
                guard case .string(let text) = item, let id = UUID(uuidString: text) else { return nil }
                if seen.insert(id).inserted { ids.append(id) }
            }
            return ids
        }
    }

    /// The value of a field read as required, once `finish()` has passed (which it does not when the field was
    /// absent, null or invalid: each of those recorded an error).
    public func value<Value>(_ field: String, _ value: Value??) throws -> Value {
        guard case let value?? = value else { throw APIError.invalid(field: field, "is required") }
        return value
    }

    public mutating func double(_ field: String, optional: Bool) -> Double?? {
        read(field, optional: optional, expected: "a number") { if case .number(let number) = $0 { number } else { nil } }
    }

    public mutating func decimal(_ field: String, optional: Bool) -> Decimal?? {
        read(field, optional: optional, expected: "a number or a decimal string") {
            switch $0 {
            case .number(let number): Decimal(number)
            case .string(let text): Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
            default: nil
            }
        }
    }

    public mutating func bool(_ field: String, optional: Bool) -> Bool?? {
        read(field, optional: optional, expected: "true or false") { if case .bool(let flag) = $0 { flag } else { nil } }
    }

    public mutating func uuid(_ field: String, optional: Bool) -> UUID?? {
        read(field, optional: optional, expected: "a UUID") { if case .string(let text) = $0 { UUID(uuidString: text) } else { nil } }
    }

    public mutating func date(_ field: String, optional: Bool) -> Date?? {
        read(field, optional: optional, expected: "an ISO 8601 date-time") { if case .string(let text) = $0 { APICoding.parseDate(text) } else { nil } }
    }

    public mutating func json(_ field: String, optional: Bool) -> JSONValue?? {
        read(field, optional: optional, expected: "JSON") { $0 }
    }

    public mutating func bytes(_ field: String, optional: Bool) -> Data?? {
        read(field, optional: optional, expected: "base64 text") { if case .string(let text) = $0 { Data(base64Encoded: text) } else { nil } }
    }

    /// Write-only: accepted as text, never echoed.
    public mutating func secret(_ field: String, max: Int?, optional: Bool) -> Secret?? {
        let value = read(field, optional: optional, expected: "a string") { if case .string(let text) = $0 { text } else { nil } }
        if case let text?? = value, let max, text.unicodeScalars.count > max {
            fail(field, "must be at most \(max) characters")
            return nil
        }
        return value.map { $0.map(Secret.init) }
    }

    public mutating func enumeration<Value: RawRepresentable & CaseIterable>(_ field: String, _ type: Value.Type, optional: Bool) -> Value??
    where Value.RawValue == String {
        let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
        return read(field, optional: optional, expected: "one of: \(allowed)") { if case .string(let text) = $0 { Value(rawValue: text) } else { nil } }
    }
}
