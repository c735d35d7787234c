import Foundation
import PostgresNIO

/// Reads the columns of one result row in order, naming the column in every decoding error, for the
/// generated repositories. Columns are read by position: the generated SELECT lists them in schema order.
/// `@inlinable` so each generated `decode` specializes the reads for its column types (unspecialized, the
/// generic decoding path was a tenth of the API's list route in a profile).
public struct RowReader {
    @usableFromInline let row: PostgresRandomAccessRow
    @usableFromInline var index = 0
    @usableFromInline let table: String

    public init(_ row: PostgresRow, table: String) {
        self.row = row.makeRandomAccess()
        self.table = table
    }

    @inlinable mutating func nextCell() -> PostgresCell {
        defer { index += 1 }
        return row[index]
    }

    @inlinable public mutating func read<Value: PostgresDecodable>(_ type: Value.Type = Value.self) throws -> Value {
        let cell = nextCell()
        do {
            return try cell.decode(Value.self)
        } catch {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(cell.columnName): cannot read as \(Value.self): \(error)")
        }
    }

    @inlinable public mutating func readOptional<Value: PostgresDecodable>(_ type: Value.Type = Value.self) throws -> Value? {
        let cell = nextCell()
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(Value.self)
        } catch {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(cell.columnName): cannot read as \(Value.self): \(error)")
        }
    }

    /// A schema enum stored as text; a value this build does not know is an error, not a crash.
    @inlinable public mutating func readEnum<Value: RawRepresentable>(_ type: Value.Type = Value.self) throws -> Value where Value.RawValue == String {
        guard let value = try readOptionalEnum(Value.self) else {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(row[index - 1].columnName): null in a required column")
        }
        return value
    }

    @inlinable public mutating func readOptionalEnum<Value: RawRepresentable>(_ type: Value.Type = Value.self) throws -> Value? where Value.RawValue == String {
        guard let text = try readOptional(String.self) else { return nil }
        guard let value = Value(rawValue: text) else {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(row[index - 1].columnName): '\(text)' is not a \(Value.self) this build knows")
        }
        return value
    }

    /// A jsonb column the SELECT cast to text.
    public mutating func readJSON<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        guard let value = try readOptionalJSON(Value.self) else {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(row[index - 1].columnName): null in a required column")
        }
        return value
    }

    public mutating func readOptionalJSON<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value? {
        guard let text = try readOptional(String.self) else { return nil }
        do {
            return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw RepositoryError(code: .invalidStoredValue, message: "\(table).\(row[index - 1].columnName): stored JSON does not decode: \(error)")
        }
    }
}
