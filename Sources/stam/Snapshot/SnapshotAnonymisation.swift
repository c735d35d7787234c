import Foundation
import StamCore

/// The SQL that turns a private copy of production into STAGE's data: every column the schema marks `personal:`
/// (`StamSchema.personalColumns`) gets a replacement derived from HMAC-SHA256(key, kind ‖ value), so the same
/// value of the same kind becomes the same replacement everywhere (an SMS sender still matches its panel's
/// number; two contacts with one phone still share it) and a second run with the same key writes the same bytes.
/// Keys and foreign keys are not touched. The outbox and the consumers' record of processed messages are emptied:
/// their payloads are events, which carry personal values outside any column.
///
/// Runs as the superuser of the private server with `session_replication_role = replica`, which keeps the
/// append-only tables' triggers from refusing the UPDATE (those triggers guard production, not this copy).
struct SnapshotAnonymisation {
    let columns: [PersonalColumn]
    static let emptiedTables = ["outbox", "processed_messages"]
    /// Holds pgcrypto, the replacement functions and the original values for the check; dropped before the dump.
    static let workSchema = "stam_snapshot"

    /// Installs the functions (the key is in their bodies: the file holding this SQL is private to the run) and
    /// keeps every original value the check must not find again.
    func preparation(keyHex: String) -> String {
        let schema = Self.workSchema
        var sql = """
            CREATE SCHEMA \(schema);
            CREATE EXTENSION pgcrypto WITH SCHEMA \(schema);
            CREATE FUNCTION \(schema).keyed(kind text, value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
              SELECT encode(\(schema).hmac(convert_to(kind || ':' || value, 'UTF8'), decode('\(keyHex)', 'hex'), 'sha256'), 'hex') $$;
            -- Nine digits from the number's last nine (what the SMS attribution compares), +48 before them.
            CREATE FUNCTION \(schema).phone(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
              SELECT '+48' || lpad(((('x' || substr(\(schema).keyed('phone',
                coalesce(nullif(right(regexp_replace(value, '[^0-9]', '', 'g'), 9), ''), value)), 1, 15))::bit(60)::bigint % 1000000000))::text, 9, '0') $$;
            CREATE FUNCTION \(schema).ip(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
              SELECT '198.51.100.' || (('x' || substr(\(schema).keyed('ip', value), 1, 2))::bit(8)::int % 254 + 1)::text $$;
            CREATE TABLE \(schema).originals (value text PRIMARY KEY);

            """
        let kept = columns.filter { $0.storage == .text }
        if !kept.isEmpty {
            let selects = kept.map { "SELECT \(quoted($0.column))::text FROM \(quoted($0.table)) WHERE \(quoted($0.column)) IS NOT NULL" }
            sql += "INSERT INTO \(schema).originals SELECT DISTINCT value FROM (\n  "
                + selects.joined(separator: "\n  UNION ALL ") + "\n) AS every(value);\n"
        }
        return sql
    }

    /// One UPDATE per table, then the emptied tables; inside one transaction.
    func anonymisation() -> String {
        var sql = "SET session_replication_role = replica;\n"
        for table in tables {
            let assignments = columns.filter { $0.table == table }.map { "\(quoted($0.column)) = \(replacement(of: $0))" }
            sql += "UPDATE \(quoted(table)) SET \(assignments.joined(separator: ", "));\n"
        }
        for table in Self.emptiedTables { sql += "DELETE FROM \(quoted(table));\n" }
        return sql
    }

    /// One row per column (`table.column`) that still holds an original value or something that should be null,
    /// and per emptied table that is not empty: nothing at all when the copy is clean.
    func verification() -> String {
        var checks = columns.map { column -> String in
            let name = "'\(column.table).\(column.column)'"
            let stillThere = switch replacementRule(of: column) {
            case .derived: "\(quoted(column.column))::text IN (SELECT value FROM \(Self.workSchema).originals)"
            case .null: "\(quoted(column.column)) IS NOT NULL"
            case .emptyDocument: "\(quoted(column.column)) IS DISTINCT FROM '{}'::jsonb"
            }
            return "SELECT \(name) WHERE EXISTS (SELECT 1 FROM \(quoted(column.table)) WHERE \(stillThere))"
        }
        checks += Self.emptiedTables.map { "SELECT '\($0)' WHERE EXISTS (SELECT 1 FROM \(quoted($0)))" }
        return checks.joined(separator: "\nUNION ALL ") + ";\n"
    }

    /// Removes everything `preparation` made: the dump must hold neither the key nor an original value.
    func cleanup() -> String { "DROP SCHEMA \(Self.workSchema) CASCADE;\n" }

    var tables: [String] {
        var seen = Set<String>()
        return columns.map(\.table).filter { seen.insert($0).inserted }
    }

    enum Rule { case derived, null, emptyDocument }

    func replacementRule(of column: PersonalColumn) -> Rule {
        switch (column.kind, column.storage) {
        case (.secret, _), (.host, _), (_, .bytea): .null
        case (.json, _), (_, .json), (_, .jsonb): column.optional ? .null : .emptyDocument
        default: .derived
        }
    }

    func replacement(of column: PersonalColumn) -> String {
        switch replacementRule(of: column) {
        case .null: return "NULL"
        case .emptyDocument: return "'{}'::jsonb"
        case .derived: break
        }
        let value = "\(quoted(column.column))::text"
        let schema = Self.workSchema
        let expression = switch column.kind {
        case .phone: "\(schema).phone(\(value))"
        case .ip: "\(schema).ip(\(value))"
        case .name: "'name-' || left(\(schema).keyed('name', \(value)), 12)"
        case .address: "'address-' || left(\(schema).keyed('address', \(value)), 12)"
        case .login: "'user-' || left(\(schema).keyed('login', \(value)), 12)"
        case .text, .secret, .host, .json: "'text-' || left(\(schema).keyed('text', \(value)), 16)"
        }
        return column.maxLength.map { "left(\(expression), \($0))" } ?? expression
    }

    private func quoted(_ identifier: String) -> String { "\"\(identifier.replacingOccurrences(of: "\"", with: "\"\""))\"" }
}
