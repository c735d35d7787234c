import Foundation
import MigrationSupport

/// Versioned migrations: `migration new` writes the next `NNNN_name.sql` from the difference between the
/// committed snapshot and the schema; `check` proves every schema change has its migration and that no
/// committed migration was edited.
extension StamGenerator {
    public struct MigrationError: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The committed migrations (verified) and the snapshot of the model they produce.
    public func migrationState() throws -> (directory: MigrationDirectory, snapshot: MigrationSnapshot?) {
        let directory = try MigrationDirectory(path: absolute(Self.migrationsDirectory))
        try directory.verify()
        let snapshotPath = absolute("\(Self.migrationsDirectory)/\(MigrationSnapshot.fileName)")
        guard let data = FileManager.default.contents(atPath: snapshotPath) else {
            if let last = directory.files.last {
                throw MigrationError("\(Self.migrationsDirectory)/\(MigrationSnapshot.fileName): error: missing, but migrations exist up to \(last.fileName); restore it from git")
            }
            return (directory, nil)
        }
        let snapshot: MigrationSnapshot
        do {
            snapshot = try MigrationSnapshot.parse(data)
        } catch {
            throw MigrationError("\(Self.migrationsDirectory)/\(MigrationSnapshot.fileName): error: unreadable snapshot: \(error)")
        }
        if snapshot.migration != directory.files.last?.name {
            throw MigrationError(
                "\(Self.migrationsDirectory)/\(MigrationSnapshot.fileName): error: the snapshot is of migration '\(snapshot.migration)', but the last migration is '\(directory.files.last?.name ?? "none")'")
        }
        return (directory, snapshot)
    }

    /// Plans the SQL from the committed snapshot to `schema`.
    public func pendingMigration(for schema: Schema) throws -> MigrationPlanner.Plan {
        let state = try migrationState()
        return MigrationPlanner.plan(from: state.snapshot?.model ?? DatabaseModel(tables: []), to: DatabaseModelBuilder.build(schema))
    }

    /// The files `migration new NAME` writes: the migration, the updated manifest and snapshot.
    public func newMigration(named name: String, schema: Schema, allowDestructive: Bool) throws -> [GeneratedFile] {
        guard MigrationFile.parse(fileName: MigrationFile.fileName(number: 1, name: name)) != nil else {
            throw MigrationError("invalid migration name '\(name)': use lower snake_case, e.g. add_zone_masks")
        }
        let state = try migrationState()
        let plan = MigrationPlanner.plan(from: state.snapshot?.model ?? DatabaseModel(tables: []), to: DatabaseModelBuilder.build(schema))
        if !plan.errors.isEmpty {
            throw MigrationError(plan.errors.map { "error: \($0)" }.joined(separator: "\n"))
        }
        if plan.isEmpty {
            throw MigrationError("nothing to migrate: the database model of the schema equals the one of migration \(state.snapshot?.migration ?? "(none)")")
        }
        let destructive = plan.destructiveReasons
        if !destructive.isEmpty && !allowDestructive {
            throw MigrationError(
                "error: the migration would lose data or fail on existing rows; rerun with --allow-destructive if that is intended:\n"
                    + destructive.map { "  - \($0)" }.joined(separator: "\n"))
        }
        let fileName = MigrationFile.fileName(number: (state.directory.files.last?.number ?? 0) + 1, name: name)
        let migrationName = String(fileName.dropLast(4))
        let sql = Self.renderMigration(plan, name: migrationName)
        let migration = try MigrationFile(fileName: fileName, sql: sql)
        let manifest = MigrationManifest(files: state.directory.files + [migration])
        let snapshot = MigrationSnapshot(migration: migrationName, model: DatabaseModelBuilder.build(schema))
        return [
            GeneratedFile(path: "\(Self.migrationsDirectory)/\(fileName)", contents: sql),
            GeneratedFile(path: "\(Self.migrationsDirectory)/\(MigrationManifest.fileName)", contents: manifest.rendered),
            GeneratedFile(path: "\(Self.migrationsDirectory)/\(MigrationSnapshot.fileName)", contents: snapshot.rendered),
        ]
    }

    static func renderMigration(_ plan: MigrationPlanner.Plan, name: String) -> String {
        var text = GeneratedFile.sqlHeader(source: SchemaFile.entities.path)
        text += "-- Migration \(name), applied in one transaction by `stam migrate`.\n"
        let destructive = plan.destructiveReasons
        if !destructive.isEmpty {
            text += "-- DESTRUCTIVE (generated with --allow-destructive):\n"
            text += destructive.map { "--   \($0)\n" }.joined()
        }
        for statement in plan.statements {
            text += "\n"
            if let reason = statement.destructiveReason { text += "-- DESTRUCTIVE: \(reason)\n" }
            text += statement.sql + "\n"
        }
        return text
    }

    /// Problems `check` reports about migrations: edited or missing files, or a schema change without its
    /// migration (with the SQL that `migration new` would write).
    public func migrationProblems(for schema: Schema) -> [String] {
        do {
            let plan = try pendingMigration(for: schema)
            if plan.isEmpty { return [] }
            let summary = plan.statements.map { statement in
                "  " + (statement.sql.split(separator: "\n").first.map(String.init) ?? statement.sql)
                    + (statement.destructiveReason.map { "  -- DESTRUCTIVE: \($0)" } ?? "")
            }
            return ["schema/entities.yaml: error: the schema changed but no migration covers it; run `stamgen migration new <name>`, which would write \(plan.statements.count) statement(s):\n"
                + summary.joined(separator: "\n")]
        } catch {
            return ["\(error)"]
        }
    }
}
