/// Diffs two `DatabaseModel`s into the SQL that turns the old one into the new one.
///
/// Renames are never guessed: a renamed column is a drop plus an add, so it is destructive and refused
/// unless the developer says `--allow-destructive` (guessing wrong would silently move data around).
/// Statements are ordered so each one is valid when it runs: constraints and indexes that go away are
/// dropped first, tables and columns are created next, and foreign keys are added last (so tables may
/// reference each other in any order).
public struct MigrationPlanner {
    public struct Statement: Hashable, Sendable {
        public var sql: String
        /// Why the statement loses data or may fail on existing rows; nil when it is safe.
        public var destructiveReason: String?
    }

    public struct Plan: Hashable, Sendable {
        public var statements: [Statement]
        /// Changes no migration can make safely (e.g. a required column without a default on a table that
        /// may hold rows); the planner refuses them whatever the flags.
        public var errors: [String]

        public var isEmpty: Bool { statements.isEmpty }
        public var destructiveReasons: [String] { statements.compactMap(\.destructiveReason) }
    }

    public static func plan(from old: DatabaseModel, to new: DatabaseModel) -> Plan {
        var planner = MigrationPlanner(old: old, new: new)
        planner.run()
        return Plan(statements: planner.drops + planner.creates + planner.alters + planner.constraints + planner.foreignKeys + planner.triggers,
                    errors: planner.errors)
    }

    let old: DatabaseModel
    let new: DatabaseModel
    var drops: [Statement] = []
    var creates: [Statement] = []
    var alters: [Statement] = []
    var constraints: [Statement] = []
    var foreignKeys: [Statement] = []
    /// Append-only tables' triggers, last (their tables exist by then).
    var triggers: [Statement] = []
    var errors: [String] = []

    mutating func run() {
        // Constraints and indexes of surviving tables that change or disappear go first.
        for oldTable in old.tables {
            guard let newTable = new.table(named: oldTable.name) else { continue }
            for key in oldTable.foreignKeys where !newTable.foreignKeys.contains(key) {
                drops.append(.init(sql: "ALTER TABLE \(oldTable.name) DROP CONSTRAINT \(key.name);"))
            }
            for index in oldTable.indexes where !newTable.indexes.contains(index) {
                drops.append(.init(sql: "DROP INDEX \(index.name);"))
            }
            for unique in oldTable.uniqueConstraints where !newTable.uniqueConstraints.contains(unique) {
                drops.append(.init(sql: "ALTER TABLE \(oldTable.name) DROP CONSTRAINT \(unique.name);"))
            }
            for check in oldTable.checks where !newTable.checks.contains(check) {
                drops.append(.init(sql: "ALTER TABLE \(oldTable.name) DROP CONSTRAINT \(check.name);"))
            }
            for rule in oldTable.rules where !newTable.rules.contains(rule) {
                drops.append(.init(sql: "ALTER TABLE \(oldTable.name) DROP CONSTRAINT \(rule.name);"))
            }
        }
        for oldTable in old.tables where oldTable.appendOnly && new.table(named: oldTable.name)?.appendOnly == false {
            drops.append(.init(sql: "DROP TRIGGER \(Self.appendOnlyTrigger(oldTable.name)) ON \(oldTable.name);"))
        }
        let appendOnly = new.tables.filter { $0.appendOnly && old.table(named: $0.name)?.appendOnly != true }
        if !appendOnly.isEmpty { triggers.append(.init(sql: Self.appendOnlyFunction)) }
        for newTable in appendOnly {
            triggers.append(.init(sql: "CREATE TRIGGER \(Self.appendOnlyTrigger(newTable.name)) BEFORE UPDATE OR DELETE OR TRUNCATE ON \(newTable.name) "
                                  + "FOR EACH STATEMENT EXECUTE FUNCTION stam_refuse_change();"))
        }
        for oldTable in old.tables where oldTable.atLeastOne != nil && new.table(named: oldTable.name)?.atLeastOne != oldTable.atLeastOne {
            for event in ["update", "delete"] {
                drops.append(.init(sql: "DROP TRIGGER \(Self.atLeastOneTrigger(oldTable.name))_\(event) ON \(oldTable.name);"))
            }
            drops.append(.init(sql: "DROP FUNCTION \(Self.atLeastOneTrigger(oldTable.name))();"))
        }
        for newTable in new.tables {
            guard let rule = newTable.atLeastOne, old.table(named: newTable.name)?.atLeastOne != rule else { continue }
            triggers.append(.init(sql: Self.atLeastOneFunction(table: newTable.name, rule: rule)))
            // One trigger per event: PostgreSQL allows a transition table only on a single-event trigger.
            for event in ["UPDATE", "DELETE"] {
                triggers.append(.init(sql: "CREATE TRIGGER \(Self.atLeastOneTrigger(newTable.name))_\(event.lowercased()) AFTER \(event) ON \(newTable.name) "
                                      + "REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION \(Self.atLeastOneTrigger(newTable.name))();"))
            }
        }
        for oldTable in old.tables where new.table(named: oldTable.name) == nil {
            // CASCADE drops the foreign keys of other tables that point at it; those tables' own diffs
            // already dropped or re-add them.
            drops.append(.init(sql: "DROP TABLE \(oldTable.name) CASCADE;",
                               destructiveReason: "drops table \(oldTable.name) and all of its rows"))
        }
        for newTable in new.tables {
            if let oldTable = old.table(named: newTable.name) {
                alter(oldTable, to: newTable)
            } else {
                create(newTable)
            }
        }
    }

    mutating func create(_ table: DatabaseModel.Table) {
        var lines = table.columns.map { "    " + Self.columnDefinition($0) }
        if !table.primaryKey.isEmpty {
            lines.append("    CONSTRAINT \(SQLNames.primaryKey(table: table.name)) PRIMARY KEY (\(table.primaryKey.joined(separator: ", ")))")
        }
        lines += table.uniqueConstraints.map { "    CONSTRAINT \($0.name) UNIQUE (\($0.columns.joined(separator: ", ")))" }
        lines += table.checks.map { "    CONSTRAINT \($0.name) \(Self.checkExpression($0))" }
        lines += table.rules.map { "    CONSTRAINT \($0.name) CHECK (\($0.expression))" }
        creates.append(.init(sql: "CREATE TABLE \(table.name) (\n" + lines.joined(separator: ",\n") + "\n);"))
        constraints += table.indexes.map { .init(sql: Self.createIndex($0, on: table.name)) }
        foreignKeys += table.foreignKeys.map { .init(sql: Self.addForeignKey($0, to: table.name)) }
    }

    mutating func alter(_ oldTable: DatabaseModel.Table, to newTable: DatabaseModel.Table) {
        let name = newTable.name
        for column in newTable.columns {
            guard let previous = oldTable.column(named: column.name) else {
                if !column.nullable && column.defaultExpression == nil {
                    errors.append(
                        "cannot add required column \(name).\(column.name) without a default: rows already in the table would have no value; give it a default or make it optional")
                }
                alters.append(.init(sql: "ALTER TABLE \(name) ADD COLUMN \(Self.columnDefinition(column));"))
                continue
            }
            alterColumn(previous, to: column, in: name)
        }
        for column in oldTable.columns where newTable.column(named: column.name) == nil {
            alters.append(.init(sql: "ALTER TABLE \(name) DROP COLUMN \(column.name);",
                                destructiveReason: "drops column \(name).\(column.name) and its data"))
        }
        if oldTable.primaryKey != newTable.primaryKey {
            let key = SQLNames.primaryKey(table: name)
            alters.append(.init(sql: "ALTER TABLE \(name) DROP CONSTRAINT \(key);",
                                destructiveReason: "changes the primary key of \(name)"))
            alters.append(.init(sql: "ALTER TABLE \(name) ADD CONSTRAINT \(key) PRIMARY KEY (\(newTable.primaryKey.joined(separator: ", ")));"))
        }
        for unique in newTable.uniqueConstraints where !oldTable.uniqueConstraints.contains(unique) {
            constraints.append(.init(sql: "ALTER TABLE \(name) ADD CONSTRAINT \(unique.name) UNIQUE (\(unique.columns.joined(separator: ", ")));"))
        }
        for check in newTable.checks where !oldTable.checks.contains(check) {
            let previous = oldTable.checks.first { $0.column == check.column }?.allowedValues
            var removed = previous.map { Set($0).subtracting(check.allowedValues).sorted() } ?? []
            // A renamed value's rows are rewritten (after the old constraint is dropped, before the new one is added).
            for old in removed {
                guard let new = check.renamedValues[old], check.allowedValues.contains(new) else { continue }
                alters.append(.init(sql: "UPDATE \(name) SET \(check.column) = \(SQLNames.literal(new)) WHERE \(check.column) = \(SQLNames.literal(old));"))
            }
            removed.removeAll { check.renamedValues[$0].map(check.allowedValues.contains) == true }
            let reason = removed.isEmpty ? nil
                : "removes allowed values \(removed.joined(separator: ", ")) of \(name).\(check.column); rows holding them make it fail"
            constraints.append(.init(sql: "ALTER TABLE \(name) ADD CONSTRAINT \(check.name) \(Self.checkExpression(check));",
                                     destructiveReason: reason))
        }
        // A new rule checks new writes at once; rows already stored are not re-checked (NOT VALID), so an upgrade
        // never fails on old data. `ALTER TABLE ... VALIDATE CONSTRAINT` proves them once they are clean.
        for rule in newTable.rules where !oldTable.rules.contains(rule) {
            constraints.append(.init(sql: "ALTER TABLE \(name) ADD CONSTRAINT \(rule.name) CHECK (\(rule.expression)) NOT VALID;"))
        }
        for index in newTable.indexes where !oldTable.indexes.contains(index) {
            constraints.append(.init(sql: Self.createIndex(index, on: name)))
        }
        for key in newTable.foreignKeys where !oldTable.foreignKeys.contains(key) {
            foreignKeys.append(.init(sql: Self.addForeignKey(key, to: name)))
        }
    }

    mutating func alterColumn(_ old: DatabaseModel.Column, to new: DatabaseModel.Column, in table: String) {
        let prefix = "ALTER TABLE \(table) ALTER COLUMN \(new.name)"
        if old.type != new.type {
            let widening = Self.isWidening(from: old.type, to: new.type)
            alters.append(.init(
                sql: "\(prefix) TYPE \(new.type)" + (widening ? ";" : " USING \(new.name)::\(new.type);"),
                destructiveReason: widening ? nil : "changes \(table).\(new.name) from \(old.type) to \(new.type); values may be cut or fail to convert"))
        }
        if old.nullable && !new.nullable {
            alters.append(.init(sql: "\(prefix) SET NOT NULL;",
                                destructiveReason: "makes \(table).\(new.name) required; fails while any row holds NULL"))
        } else if !old.nullable && new.nullable {
            alters.append(.init(sql: "\(prefix) DROP NOT NULL;"))
        }
        if old.defaultExpression != new.defaultExpression {
            alters.append(.init(sql: new.defaultExpression.map { "\(prefix) SET DEFAULT \($0);" } ?? "\(prefix) DROP DEFAULT;"))
        }
    }

    /// Type changes PostgreSQL makes without losing a value.
    static func isWidening(from old: String, to new: String) -> Bool {
        if new == "text" && (old.hasPrefix("varchar(") || old == "text") { return true }
        if let oldLength = varcharLength(old), let newLength = varcharLength(new) { return newLength >= oldLength }
        let numericWidenings: Set<[String]> = [
            ["integer", "bigint"], ["integer", "numeric"], ["bigint", "numeric"], ["integer", "double precision"],
        ]
        return numericWidenings.contains([old, new])
    }

    static func varcharLength(_ type: String) -> Int? {
        guard type.hasPrefix("varchar("), type.hasSuffix(")") else { return nil }
        return Int(type.dropFirst(8).dropLast())
    }

    static func columnDefinition(_ column: DatabaseModel.Column) -> String {
        var definition = "\(column.name) \(column.type)"
        if !column.nullable { definition += " NOT NULL" }
        if let expression = column.defaultExpression { definition += " DEFAULT \(expression)" }
        return definition
    }

    static func checkExpression(_ check: DatabaseModel.ValueCheck) -> String {
        "CHECK (\(check.column) IN (\(check.allowedValues.map(SQLNames.literal).joined(separator: ", "))))"
    }

    static func createIndex(_ index: DatabaseModel.Index, on table: String) -> String {
        "CREATE INDEX \(index.name) ON \(table) (\(index.columns.joined(separator: ", ")))"
            + (index.predicate.map { " WHERE \($0)" } ?? "") + ";"
    }

    static func appendOnlyTrigger(_ table: String) -> String { "\(table)_append_only" }

    static func atLeastOneTrigger(_ table: String) -> String { "\(table)_at_least_one" }

    /// After each update or delete that touched a matching row (`changed`: the rows as they were): one check at a
    /// time (a transaction lock, so a concurrent write waits until the first commits and then sees its result),
    /// refusing the statement when no row matches any more. Statements that touch no matching row (an operator's
    /// login, a database that has none yet) pass without the lock.
    static func atLeastOneFunction(table: String, rule: DatabaseModel.AtLeastOne) -> String {
        """
        CREATE OR REPLACE FUNCTION \(atLeastOneTrigger(table))() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM changed WHERE \(rule.predicate)) THEN
                RETURN NULL;
            END IF;
            PERFORM pg_advisory_xact_lock(hashtext(\(SQLNames.literal(atLeastOneTrigger(table)))));
            IF NOT EXISTS (SELECT 1 FROM \(table) WHERE \(rule.predicate)) THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = \(SQLNames.literal(rule.code)), TABLE = \(SQLNames.literal(table)),
                    MESSAGE = \(SQLNames.literal(rule.message));
            END IF;
            RETURN NULL;
        END;
        $$;
        """
    }

    /// Refuses the statement, whoever runs it (the application's role owns its tables, so a REVOKE would not hold).
    static let appendOnlyFunction = """
        CREATE OR REPLACE FUNCTION stam_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
        END;
        $$;
        """

    static func addForeignKey(_ key: DatabaseModel.ForeignKey, to table: String) -> String {
        "ALTER TABLE \(table) ADD CONSTRAINT \(key.name) FOREIGN KEY (\(key.columns.joined(separator: ", "))) "
            + "REFERENCES \(key.referencedTable) (\(key.referencedColumns.joined(separator: ", "))) ON DELETE \(key.onDelete);"
    }
}
