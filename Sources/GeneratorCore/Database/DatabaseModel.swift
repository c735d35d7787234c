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
        /// UPDATE and DELETE refused by a trigger (`append_only:`); written to a snapshot only when true, so the
        /// snapshots of the tables without it (and those written before it existed) read the same.
        public var appendOnly: Bool = false
        /// The input rules of the columns the API writes (`min`, `format`, `range`, no control characters); written
        /// to a snapshot only when there are any.
        public var rules: [RuleCheck] = []
        /// `at_least_one:`: a row matching `predicate` survives every update and delete; written only when declared.
        public var atLeastOne: AtLeastOne?

        public func column(named name: String) -> Column? { columns.first { $0.name == name } }

        enum CodingKeys: String, CodingKey { case name, columns, primaryKey, foreignKeys, uniqueConstraints, checks, indexes, appendOnly, rules, atLeastOne }

        public init(name: String, columns: [Column], primaryKey: [String], foreignKeys: [ForeignKey], uniqueConstraints: [UniqueConstraint],
                    checks: [ValueCheck], indexes: [Index], appendOnly: Bool = false, rules: [RuleCheck] = [], atLeastOne: AtLeastOne? = nil) {
            self.atLeastOne = atLeastOne
            self.name = name
            self.columns = columns
            self.primaryKey = primaryKey
            self.foreignKeys = foreignKeys
            self.uniqueConstraints = uniqueConstraints
            self.checks = checks
            self.indexes = indexes
            self.appendOnly = appendOnly
            self.rules = rules
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try container.decode(String.self, forKey: .name), columns: try container.decode([Column].self, forKey: .columns),
                      primaryKey: try container.decode([String].self, forKey: .primaryKey),
                      foreignKeys: try container.decode([ForeignKey].self, forKey: .foreignKeys),
                      uniqueConstraints: try container.decode([UniqueConstraint].self, forKey: .uniqueConstraints),
                      checks: try container.decode([ValueCheck].self, forKey: .checks), indexes: try container.decode([Index].self, forKey: .indexes),
                      appendOnly: try container.decodeIfPresent(Bool.self, forKey: .appendOnly) ?? false,
                      rules: try container.decodeIfPresent([RuleCheck].self, forKey: .rules) ?? [],
                      atLeastOne: try container.decodeIfPresent(AtLeastOne.self, forKey: .atLeastOne))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(columns, forKey: .columns)
            try container.encode(primaryKey, forKey: .primaryKey)
            try container.encode(foreignKeys, forKey: .foreignKeys)
            try container.encode(uniqueConstraints, forKey: .uniqueConstraints)
            try container.encode(checks, forKey: .checks)
            try container.encode(indexes, forKey: .indexes)
            if appendOnly { try container.encode(appendOnly, forKey: .appendOnly) }
            if !rules.isEmpty { try container.encode(rules, forKey: .rules) }
            try container.encodeIfPresent(atLeastOne, forKey: .atLeastOne)
        }
    }

    /// The trigger of `at_least_one:`: its SQL condition, and the code and message of the refusal.
    public struct AtLeastOne: Codable, Hashable, Sendable {
        public var predicate: String
        public var code: String
        public var message: String
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
        /// The enum's `renamed:` (old value -> new): the migration that drops an old value rewrites its rows. Not
        /// part of a snapshot nor of equality: only the allowed values are the stored shape.
        public var renamedValues: [String: String] = [:]

        public init(name: String, column: String, allowedValues: [String], renamedValues: [String: String] = [:]) {
            self.name = name
            self.column = column
            self.allowedValues = allowedValues
            self.renamedValues = renamedValues
        }

        enum CodingKeys: String, CodingKey { case name, column, allowedValues }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.name == rhs.name && lhs.column == rhs.column && lhs.allowedValues == rhs.allowedValues
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(column)
            hasher.combine(allowedValues)
        }
    }

    /// `CHECK (<expression>)` of one column's input rules, e.g. `port BETWEEN 1 AND 65535`.
    public struct RuleCheck: Codable, Hashable, Sendable {
        public var name: String
        public var column: String
        public var expression: String
    }

    public struct Index: Codable, Hashable, Sendable {
        public var name: String
        public var columns: [String]
        /// Partial index predicate, e.g. `published_at IS NULL`.
        public var predicate: String?
    }
}
