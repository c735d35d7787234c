import Foundation
import PostgresNIO

/// Collects the parameters of one statement and hands out their `$n` placeholders, so generated SQL is
/// built with every value bound, never spliced into the text.
public struct SQLBinds: Sendable {
    public private(set) var bindings = PostgresBindings()

    public init() {}

    /// Binds a value and returns its placeholder.
    public mutating func add<Value: PostgresNonThrowingEncodable>(_ value: Value) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    public mutating func add<Value: PostgresNonThrowingEncodable>(_ value: Value?) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    public mutating func add<Value: PostgresEncodable>(_ value: Value) throws -> String {
        try bindings.append(value)
        return "$\(bindings.count)"
    }

    public mutating func add<Value: PostgresEncodable>(_ value: Value?) throws -> String {
        try bindings.append(value)
        return "$\(bindings.count)"
    }

    /// A schema enum, stored as its raw text.
    public mutating func add<Value: RawRepresentable>(enumValue value: Value?) -> String where Value.RawValue == String {
        bindings.append(value?.rawValue)
        return "$\(bindings.count)"
    }

    /// A `json` value, bound as text and cast to jsonb by the caller's SQL.
    public mutating func add<Value: Encodable>(json value: Value?) throws -> String {
        let text = try value.map { String(decoding: try SQLBinds.jsonEncoder.encode($0), as: UTF8.self) }
        bindings.append(text)
        return "$\(bindings.count)"
    }

    public func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
