import Foundation
import StamCore

extension SecretBox {
    /// The authenticated place of a secret column value: binds the ciphertext to its table, column and row.
    public static func place(table: String, column: String, rowId: String) -> String { "\(table).\(column)/\(rowId)" }

    /// Seals a model's secret for storage (nil stays NULL).
    public func seal(_ secret: Secret?, table: String, column: String, rowId: String) throws -> Data? {
        try secret.map { try seal($0.revealed, place: Self.place(table: table, column: column, rowId: rowId)) }
    }

    public func seal(_ secret: Secret, table: String, column: String, rowId: String) throws -> Data {
        try seal(secret.revealed, place: Self.place(table: table, column: column, rowId: rowId))
    }

    public func open(_ sealed: Data, table: String, column: String, rowId: String) throws -> Secret {
        Secret(try open(sealed, place: Self.place(table: table, column: column, rowId: rowId)))
    }

    /// Opens a stored secret column (NULL stays nil).
    public func open(_ sealed: Data?, table: String, column: String, rowId: String) throws -> Secret? {
        try sealed.map { Secret(try open($0, place: Self.place(table: table, column: column, rowId: rowId))) }
    }
}
