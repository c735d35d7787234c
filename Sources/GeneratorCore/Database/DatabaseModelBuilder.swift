import StamCore

/// Schema -> `DatabaseModel`: the SQL shape of every entity, plus the system tables.
public enum DatabaseModelBuilder {
    public static func build(_ schema: Schema) -> DatabaseModel {
        DatabaseModel(tables: schema.entities.map { table(for: $0, in: schema) } + SystemTables.tables)
    }

    static func table(for entity: EntityDeclaration, in schema: Schema) -> DatabaseModel.Table {
        let table = entity.table.value
        var foreignKeys: [DatabaseModel.ForeignKey] = []
        var uniques: [DatabaseModel.UniqueConstraint] = []
        var checks: [DatabaseModel.ValueCheck] = []
        var columns: [DatabaseModel.Column] = []
        for field in entity.fields {
            columns.append(.init(name: field.name, type: sqlType(of: field, in: schema),
                                 nullable: field.optional, defaultExpression: defaultExpression(of: field)))
            switch field.kind {
            case .reference(let target):
                let referenced = schema.entity(named: target.value)
                foreignKeys.append(.init(
                    name: SQLNames.foreignKey(table: table, columns: [field.name]), columns: [field.name],
                    referencedTable: referenced?.table.value ?? Naming.tableName(forEntity: target.value),
                    referencedColumns: [referenced?.primaryKey?.name ?? "id"],
                    onDelete: (field.onDelete?.value ?? .restrict).sql))
            case .enumeration(let name):
                let enumeration = schema.enumeration(named: name.value)
                checks.append(.init(name: SQLNames.check(table: table, column: field.name), column: field.name,
                                    allowedValues: enumeration?.values.map(\.value) ?? [],
                                    renamedValues: Dictionary((enumeration?.renamed ?? []).map { ($0.old.value, $0.new.value) },
                                                              uniquingKeysWith: { first, _ in first })))
            case .scalar:
                break
            }
            if field.unique && !field.primary {
                uniques.append(.init(name: SQLNames.unique(table: table, columns: [field.name]), columns: [field.name]))
            }
        }
        var indexes: [DatabaseModel.Index] = []
        for index in entity.indexes {
            let names = index.columns.map(\.value)
            if index.unique {
                uniques.append(.init(name: SQLNames.unique(table: table, columns: names), columns: names))
            } else {
                indexes.append(.init(name: SQLNames.index(table: table, columns: names), columns: names, predicate: nil))
            }
        }
        // Foreign key columns are indexed unless an index or unique constraint already starts with them:
        // deleting a referenced row otherwise scans the whole referencing table.
        for key in foreignKeys {
            let covered = indexes.contains { $0.columns.first == key.columns[0] }
                || uniques.contains { $0.columns.first == key.columns[0] }
            if !covered {
                indexes.append(.init(name: SQLNames.index(table: table, columns: key.columns), columns: key.columns, predicate: nil))
            }
        }
        return DatabaseModel.Table(
            name: table, columns: columns, primaryKey: entity.primaryKey.map { [$0.name] } ?? [],
            foreignKeys: foreignKeys, uniqueConstraints: uniques, checks: checks, indexes: indexes, appendOnly: entity.appendOnly,
            rules: rules(of: entity), atLeastOne: entity.atLeastOne.map { rule in
                DatabaseModel.AtLeastOne(
                    predicate: rule.conditions.map { "\($0.field.value) = \(SQLNames.literal($0.value.value))" }.joined(separator: " AND "),
                    code: rule.code.value, message: rule.message)
            })
    }

    /// The CHECK constraints of the input rules, for the fields the API writes (the same rules its validation
    /// applies). Columns only the station writes (a panel's zone names, SMS bodies) get none: a rule there would
    /// turn a panel's odd byte into a lost event.
    static func rules(of entity: EntityDeclaration) -> [DatabaseModel.RuleCheck] {
        guard let api = entity.api, api.roles[.create] != nil || api.roles[.update] != nil else { return [] }
        return entity.fields.filter { !$0.readonly && !$0.primary }.compactMap { field in
            let column = field.name
            var parts: [String] = []
            switch field.kind {
            case .scalar(.string), .scalar(.text):
                parts.append("\(column) !~ \(SQLNames.literal(ControlCharacters.sqlClass(lineBreaks: field.kind == .scalar(.text))))")
                if let min = field.minLength?.value, min > 0 { parts.append("char_length(\(column)) >= \(min)") }
                if let format = field.format?.value { parts.append("\(column) ~ \(SQLNames.literal("^(?:\(format.pattern))$"))") }
            case .scalar(.int), .scalar(.bigint):
                if let range = field.range?.value { parts.append("\(column) BETWEEN \(range.lowerBound) AND \(range.upperBound)") }
            default:
                break
            }
            guard !parts.isEmpty else { return nil }
            return .init(name: SQLNames.rule(table: entity.table.value, column: column), column: column, expression: parts.joined(separator: " AND "))
        }
    }

    static func sqlType(of field: FieldDeclaration, in schema: Schema) -> String {
        switch field.kind {
        case .enumeration:
            return "text"
        case .reference(let target):
            let key = schema.entity(named: target.value)?.primaryKey
            return key.map { sqlType(of: $0, in: schema) } ?? "uuid"
        case .scalar(let type):
            switch type {
            case .uuid: return "uuid"
            case .string: return field.maxLength.map { "varchar(\($0.value))" } ?? "text"
            case .text: return "text"
            case .int: return "integer"
            case .bigint: return "bigint"
            case .double: return "double precision"
            case .decimal: return "numeric"
            case .bool: return "boolean"
            case .timestamp: return "timestamptz"
            case .date: return "date"
            case .json: return "jsonb"
            case .bytes: return "bytea"
            // Ciphertext (AES-GCM nonce + sealed box); the key never reaches the database.
            case .secret: return "bytea"
            }
        }
    }

    static func defaultExpression(of field: FieldDeclaration) -> String? {
        guard let value = field.defaultValue?.value else { return nil }
        switch value {
        case .now: return field.kind == .scalar(.date) ? "CURRENT_DATE" : "now()"
        case .random: return "gen_random_uuid()"
        case .literal(let text):
            switch field.kind {
            case .scalar(.int), .scalar(.bigint), .scalar(.double), .scalar(.decimal), .scalar(.bool): return text
            default: return SQLNames.literal(text)
            }
        }
    }
}
