/// The repository methods the station's own processes write through (the worker, the SMS consumer), beside the
/// API's CRUD: lookups by a unique key, every row of a bounded filter, inserts and upserts keyed by the schema's
/// unique constraints, and a partial update of chosen columns. Each is typed by the schema, so renaming a column
/// breaks the build of every writer instead of their SQL at run time.
extension SwiftRepositoryRenderer {
    /// The entity's unique keys in declaration order: `unique: true` fields, then `unique:` column lists.
    static func uniqueKeys(of entity: EntityDeclaration) -> [[FieldDeclaration]] {
        let single = entity.fields.filter { $0.unique && !$0.primary }.map { [$0] }
        let lists = entity.indexes.filter(\.unique).map { index in index.columns.compactMap { entity.field(named: $0.value) } }
        return (single + lists).filter { !$0.isEmpty }
    }

    /// The case of `UniqueKey` for a key: its columns joined by "and" (`panelIdAndNumber`).
    static func uniqueKeyCase(_ key: [FieldDeclaration]) -> String {
        SwiftNames.identifier(key.map(\.name).joined(separator: "_and_"))
    }

    func renderWrites(_ entity: EntityDeclaration, key: FieldDeclaration, keyType: String, filters: [FieldDeclaration],
                      into writer: inout SwiftWriter) {
        let uniqueKeys = Self.uniqueKeys(of: entity)
        for unique in uniqueKeys where !unique.contains(where: { $0.kind == .scalar(.secret) }) {
            renderFind(entity, byUnique: unique, into: &writer)
            writer.line()
        }
        renderAll(entity, key: key, into: &writer)
        writer.line()
        renderAssignment(entity, key: key, into: &writer)
        writer.line()
        renderPartialUpdate(entity, key: key, keyType: keyType, into: &writer)
        writer.line()
        guard !uniqueKeys.isEmpty else { return }
        renderColumn(entity, into: &writer)
        writer.line()
        renderUniqueKey(uniqueKeys, into: &writer)
        writer.line()
        renderInsertIfAbsent(entity, into: &writer)
        writer.line()
        renderUpsert(entity, into: &writer)
        writer.line()
    }

    private func renderFind(_ entity: EntityDeclaration, byUnique unique: [FieldDeclaration], into writer: inout SwiftWriter) {
        let names = unique.map { "`\($0.name)`" }.joined(separator: ", ")
        writer.doc("The row whose \(unique.count == 1 ? names : "(\(names))") is this (a unique key), or nil.")
        let parameters = unique.map { "\(SwiftNames.identifier($0.name)): \(models.swiftType(of: $0, optional: false))" }
        writer.block("public func find(\(parameters.joined(separator: ", ")), on connection: PostgresConnection? = nil) async throws -> \(entity.name)?") { writer in
            writer.line("var binds = SQLBinds()")
            let conditions = unique.map { "\(escapedQuoted($0.name)) = \\(\(bindCall($0, value: SwiftNames.identifier($0.name))))" }
            writer.line("let sql = \"SELECT \\(Self.columns) FROM \(escapedQuoted(entity.table.value)) WHERE \(conditions.joined(separator: " AND "))\"")
            writer.line("return try await context.rows(binds.query(sql), on: connection).first.map { try Self.decode($0, context: context) }")
        }
    }

    private func renderAll(_ entity: EntityDeclaration, key: FieldDeclaration, into writer: inout SwiftWriter) {
        writer.doc("""
            Every row matching `filter`, in primary-key order, in one query: for sets the domain bounds (one panel's \
            zones), not for lists an operator pages through (`list`).
            """)
        writer.block("public func all(filter: Filter = Filter(), on connection: PostgresConnection? = nil) async throws -> [\(entity.name)]") { writer in
            writer.line("try await rows(matching: filter, on: connection).map { try Self.decode($0, context: context) }")
        }
        writer.line("")
        writer.doc("""
            `all(filter:)` for a reader that must keep working while a newer writer stores values this build cannot \
            read (a rolling update that added an enum value): such a row is skipped and passed to `unreadable`, the \
            others are returned.
            """)
        writer.block("public func all(filter: Filter = Filter(), on connection: PostgresConnection? = nil, skippingUnreadable unreadable: (any Error) -> Void) async throws -> [\(entity.name)]") { writer in
            writer.closure("try await rows(matching: filter, on: connection).compactMap", parameters: "row") { writer in
                writer.line("let decoded = Result { try Self.decode(row, context: context) }")
                writer.line("if case .failure(let error) = decoded { unreadable(error) }")
                writer.line("return try? decoded.get()")
            }
        }
        writer.line("")
        writer.block("private func rows(matching filter: Filter, on connection: PostgresConnection?) async throws -> [PostgresRow]") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("let conditions = try Self.conditions(filter, binds: &binds)")
            writer.line("let whereClause = conditions.isEmpty ? \"\" : \" WHERE \" + conditions.joined(separator: \" AND \")")
            writer.line("let sql = \"SELECT \\(Self.columns) FROM \(escapedQuoted(entity.table.value))\\(whereClause) ORDER BY \(escapedQuoted(key.name))\"")
            writer.line("return try await context.rows(binds.query(sql), on: connection)")
        }
    }

    /// `Assignment`: one column and its new value, for `update(<key>:set:)`.
    private func renderAssignment(_ entity: EntityDeclaration, key: FieldDeclaration, into writer: inout SwiftWriter) {
        let fields = entity.fields.filter { !$0.primary }
        writer.doc("One column's new value, for `update(\(SwiftNames.identifier(key.name)):set:)`.")
        writer.block("public enum Assignment: Sendable") { writer in
            for field in fields {
                writer.line("case \(SwiftNames.identifier(field.name))(\(models.swiftType(of: field, optional: field.optional)))")
            }
            writer.line()
            writer.doc("The column it writes.")
            writer.block("var column: String") { writer in
                writer.block("switch self") { writer in
                    for field in fields { writer.line("case .\(SwiftNames.identifier(field.name)): \(SwiftNames.literal(field.name))") }
                }
            }
            writer.line()
            writer.doc("`\"column\" = $n`, its value bound (a secret sealed for the row `rowId`).")
            writer.block("func sql(_ binds: inout SQLBinds, context: DatabaseContext, rowId: String) throws -> String") { writer in
                writer.block("switch self") { writer in
                    for field in fields {
                        let name = SwiftNames.identifier(field.name)
                        let bind = field.kind == .scalar(.secret)
                            ? "try binds.add(context.secretBox(for: table).seal(value, table: table, column: \(SwiftNames.literal(field.name)), rowId: rowId))"
                            : bindCall(field, value: "value")
                        writer.line("case .\(name)(let value): return \"\(escapedQuoted(field.name)) = \\(\(bind))\"")
                    }
                }
            }
        }
    }

    private func renderPartialUpdate(_ entity: EntityDeclaration, key: FieldDeclaration, keyType: String, into writer: inout SwiftWriter) {
        let keyName = SwiftNames.identifier(key.name)
        writer.doc("""
            Writes only `assignments` to the row, and nothing else: no `version` increment, no `updated_at`. For the \
            columns the station maintains itself (a panel's connection state, a cursor), which an operator's \
            optimistic update must not collide with. A later assignment of a column replaces an earlier one. False \
            when the row is gone.
            """)
        writer.line("@discardableResult")
        writer.block("public func update(\(keyName): \(keyType), set assignments: [Assignment], on connection: PostgresConnection? = nil) async throws -> Bool") { writer in
            writer.block("guard !assignments.isEmpty else") { writer in
                writer.line("return try await find(\(keyName): \(keyName), on: connection) != nil")
            }
            writer.line("var binds = SQLBinds()")
            writer.line("let rowId = \"\\(\(keyName))\"")
            writer.line("var written = Set<String>()")
            writer.line("let latest = assignments.reversed().filter { written.insert($0.column).inserted }.reversed()")
            writer.line("let sets = try latest.map { try $0.sql(&binds, context: context, rowId: rowId) }")
            writer.line("let sql = \"UPDATE \(escapedQuoted(entity.table.value)) SET \\(sets.joined(separator: \", \")) WHERE \(escapedQuoted(key.name)) = \\(\(bindCall(key, value: keyName))) RETURNING 1\"")
            writer.line("return try await !context.rows(binds.query(sql), on: connection).isEmpty")
        }
    }

    /// `Column`: the columns an upsert may overwrite. Not the primary key (the stored row keeps its own), not a
    /// secret (sealed for the inserted row's id, it would not open under the stored row's).
    private func renderColumn(_ entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.doc("A column an `upsert` may write into the row it finds (not the primary key, not a secret column).")
        writer.block("public enum Column: String, Sendable, CaseIterable") { writer in
            for field in entity.fields where !field.primary && field.kind != .scalar(.secret) {
                let name = SwiftNames.identifier(field.name)
                writer.line(Naming.lowerCamelCase(field.name) == field.name ? "case \(name)" : "case \(name) = \(SwiftNames.literal(field.name))")
            }
        }
    }

    private func renderUniqueKey(_ keys: [[FieldDeclaration]], into writer: inout SwiftWriter) {
        writer.doc("The schema's unique keys of this table, for `insertIfAbsent` and `upsert`.")
        writer.block("public enum UniqueKey: Sendable, CaseIterable") { writer in
            for key in keys { writer.line("case \(Self.uniqueKeyCase(key))") }
            writer.line()
            writer.doc("The key's quoted columns, the ON CONFLICT target.")
            writer.block("var columns: [String]") { writer in
                writer.block("switch self") { writer in
                    for key in keys {
                        writer.line("case .\(Self.uniqueKeyCase(key)): [\(key.map { SwiftNames.literal(quoted($0.name)) }.joined(separator: ", "))]")
                    }
                }
            }
        }
    }

    private func renderInsertIfAbsent(_ entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.doc("""
            Inserts the row unless one with the same `key` exists. The row as stored, or nil when the key was taken \
            (nothing written): a writer that may run twice (a re-read after a lost commit) writes once.
            """)
        writer.block("public func insertIfAbsent(_ value: \(entity.name), onConflict key: UniqueKey, on connection: PostgresConnection? = nil) async throws -> \(entity.name)?") { writer in
            writer.line("var binds = SQLBinds()")
            writer.line("let sql = \"INSERT INTO \(escapedQuoted(entity.table.value)) \\(try insertValues(value, binds: &binds)) ON CONFLICT (\\(key.columns.joined(separator: \", \"))) DO NOTHING RETURNING \\(Self.columns)\"")
            writer.line("return try await context.rows(binds.query(sql), on: connection).first.map { try Self.decode($0, context: context) }")
        }
    }

    private func renderUpsert(_ entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.doc("""
            Inserts the row or, when one with the same `key` exists, writes `value`'s `columns` into that one (its \
            primary key and every other column stay). Returns the row as stored. With no `columns`, the stored row \
            is returned as it was.
            """)
        writer.line("@discardableResult")
        writer.block("public func upsert(_ value: \(entity.name), onConflict key: UniqueKey, updating columns: [Column], on connection: PostgresConnection? = nil) async throws -> \(entity.name)") { writer in
            writer.line("var binds = SQLBinds()")
            writer.comment("DO NOTHING would return no row for an existing key; assigning the key to itself returns it unchanged.")
            writer.line("let written = columns.isEmpty ? key.columns : columns.map { \"\\\"\\($0.rawValue)\\\"\" }")
            writer.line("let sets = written.map { \"\\($0) = EXCLUDED.\\($0)\" }.joined(separator: \", \")")
            writer.line("let sql = \"INSERT INTO \(escapedQuoted(entity.table.value)) \\(try insertValues(value, binds: &binds)) ON CONFLICT (\\(key.columns.joined(separator: \", \"))) DO UPDATE SET \\(sets) RETURNING \\(Self.columns)\"")
            writer.line("let rows = try await context.rows(binds.query(sql), on: connection)")
            writer.line("return try Self.decode(rows[0], context: context)")
        }
    }
}
