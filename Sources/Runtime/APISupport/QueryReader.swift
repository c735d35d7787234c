import Foundation
import Hummingbird
import Persistence

/// Reads list parameters and filters from the query string, with a 422 naming the parameter when one is bad.
public struct QueryReader {
    private let parameters: Parameters
    public private(set) var errors: [APIError.FieldError] = []

    public init(_ request: Request) { parameters = request.uri.queryParameters }

    public func finish() throws {
        if !errors.isEmpty { throw APIError.invalid(errors) }
    }

    private mutating func value<Value>(_ name: String, expected: String, _ convert: (String) -> Value?) -> Value? {
        guard let text = parameters.get(name) else { return nil }
        guard let value = convert(text) else {
            errors.append(.init(field: name, message: "must be \(expected)"))
            return nil
        }
        return value
    }

    public mutating func string(_ name: String) -> String? { value(name, expected: "text") { $0 } }
    /// A text filter no longer than the field can hold (the document's maxLength; code points, as it counts).
    public mutating func string(_ name: String, max: Int) -> String? {
        value(name, expected: "text of at most \(max) characters") { $0.unicodeScalars.count <= max ? $0 : nil }
    }
    /// An int32, as the column and the document's `format: int32` hold.
    public mutating func int(_ name: String) -> Int? {
        value(name, expected: "an integer from -2147483648 to 2147483647") { Int32($0).map(Int.init) }
    }
    /// An int within the field's declared range (a filter outside it can match nothing: refused, not an empty page).
    public mutating func int(_ name: String, range: ClosedRange<Int>) -> Int? {
        value(name, expected: "an integer from \(range.lowerBound) to \(range.upperBound)") { Int($0).flatMap { range.contains($0) ? $0 : nil } }
    }
    public mutating func int64(_ name: String) -> Int64? { value(name, expected: "an integer") { Int64($0) } }
    public mutating func int64(_ name: String, range: ClosedRange<Int>) -> Int64? {
        value(name, expected: "an integer from \(range.lowerBound) to \(range.upperBound)") {
            Int64($0).flatMap { range.contains(Int($0)) ? $0 : nil }
        }
    }
    public mutating func double(_ name: String) -> Double? { value(name, expected: "a number") { Double($0) } }
    public mutating func decimal(_ name: String) -> Decimal? { value(name, expected: "a number") { Decimal(string: $0) } }
    public mutating func uuid(_ name: String) -> UUID? { value(name, expected: "a UUID") { UUID(uuidString: $0) } }
    public mutating func date(_ name: String) -> Date? { value(name, expected: "an ISO 8601 date-time") { APICoding.parseDate($0) } }
    public mutating func bool(_ name: String) -> Bool? {
        value(name, expected: "true or false") { $0 == "true" ? true : $0 == "false" ? false : nil }
    }
    public mutating func enumeration<Value: RawRepresentable & CaseIterable>(_ name: String, _ type: Value.Type) -> Value?
    where Value.RawValue == String {
        value(name, expected: "one of: \(Value.allCases.map(\.rawValue).joined(separator: ", "))") { Value(rawValue: $0) }
    }

    /// `limit` (1...500, default 50), `after` (a cursor; empty, like absent, asks for the first page: a form or a
    /// client that always sends the parameter), `sort` (one of the entity's sorts), `direction`.
    public mutating func page<Sort: RawRepresentable & CaseIterable>(defaultSort: Sort) -> (sort: Sort, direction: SortDirection, after: String?, limit: Int)
    where Sort.RawValue == String {
        let limit = value("limit", expected: "an integer from 1 to 500") { Int($0).flatMap { (1...500).contains($0) ? $0 : nil } } ?? 50
        let sort = enumeration("sort", Sort.self) ?? defaultSort
        let direction = enumeration("direction", SortDirection.self) ?? .ascending
        return (sort, direction, string("after").flatMap { $0.isEmpty ? nil : $0 }, limit)
    }
}
