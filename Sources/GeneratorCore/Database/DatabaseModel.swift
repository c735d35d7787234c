/// The tables the schema needs, as PostgreSQL sees them. Migrations are the difference between two of
/// these: the one committed in `migrations/schema.snapshot.json` (as of the last migration) and the one the
/// current schema produces. Every list is in a stable order so the snapshot is byte-identical across runs.
public struct DatabaseModel: Codable, Hashable, Sendable {
    public var tables: [Table]

    public init(tables: [Table]) { self.tables = tables.sorted { $0.name < $1.name } }

    public func table(named name: String) -> Table? { tables.first { $0.name == name } }

    public struct Table: Codable, Hashable, Sendable {
        public var name: String
        public var columns: [Column]
        public var primaryKey: [String]
        public var foreignKeys: [ForeignKey]
        public var uniqueConstraints: [UniqueConstraint]
        public var checks: [ValueCheck]
        public var indexes: [Index]

        public func column(named name: String) -> Column? { columns.first { $0.name == name } }
    }

    public struct Column: Codable, Hashable, Sendable {
        public var name: String
        /// `uuid`, `varchar(200)`, `text`, `integer`, `bigint`, `timestamptz`, `jsonb`, `bytea`, ...
        public var type: String
        public var nullable: Bool
        /// SQL expression, e.g. `now()`, `'new'`, `7094`.
        public var defaultExpression: String?
    }

    public struct ForeignKey: Codable, Hashable, Sendable {
        public var name: String
        public var columns: [String]
        public var referencedTable: String
        public var referencedColumns: [String]
        /// `RESTRICT`, `CASCADE`, `SET NULL`, `NO ACTION`.
        public var onDelete: String
    }

    public struct UniqueConstraint: Codable, Hashable, Sendable {
        public var name: String
        public var columns: [String]
    }

    /// `CHECK (column IN (...))`: how schema enums are stored. Kept as data (not an expression) so a
    /// migration can tell a widening (values added) from a narrowing (values removed).
    public struct ValueCheck: Codable, Hashable, Sendable {
        public var name: String
        public var column: String
        public var allowedValues: [String]
    }

    public struct Index: Codable, Hashable, Sendable {
        public var name: String
        public var columns: [String]
        /// Partial index predicate, e.g. `published_at IS NULL`.
        public var predicate: String?
    }
}
