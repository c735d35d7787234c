/// PostgreSQL's reserved key words (those marked "reserved" for PostgreSQL in the SQL Key Words appendix):
/// a table or column with one of these names needs quoting in every query, so the schema refuses them.
public enum SQLReservedWords {
    static let words: Set<String> = [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
        "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
        "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having",
        "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading",
        "left", "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset",
        "on", "only", "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning",
        "right", "select", "session_user", "similar", "some", "symmetric", "system_user", "table",
        "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic",
        "verbose", "when", "where", "window", "with",
    ]

    public static func contains(_ name: String) -> Bool { words.contains(name.lowercased()) }
}

/// Type names that generated code uses unqualified; a schema type with one of these names would hide it.
enum SwiftReservedTypeNames {
    static let names: Set<String> = [
        "Any", "Bool", "Codable", "Data", "Date", "Decimal", "Double", "Entity", "Error", "Float", "Hashable",
        "Int", "Int32", "Int64", "JSONValue", "Never", "Optional", "Result", "Secret", "Self", "Sendable",
        "String", "Type", "UUID", "OutboxEvent",
    ]

    static func contains(_ name: String) -> Bool { names.contains(name) }
}
