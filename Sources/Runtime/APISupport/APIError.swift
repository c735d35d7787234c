import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO

/// An error the API answers with: a status and a JSON body
/// `{"error": {"code": ..., "message": ..., "fields": [{"field": ..., "message": ...}]}}`.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    public struct FieldError: Codable, Sendable, Hashable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var fields: [FieldError]
    public var headers: HTTPFields

    public init(status: HTTPResponse.Status, code: String, message: String, fields: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }

    public static func invalid(_ fields: [FieldError]) -> APIError {
        APIError(status: .unprocessableContent, code: "invalid", message: "the request has invalid fields", fields: fields)
    }

    public static func invalid(field: String, _ message: String) -> APIError { invalid([FieldError(field: field, message: message)]) }

    /// A well-formed id that names no row the request may use: 409, as `from(database:)` answers a foreign key
    /// that finds no row (the value is well-formed; the row is not there).
    public static func missingReference(field: String, _ message: String) -> APIError {
        APIError(status: .conflict, code: "missing_reference", message: message, fields: [FieldError(field: field, message: message)])
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var fields: [FieldError]?
        }
        var error: Inner
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try body())))
    }

    /// The JSON body, also for answers written below the router (`FirstRequestGuard`).
    public func body() throws -> Data {
        try APICoding.encoder.encode(Body(error: .init(code: code, message: message, fields: fields.isEmpty ? nil : fields)))
    }

    /// Maps the database errors a request can cause to answers: a missing referenced row is the caller's
    /// mistake (422), a duplicate or a row still referenced is a conflict (409). Anything else is rethrown.
    public static func from(database error: PSQLError, table: String) -> APIError? {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return nil }
        let constraint = error.serverInfo?[.constraintName] ?? ""
        switch state {
        case "23503":
            if error.serverInfo?[.tableName] == table {
                // 409, not 422: the value is well-formed; the row it names is not there (deleted meanwhile, or
                // never made), a conflict with the current state like its mirror, "still_referenced".
                return APIError(status: .conflict, code: "missing_reference", message: "a row it refers to does not exist",
                                fields: [FieldError(field: Self.column(of: constraint, table: table, suffix: "_fkey"),
                                                    message: "refers to a row that does not exist")])
            }
            return APIError(status: .conflict, code: "still_referenced", message: "other rows still refer to this \(table) row (\(constraint))")
        case "23505":
            return APIError(status: .conflict, code: "duplicate", message: "a \(table) row with this value already exists",
                            fields: [FieldError(field: Self.column(of: constraint, table: table, suffix: "_key"), message: "must be unique")])
        case "23514" where !constraint.isEmpty && !constraint.hasSuffix("_rule") && !constraint.hasSuffix("_check"):
            // A schema `at_least_one:` trigger refused the write; its constraint name is the code the schema chose.
            return APIError(status: .conflict, code: constraint, message: error.serverInfo?[.message] ?? "the write would leave none of a required row")
        case "23514", "22001", "22003":
            // `<table>_<column>_check` (an enum's values) or `<table>_<column>_rule` (the schema's input rules).
            let suffix = constraint.hasSuffix("_rule") ? "_rule" : "_check"
            return invalid(field: Self.column(of: constraint, table: table, suffix: suffix),
                           suffix == "_rule" ? "breaks the field's rules (schema/entities.yaml)" : "is out of range")
        case "40P01", "40001":
            // A deadlock or a serialization failure with another writer: nothing was written; sending it again works.
            return APIError(status: .serviceUnavailable, code: "retry", message: "another change to the same rows was under way; nothing was written, send it again")
        default:
            return nil
        }
    }

    /// `panels_site_id_fkey` -> `site_id` (the constraint names the generator gives).
    static func column(of constraint: String, table: String, suffix: String) -> String {
        var name = Substring(constraint)
        if name.hasPrefix(table + "_") { name = name.dropFirst(table.count + 1) }
        if name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
        return String(name)
    }
}
