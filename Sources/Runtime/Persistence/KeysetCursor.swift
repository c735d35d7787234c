import Foundation
import StamCore

/// The position after the last row of a page: the sort key (as PostgreSQL printed it, so it parses back
/// exactly, microseconds included) and the row id that breaks ties. Bound to the sort it was made for, so
/// a cursor from another sort or direction is refused instead of silently skipping rows.
public struct KeysetCursor: Sendable, Hashable, Codable {
    /// `table:sort:direction`.
    public var sort: String
    /// The sort key as text (for a null value, the stand-in the key expression uses).
    public var key: String
    /// The sort column was null (nulls sort last ascending, first descending).
    public var isNull: Bool
    /// The primary key as text.
    public var id: String

    public init(sort: String, key: String, isNull: Bool, id: String) {
        self.sort = sort
        self.key = key
        self.isNull = isNull
        self.id = id
    }

    /// URL-safe base64 of the JSON form (written by `JSONWriter`: a `JSONEncoder` per page showed in the API's
    /// profile; `init(decoding:sort:)` reads either).
    public var encoded: String {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.key("id")
        writer.value(id)
        writer.key("isNull")
        writer.value(isNull)
        writer.key("key")
        writer.value(key)
        writer.key("sort")
        writer.value(sort)
        writer.endObject()
        return Base64URL.encode(Data(writer.bytes))
    }

    /// Decodes a cursor and checks it belongs to `sort`.
    public init(decoding text: String, sort: String) throws {
        guard text.count <= 4096, let data = Base64URL.decode(text),
              let cursor = try? JSONDecoder().decode(KeysetCursor.self, from: data) else {
            throw RepositoryError(code: .invalidCursor, message: "the page cursor is not one this server issued")
        }
        guard cursor.sort == sort else {
            throw RepositoryError(code: .invalidCursor, message: "the page cursor was issued for another sort (\(cursor.sort)); start again without it")
        }
        self = cursor
    }
}

/// Sort direction of a list.
public enum SortDirection: String, Sendable, Hashable, Codable, CaseIterable {
    case ascending = "asc"
    case descending = "desc"

    public var sql: String { self == .ascending ? "ASC" : "DESC" }
    /// The row comparison that selects rows after the cursor.
    public var after: String { self == .ascending ? ">" : "<" }
}
