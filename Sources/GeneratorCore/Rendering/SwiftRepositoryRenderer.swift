import Foundation

/// Renders one repository per entity into `Sources/Generated/Repositories` (postgres-nio over the runtime's
/// `Persistence` module) and `Repositories.swift`, which holds them all. Every value is bound, never spliced;
/// identifiers come from the validated schema and are quoted.
///
/// Lists are keyset-paginated over `(sort key, primary key)`: the sort key is the column itself, its rank in
/// the enum's declared order for enums (so `priority` sorts critical first, not alphabetically), and for an
/// optional column `(column IS NULL, COALESCE(column, sentinel))` so NULLs sort last without breaking the
/// row comparison. The cursor carries the key as PostgreSQL printed it and is cast back, so timestamps keep
/// their microseconds (a `Date` round trip would not).
public struct SwiftRepositoryRenderer {
    static let directory = "\(SwiftModelRenderer.outputDirectory)/Repositories"

    let schema: Schema
    let models: SwiftModelRenderer

    public init(schema: Schema) {
        self.schema = schema
        models = SwiftModelRenderer(schema: schema)
    }

    public func render() -> [GeneratedFile] {
        var files = schema.entities.compactMap { entity in
            render(entity: entity).map {
                GeneratedFile(path: "\(Self.directory)/\(entity.name)Repository.swift",
                              contents: GeneratedFile.swiftHeader(source: SchemaFile.entities.path) + $0)
            }
        }
        files.append(GeneratedFile(path: "\(Self.directory)/Repositories.swift",
                                   contents: GeneratedFile.swiftHeader(source: SchemaFile.entities.path) + renderAggregate()))
        return files
    }

    /// Property name of an entity's repository in `Repositories`: its table in lowerCamelCase.
    static func propertyName(of entity: EntityDeclaration) -> String { SwiftNames.identifier(entity.table.value) }

    // MARK: Aggregate

    func renderAggregate() -> String {
        var writer = SwiftWriter()
        writer.line("import Persistence")
        writer.line()
        writer.doc("Every entity's repository over one `DatabaseContext`.")
        writer.block("public struct Repositories: Sendable") { writer in
            writer.line("public let context: DatabaseContext")
            for entity in schema.entities where entity.primaryKey != nil {
                writer.line("public let \(Self.propertyName(of: entity)): \(entity.name)Repository")
            }
            writer.line()
            writer.block("public init(context: DatabaseContext)") { writer in
                writer.line("self.context = context")
                for entity in schema.entities where entity.primaryKey != nil {
                    writer.line("\(Self.propertyName(of: entity)) = \(entity.name)Repository(context: context)")
                }
            }
        }
        return writer.text
    }

    // MARK: One entity

    func render(entity: EntityDeclaration) -> String? {
        guard let key = entity.primaryKey else { return nil }
        let table = entity.table.value
        let keyType = models.swiftType(of: key, optional: false)
        let hasSecrets = entity.fields.contains { $0.kind == .scalar(.secret) }
        let versionField = entity.fields.first { $0.name == "version" && $0.kind == .scalar(.int) && !$0.optional }
        let updatedAt = entity.fields.first { $0.name == "updated_at" && $0.kind == .scalar(.timestamp) }
        let filters = (entity.api?.filters ?? []).compactMap { entity.field(named: $0.value) }
        let ranges = (entity.api?.ranges ?? []).compactMap { entity.field(named: $0.value) }
        let sorts = (entity.api?.sort.isEmpty ?? true) ? [key] : entity.api!.sort.compactMap { entity.field(named: $0.value) }

        var writer = SwiftWriter()
        writer.line("import Foundation")
        writer.line("import Persistence")
        writer.line("import PostgresNIO")
        writer.line("import StamCore")
        writer.line()
        writer.doc(models.docText(
            "Data access for `\(entity.name)` (table `\(table)`): insert, find, update"
                + (versionField != nil ? " (optimistic: the row's `version` must match)" : "")
                + ", delete and keyset-paginated lists. Pass a transaction's connection as `on:` to take part in it."
                + (hasSecrets ? "\n\nSecret columns are sealed with AES-256-GCM by the context's `SecretBox`." : ""),
            at: entity.location, named: entity.name))
        writer.block("public struct \(entity.name)Repository: Sendable") { writer in
            writer.line("public let context: DatabaseContext")
            writer.line()
            writer.line("public init(context: DatabaseContext) { self.context = context }")
            writer.line()
            writer.line("static let table = \(SwiftNames.literal(table))")
            writer.line("static let columns = \(SwiftNames.literal(entity.fields.map(selectColumn).joined(separator: ", ")))")
            writer.line()
            renderFilter(filters, ranges: ranges, into: &writer)
            writer.line()
            renderSort(sorts, entity: entity, into: &writer)
            writer.line()
            renderInsert(entity, into: &writer)
            writer.line()
            renderFind(entity, key: key, keyType: keyType, into: &writer)
            writer.line()
            renderUpdate(entity, key: key, version: versionField, updatedAt: updatedAt, into: &writer)
            writer.line()
            // Only where some column is read-only and some is not: an entity the station writes alone (every column
            // read-only, e.g. `Dc09Path`) has nothing the API may change, and no PATCH route.
            if entity.fields.contains(where: \.readonly),
               entity.fields.contains(where: { !$0.primary && $0.name != "created_at" && !$0.readonly }) {
                renderUpdate(entity, key: key, version: versionField, updatedAt: updatedAt, editableOnly: true, into: &writer)
                writer.line()
            }
            renderDelete(entity, key: key, keyType: keyType, into: &writer)
            writer.line()
            renderList(entity, key: key, sorts: sorts, filters: filters, ranges: ranges, into: &writer)
            writer.line()
            renderWrites(entity, key: key, keyType: keyType, filters: filters, into: &writer)
            renderConditions(filters, ranges: ranges, into: &writer)
            writer.line()
            renderDecode(entity, key: key, hasSecrets: hasSecrets, into: &writer)
        }
        return writer.text
    }

    /// The `Filter` properties of a field: its own name for an equality filter, `<name>From`/`<name>To` for a range.
    static func rangeBounds(of field: FieldDeclaration) -> (from: String, to: String) {
        ("\(field.name)_from", "\(field.name)_to")
    }

    private func renderFilter(_ filters: [FieldDeclaration], ranges: [FieldDeclaration], into writer: inout SwiftWriter) {
        writer.doc("Equality filters from `api.filters`, bounds from `api.ranges` (from inclusive, to exclusive); a nil property does not filter.")
        writer.block("public struct Filter: Sendable, Hashable") { writer in
            var properties = filters.map { (name: $0.name, type: models.swiftType(of: $0, optional: true)) }
            for field in ranges {
                let type = models.swiftType(of: field, optional: true)
                let bounds = Self.rangeBounds(of: field)
                properties += [(bounds.from, type), (bounds.to, type)]
            }
            for property in properties {
                writer.line("public var \(SwiftNames.identifier(property.name)): \(property.type)")
            }
            if !properties.isEmpty { writer.line() }
            let parameters = properties.map { "\(SwiftNames.identifier($0.name)): \($0.type) = nil" }
            writer.block("public init(\(parameters.joined(separator: ", ")))") { writer in
                for property in properties {
                    writer.line("self.\(Naming.lowerCamelCase(property.name)) = \(SwiftNames.identifier(property.name))")
                }
            }
        }
    }

    private func renderSort(_ sorts: [FieldDeclaration], entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.doc("The sorts of `api.sort` (the primary key when none is declared); ties break on the primary key.")
        writer.block("public enum Sort: String, Sendable, Hashable, CaseIterable") { writer in
            for field in sorts {
                let name = SwiftNames.identifier(field.name)
                writer.line(Naming.lowerCamelCase(field.name) == field.name ? "case \(name)" : "case \(name) = \(SwiftNames.literal(field.name))")
            }
            writer.line()
            writer.doc("The ordered key: the column, an enum's declared rank, or a null-safe stand-in.")
            writer.block("var key: String") { writer in
                writer.block("switch self") { writer in
                    for field in sorts { writer.line("case .\(SwiftNames.identifier(field.name)): \(SwiftNames.literal(sortKey(field)))") }
                }
            }
            writer.line()
            writer.doc("`(column IS NULL)` for an optional column, else nil.")
            writer.block("var nullFlag: String?") { writer in
                writer.block("switch self") { writer in
                    for field in sorts {
                        writer.line("case .\(SwiftNames.identifier(field.name)): \(field.optional ? SwiftNames.literal("(\(quoted(field.name)) IS NULL)") : "nil")")
                    }
                }
            }
            writer.line()
            writer.doc("The SQL type the cursor's text is cast back to.")
            writer.block("var keyType: String") { writer in
                writer.block("switch self") { writer in
                    for field in sorts { writer.line("case .\(SwiftNames.identifier(field.name)): \(SwiftNames.literal(sortKeyType(field)))") }
                }
            }
        }
    }

    private func renderInsert(_ entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.doc("Inserts the row and returns it as stored.")
        writer.block("public func insert(_ value: \(entity.name), on connection: PostgresConnection? = nil) async throws -> \(entity.name)") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("let sql = \"INSERT INTO \(escapedQuoted(entity.table.value)) \\(try insertValues(value, binds: &binds)) RETURNING \\(Self.columns)\"")
            writer.line("let rows = try await context.rows(binds.query(sql), on: connection)")
            writer.line("return try Self.decode(rows[0], context: context)")
        }
        writer.line()
        writer.doc("`(columns) VALUES (placeholders)` of an INSERT of `value`, its values bound.")
        writer.block("func insertValues(_ value: \(entity.name), binds: inout SQLBinds) throws -> String") { writer in
            if entity.fields.contains(where: { $0.kind == .scalar(.secret) }) {
                writer.line("let box = try context.secretBox(for: Self.table)")
            }
            writer.line("let values = [")
            for field in entity.fields { writer.line("    \(bindExpression(field, entity: entity, value: "value")),") }
            writer.line("]")
            writer.line("return \"(\(entity.fields.map { escapedQuoted($0.name) }.joined(separator: ", "))) VALUES (\\(values.joined(separator: \", \")))\"")
        }
    }

    private func renderFind(_ entity: EntityDeclaration, key: FieldDeclaration, keyType: String, into writer: inout SwiftWriter) {
        writer.doc("The row with this primary key, or nil.")
        writer.block("public func find(\(SwiftNames.identifier(key.name)): \(keyType), on connection: PostgresConnection? = nil) async throws -> \(entity.name)?") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("let sql = \"SELECT \\(Self.columns) FROM \(escapedQuoted(entity.table.value)) WHERE \(escapedQuoted(key.name)) = \\(\(bindCall(key, value: SwiftNames.identifier(key.name))))\"")
            writer.line("return try await context.rows(binds.query(sql), on: connection).first.map { try Self.decode($0, context: context) }")
        }
    }

    /// `editableOnly`: `updateEditable`, what the generated PATCH route writes: the `readonly:` columns the station
    /// maintains itself (a worker's fencing token and cursor, a connection state) are left as they are in the row,
    /// not written back as the caller read them before a concurrent change (issue 18).
    private func renderUpdate(_ entity: EntityDeclaration, key: FieldDeclaration, version: FieldDeclaration?,
                              updatedAt: FieldDeclaration?, editableOnly: Bool = false, into writer: inout SwiftWriter) {
        let keyAccess = "value.\(Naming.lowerCamelCase(key.name))"
        var doc = editableOnly
            ? "Writes the columns the API may change (not the `readonly:` ones, which keep their stored values), not the primary key or `created_at`"
            : "Writes every column but the primary key and `created_at`"
        if updatedAt != nil { doc += "; `updated_at` becomes the transaction's time" }
        if version != nil {
            doc += ".\n\nOptimistic concurrency: the stored `version` must equal `value.version` (the version the caller read); "
                + "it is incremented. Throws `versionConflict` when another writer came first, `notFound` when the row is gone."
        } else {
            doc += ". Throws `notFound` when the row is gone."
        }
        writer.doc(doc)
        let name = editableOnly ? "updateEditable" : "update"
        writer.block("public func \(name)(_ value: \(entity.name), on connection: PostgresConnection? = nil) async throws -> \(entity.name)") { writer in
            writer.line("var binds = SQLBinds()")
            if entity.fields.contains(where: { $0.kind == .scalar(.secret) }) {
                writer.line("let box = try context.secretBox(for: Self.table)")
            }
            writer.line("let assignments = [")
            for field in entity.fields where !field.primary && field.name != "created_at" && !(editableOnly && field.readonly) {
                if field.name == version?.name {
                    writer.line("    \(SwiftNames.literal("\(quoted(field.name)) = \(quoted(field.name)) + 1")),")
                } else if field.name == updatedAt?.name {
                    writer.line("    \(SwiftNames.literal("\(quoted(field.name)) = now()")),")
                } else {
                    writer.line("    \"\(escapedQuoted(field.name)) = \\(\(bindExpression(field, entity: entity, value: "value")))\",")
                }
            }
            writer.line("]")
            var condition = "\(escapedQuoted(key.name)) = \\(\(bindCall(key, value: keyAccess)))"
            if let version {
                condition += " AND \(escapedQuoted(version.name)) = \\(binds.add(value.\(Naming.lowerCamelCase(version.name))))"
            }
            writer.line("let sql = \"UPDATE \(escapedQuoted(entity.table.value)) SET \\(assignments.joined(separator: \", \")) WHERE \(condition) RETURNING \\(Self.columns)\"")
            writer.block("if let row = try await context.rows(binds.query(sql), on: connection).first") { writer in
                writer.line("return try Self.decode(row, context: context)")
            }
            if version != nil {
                writer.block("if try await find(\(SwiftNames.identifier(key.name)): \(keyAccess), on: connection) != nil") { writer in
                    writer.line("throw RepositoryError(code: .versionConflict, message: \"\\(Self.table) \\(\(keyAccess)) changed since version \\(value.\(Naming.lowerCamelCase(version!.name))); read it again\")")
                }
            }
            writer.line("throw RepositoryError(code: .notFound, message: \"\\(Self.table) \\(\(keyAccess)) does not exist\")")
        }
    }

    private func renderDelete(_ entity: EntityDeclaration, key: FieldDeclaration, keyType: String, into writer: inout SwiftWriter) {
        writer.doc("Deletes the row; false when there was none.")
        writer.line("@discardableResult")
        writer.block("public func delete(\(SwiftNames.identifier(key.name)): \(keyType), on connection: PostgresConnection? = nil) async throws -> Bool") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("let sql = \"DELETE FROM \(escapedQuoted(entity.table.value)) WHERE \(escapedQuoted(key.name)) = \\(\(bindCall(key, value: SwiftNames.identifier(key.name)))) RETURNING 1\"")
            writer.line("return try await !context.rows(binds.query(sql), on: connection).isEmpty")
        }
    }

    private func renderList(_ entity: EntityDeclaration, key: FieldDeclaration, sorts: [FieldDeclaration], filters: [FieldDeclaration],
                            ranges: [FieldDeclaration], into writer: inout SwiftWriter) {
        let keyColumn = escapedQuoted(key.name)
        let keyCast = DatabaseModelBuilder.sqlType(of: key, in: schema)
        writer.doc("""
            One page of rows matching `filter`, in `sort` order (ties by primary key), starting after `cursor` \
            (the previous page's `nextCursor`). `limit` is clamped to 1...500.
            """)
        writer.block("public func list(filter: Filter = Filter(), sort: Sort, direction: SortDirection = .ascending, after cursor: String? = nil, limit: Int = 50, on connection: PostgresConnection? = nil) async throws -> Page<\(entity.name)>") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("var conditions = try Self.conditions(filter, binds: &binds)")
            writer.line("let sortName = \"\\(Self.table):\\(sort.rawValue):\\(direction.rawValue)\"")
            writer.line("let nullFlag = sort.nullFlag ?? \"false\"")
            writer.block("if let cursor") { writer in
                writer.line("let position = try KeysetCursor(decoding: cursor, sort: sortName)")
                writer.line("conditions.append(\"(\\(nullFlag), \\(sort.key), \(keyColumn)) \\(direction.after) (\\(binds.add(position.isNull))::boolean, \\(binds.add(position.key))::\\(sort.keyType), \\(binds.add(position.id))::\(keyCast))\")")
            }
            writer.line("let pageSize = min(max(limit, 1), 500)")
            writer.line("let rows: [PostgresRow]")
            writer.block("if conditions.isEmpty, context.preparesStatements") { writer in
                writer.comment("The unfiltered first page (the console's default list) is a named statement, planned once per connection.")
                writer.line("rows = try await firstPage(sort: sort, direction: direction, limit: pageSize + 1, on: connection)")
            }
            writer.block("else") { writer in
                writer.line("rows = try await context.rows(binds.query(Self.listSQL(conditions: conditions, sort: sort, direction: direction, limit: \"\\(pageSize + 1)\")), on: connection)")
            }
            writer.line("var items: [\(entity.name)] = []")
            writer.line("var last: KeysetCursor?")
            writer.line("items.reserveCapacity(min(rows.count, pageSize))")
            writer.comment("The row after the page only says there is a next page; the cursor is the page's last row's position.")
            writer.block("for (index, row) in rows.prefix(pageSize).enumerated()") { writer in
                writer.line("var reader = RowReader(row, table: Self.table)")
                writer.line("items.append(try Self.decode(&reader, context: context))")
                writer.block("if index == pageSize - 1, rows.count > pageSize") { writer in
                    writer.line("last = KeysetCursor(sort: sortName, key: try reader.read(String.self), isNull: try reader.read(Bool.self), id: try reader.read(String.self))")
                }
            }
            writer.line("return Page(items: items, nextCursor: last?.encoded)")
        }
        writer.line()
        writer.doc("`list`'s SELECT: `limit` is a literal, or `$1` in the prepared first pages (`FirstPage`).")
        writer.block("static func listSQL(conditions: [String], sort: Sort, direction: SortDirection, limit: String) -> String") { writer in
            writer.line("let nullFlag = sort.nullFlag ?? \"false\"")
            writer.line("let whereClause = conditions.isEmpty ? \"\" : \" WHERE \" + conditions.joined(separator: \" AND \")")
            writer.comment("PostgreSQL refuses a constant in ORDER BY, so the null flag orders only optional columns.")
            writer.line("let nullOrder = sort.nullFlag.map { \"\\($0) \\(direction.sql), \" } ?? \"\"")
            writer.line("return \"SELECT \\(Self.columns), (\\(sort.key))::text AS \\\"__sort_key\\\", \\(nullFlag) AS \\\"__sort_null\\\", \(keyColumn)::text AS \\\"__sort_id\\\" FROM \(escapedQuoted(entity.table.value))\\(whereClause) ORDER BY \\(nullOrder)\\(sort.key) \\(direction.sql), \(keyColumn) \\(direction.sql) LIMIT \\(limit)\"")
        }
        writer.line()
        renderFirstPage(entity, sorts: sorts, into: &writer)
    }

    /// `FirstPage`: one `FirstPageStatement` per sort and direction, and `firstPage(...)`, which picks it.
    private func renderFirstPage(_ entity: EntityDeclaration, sorts: [FieldDeclaration], into writer: inout SwiftWriter) {
        let shapes = sorts.flatMap { sort in
            [("ascending", "Ascending"), ("descending", "Descending")].map { direction in
                (sort: SwiftNames.identifier(sort.name), direction: direction.0, type: Naming.upperCamelCase(sort.name) + direction.1)
            }
        }
        writer.doc("The unfiltered first page of each sort and direction as a named prepared statement (`FirstPageStatement`).")
        writer.block("enum FirstPage") { writer in
            for shape in shapes {
                writer.block("struct \(shape.type): FirstPageStatement") { writer in
                    writer.line("static let sql = \(entity.name)Repository.listSQL(conditions: [], sort: .\(shape.sort), direction: .\(shape.direction), limit: \"$1\")")
                    writer.line("let limit: Int")
                }
            }
        }
        writer.line()
        writer.doc("The first `limit` rows of `list(sort:direction:)` unfiltered, by its prepared statement.")
        writer.block("func firstPage(sort: Sort, direction: SortDirection, limit: Int, on connection: PostgresConnection?) async throws -> [PostgresRow]") { writer in
            writer.block("switch (sort, direction)") { writer in
                for shape in shapes {
                    writer.line("case (.\(shape.sort), .\(shape.direction)): return try await context.rows(FirstPage.\(shape.type)(limit: limit), on: connection)")
                }
            }
        }
    }

    /// `conditions(_:binds:)`: the WHERE terms of a `Filter`, shared by `list` and `all`.
    private func renderConditions(_ filters: [FieldDeclaration], ranges: [FieldDeclaration], into writer: inout SwiftWriter) {
        writer.doc("The WHERE terms of `filter`, its values bound.")
        writer.block("static func conditions(_ filter: Filter, binds: inout SQLBinds) throws -> [String]") { writer in
            writer.line("var conditions: [String] = []")
            for field in filters {
                writer.line("if let value = filter.\(Naming.lowerCamelCase(field.name)) { conditions.append(\"\(escapedQuoted(field.name)) = \\(\(bindCall(field, value: "value")))\") }")
            }
            for field in ranges {
                let bounds = Self.rangeBounds(of: field)
                for (property, comparison) in [(bounds.from, ">="), (bounds.to, "<")] {
                    writer.line("if let value = filter.\(Naming.lowerCamelCase(property)) { conditions.append(\"\(escapedQuoted(field.name)) \(comparison) \\(\(bindCall(field, value: "value")))\") }")
                }
            }
            writer.line("return conditions")
        }
    }

    private func renderDecode(_ entity: EntityDeclaration, key: FieldDeclaration, hasSecrets: Bool, into writer: inout SwiftWriter) {
        writer.block("static func decode(_ row: PostgresRow, context: DatabaseContext) throws -> \(entity.name)") { writer in
            writer.line("var reader = RowReader(row, table: table)")
            writer.line("return try decode(&reader, context: context)")
        }
        writer.line()
        writer.doc("Reads the columns of `columns`, in order.")
        writer.block("static func decode(_ reader: inout RowReader, context: DatabaseContext) throws -> \(entity.name)") { writer in
            for field in entity.fields {
                writer.line("let \(SwiftNames.identifier(field.name)) = \(readExpression(field))")
            }
            if hasSecrets {
                writer.line("let box = try context.secretBox(for: table)")
                writer.line("let rowId = \"\\(\(SwiftNames.identifier(key.name)))\"")
            }
            writer.line("return \(entity.name)(")
            for (index, field) in entity.fields.enumerated() {
                let name = SwiftNames.identifier(field.name)
                let value = field.kind == .scalar(.secret)
                    ? "try box.open(\(name), table: table, column: \(SwiftNames.literal(field.name)), rowId: rowId)"
                    : name
                writer.line("    \(name): \(value)" + (index == entity.fields.count - 1 ? "" : ","))
            }
            writer.line(")")
        }
    }

    // MARK: Column helpers

    func quoted(_ name: String) -> String { "\"\(name)\"" }
    /// A quoted identifier inside a Swift string literal.
    func escapedQuoted(_ name: String) -> String { "\\\"\(name)\\\"" }

    /// The column in the SELECT list: jsonb comes back as text for the JSON decoder.
    private func selectColumn(_ field: FieldDeclaration) -> String {
        field.kind == .scalar(.json) ? "\(quoted(field.name))::text" : quoted(field.name)
    }

    /// Swift expression that binds `value` of this field and yields its placeholder.
    func bindCall(_ field: FieldDeclaration, value: String) -> String {
        switch field.kind {
        case .enumeration: return "binds.add(enumValue: \(value))"
        case .scalar(.json): return "try binds.add(json: \(value)) + \"::jsonb\""
        case .scalar(.decimal), .scalar(.bytes): return "try binds.add(\(value))"
        default: return "binds.add(\(value))"
        }
    }

    func bindExpression(_ field: FieldDeclaration, entity: EntityDeclaration, value: String) -> String {
        let access = "\(value).\(Naming.lowerCamelCase(field.name))"
        if field.kind == .scalar(.secret) {
            let key = entity.primaryKey.map { "\(value).\(Naming.lowerCamelCase($0.name))" } ?? "\"\""
            return "try binds.add(box.seal(\(access), table: Self.table, column: \(SwiftNames.literal(field.name)), rowId: \"\\(\(key))\"))"
        }
        return bindCall(field, value: access)
    }

    func readExpression(_ field: FieldDeclaration) -> String {
        let optional = field.optional
        switch field.kind {
        case .enumeration(let name):
            return optional ? "try reader.readOptionalEnum(\(name.value).self)" : "try reader.readEnum(\(name.value).self)"
        case .scalar(.json):
            return optional ? "try reader.readOptionalJSON(JSONValue.self)" : "try reader.readJSON(JSONValue.self)"
        case .scalar(.secret):
            return optional ? "try reader.readOptional(Data.self)" : "try reader.read(Data.self)"
        default:
            let type = models.swiftType(of: field, optional: false)
            return optional ? "try reader.readOptional(\(type).self)" : "try reader.read(\(type).self)"
        }
    }

    /// The SQL the list orders by for this sort field.
    private func sortKey(_ field: FieldDeclaration) -> String {
        var key = quoted(field.name)
        if case .enumeration(let name) = field.kind, let declaration = schema.enumeration(named: name.value) {
            let values = declaration.values.map { SQLNames.literal($0.value) }.joined(separator: ", ")
            key = "array_position(ARRAY[\(values)]::text[], \(key))"
        }
        if field.optional { key = "COALESCE(\(key), \(sentinel(field)))" }
        return key
    }

    private func sortKeyType(_ field: FieldDeclaration) -> String {
        if case .enumeration = field.kind { return "integer" }
        return DatabaseModelBuilder.sqlType(of: field, in: schema)
    }

    /// Stands in for NULL inside the key; the null flag before it already decides the order.
    private func sentinel(_ field: FieldDeclaration) -> String {
        switch sortKeyType(field) {
        case "timestamptz": return "'-infinity'::timestamptz"
        case "date": return "'-infinity'::date"
        case "uuid": return "'00000000-0000-0000-0000-000000000000'::uuid"
        case "boolean": return "false"
        case "integer", "bigint", "double precision", "numeric": return "0"
        default: return "''"
        }
    }
}
