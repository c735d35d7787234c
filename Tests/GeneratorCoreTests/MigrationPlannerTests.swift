import Foundation
import MigrationSupport
import Testing
@testable import GeneratorCore

/// `stamgen migration new` on a throw-away project: what a schema change turns into.
@Suite struct MigrationPlannerTests {
    static let base = """
        roles: [operator]
        enums:
          Color: [red, green]
        entities:
          Site:
            fields:
              id: { type: uuid, primary: true, default: random }
              name: { type: string, max: 100, personal: false }
              legacy_code: { type: string, max: 10, optional: true, personal: false }

        """

    /// A project whose first migration was generated from `base`.
    func project() throws -> (StamGenerator, String) {
        let root = try SchemaSnippet.temporaryProject(entities: Self.base)
        let generator = StamGenerator(root: root)
        let files = try generator.newMigration(named: "initial", schema: try generator.loadSchema().schema, allowDestructive: false)
        try generator.apply(.init(written: files))
        return (generator, root)
    }

    func nextMigration(_ entities: String, allowDestructive: Bool = false) throws -> String {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SchemaSnippet.write(root: root, entities: entities)
        let files = try generator.newMigration(named: "change", schema: try generator.loadSchema().schema, allowDestructive: allowDestructive)
        #expect(files.map(\.path) == ["migrations/0002_change.sql", "migrations/manifest.sha256", "migrations/schema.snapshot.json"])
        try generator.apply(.init(written: files))
        // After the migration the schema is covered, and the directory verifies.
        #expect(generator.migrationProblems(for: try generator.loadSchema().schema) == [])
        try MigrationDirectory(path: "\(root)/migrations").verify()
        return files[0].contents
    }

    /// The statements of a migration file, without comments.
    func statements(_ sql: String) -> [String] {
        SQLScript.statements(in: sql).map { $0.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n") }
    }

    @Test func addEntity() throws {
        let sql = try nextMigration(Self.base + """
              Visit:
                fields:
                  id: { type: uuid, primary: true }
                  site_id: { ref: Site, on_delete: cascade }
            """)
        #expect(statements(sql) == [
            "CREATE TABLE visits (\n    id uuid NOT NULL,\n    site_id uuid NOT NULL,\n    CONSTRAINT visits_pkey PRIMARY KEY (id)\n)",
            "CREATE INDEX visits_site_id_idx ON visits (site_id)",
            "ALTER TABLE visits ADD CONSTRAINT visits_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE",
        ])
        #expect(!sql.contains("DESTRUCTIVE"))
    }

    @Test func addColumnWithDefault() throws {
        let sql = try nextMigration(Self.base + "      active: { type: bool, default: true }\n      color: { enum: Color, default: red }\n")
        #expect(statements(sql) == [
            "ALTER TABLE sites ADD COLUMN active boolean NOT NULL DEFAULT true",
            "ALTER TABLE sites ADD COLUMN color text NOT NULL DEFAULT 'red'",
            "ALTER TABLE sites ADD CONSTRAINT sites_color_check CHECK (color IN ('red', 'green'))",
        ])
    }

    @Test func requiredColumnWithoutDefaultIsRefused() throws {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SchemaSnippet.write(root: root, entities: Self.base + "      code: { type: string, max: 8, personal: false }\n")
        #expect(throws: StamGenerator.MigrationError.self) {
            try generator.newMigration(named: "add_code", schema: try generator.loadSchema().schema, allowDestructive: true)
        }
    }

    @Test func appendOnlyAddsTheRefusingTriggerOnceAndDropsItWhenLifted() throws {
        let appendOnly = Self.base.replacingOccurrences(of: "  Site:\n", with: "  Site:\n    append_only: true\n")
        let sql = try nextMigration(appendOnly)
        let planned = statements(sql)
        #expect(planned.count == 2)
        #expect(planned.first?.hasPrefix("CREATE OR REPLACE FUNCTION stam_refuse_change() RETURNS trigger") == true)
        #expect(planned.last == "CREATE TRIGGER sites_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON sites FOR EACH STATEMENT EXECUTE FUNCTION stam_refuse_change()")
        // Lifted: the trigger goes (the function stays for other tables).
        let old = DatabaseModelBuilder.build(try SchemaSnippet.load(entities: appendOnly).schema)
        let new = DatabaseModelBuilder.build(try SchemaSnippet.load(entities: Self.base).schema)
        #expect(MigrationPlanner.plan(from: old, to: new).statements.map(\.sql) == ["DROP TRIGGER sites_append_only ON sites;"])
    }

    @Test func addIndex() throws {
        let sql = try nextMigration(Self.base + "    indexes: [[name]]\n    unique: [[legacy_code]]\n")
        #expect(statements(sql) == [
            "ALTER TABLE sites ADD CONSTRAINT sites_legacy_code_key UNIQUE (legacy_code)",
            "CREATE INDEX sites_name_idx ON sites (name)",
        ])
    }

    @Test func renameIsNotGuessedButDropAndAddWhichIsDestructive() throws {
        let renamed = Self.base.replacingOccurrences(of: "legacy_code:", with: "old_code:")
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SchemaSnippet.write(root: root, entities: renamed)
        let schema = try generator.loadSchema().schema
        #expect(throws: StamGenerator.MigrationError.self) {
            try generator.newMigration(named: "rename", schema: schema, allowDestructive: false)
        }
        let sql = try nextMigration(renamed, allowDestructive: true)
        #expect(statements(sql) == [
            "ALTER TABLE sites ADD COLUMN old_code varchar(10)",
            "ALTER TABLE sites DROP COLUMN legacy_code",
        ])
        #expect(sql.contains("-- DESTRUCTIVE (generated with --allow-destructive):\n--   drops column sites.legacy_code and its data\n"))
        #expect(sql.contains("-- DESTRUCTIVE: drops column sites.legacy_code and its data\nALTER TABLE sites DROP COLUMN legacy_code;"))
    }

    @Test func dropColumnIsRefusedWithoutTheFlag() throws {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SchemaSnippet.write(root: root, entities: Self.base.replacingOccurrences(of: "      legacy_code: { type: string, max: 10, optional: true, personal: false }\n", with: ""))
        do {
            _ = try generator.newMigration(named: "drop_code", schema: try generator.loadSchema().schema, allowDestructive: false)
            Issue.record("a destructive migration was written without --allow-destructive")
        } catch let error as StamGenerator.MigrationError {
            #expect(error.description.contains("drops column sites.legacy_code and its data"))
            #expect(error.description.contains("--allow-destructive"))
        }
        // Nothing was written.
        #expect(!FileManager.default.fileExists(atPath: "\(root)/migrations/0002_drop_code.sql"))
    }

    @Test func wideningIsSafeNarrowingIsDestructive() throws {
        let widened = try nextMigration(Self.base.replacingOccurrences(of: "max: 100", with: "max: 200"))
        #expect(statements(widened) == ["ALTER TABLE sites ALTER COLUMN name TYPE varchar(200)"])
        let narrowed = try nextMigration(Self.base.replacingOccurrences(of: "max: 100", with: "max: 50"), allowDestructive: true)
        #expect(narrowed.contains("-- DESTRUCTIVE: changes sites.name from varchar(100) to varchar(50)"))
    }

    @Test func removingAnEnumValueIsDestructiveAddingOneIsNot() throws {
        let withColor = Self.base + "      color: { enum: Color, optional: true }\n"
        let added = MigrationPlanner.plan(
            from: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: withColor).schema),
            to: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: withColor.replacingOccurrences(of: "[red, green]", with: "[red, green, blue]")).schema))
        #expect(added.destructiveReasons.isEmpty)
        #expect(added.statements.map(\.sql) == [
            "ALTER TABLE sites DROP CONSTRAINT sites_color_check;",
            "ALTER TABLE sites ADD CONSTRAINT sites_color_check CHECK (color IN ('red', 'green', 'blue'));",
        ])
        let removed = MigrationPlanner.plan(
            from: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: withColor).schema),
            to: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: withColor.replacingOccurrences(of: "[red, green]", with: "[red]")).schema))
        #expect(removed.destructiveReasons == ["removes allowed values green of sites.color; rows holding them make it fail"])
    }

    /// A value renamed with `renamed:` is not lost: its rows are rewritten between dropping the old CHECK and adding
    /// the new one, so the change is safe; the generated Swift type still reads the old name.
    @Test func aRenamedEnumValueRewritesItsRows() throws {
        let withColor = Self.base + "      color: { enum: Color, default: green }\n"
        let renamed = withColor.replacingOccurrences(of: "Color: [red, green]", with: "Color: { values: [red, lime], renamed: { green: lime } }")
            .replacingOccurrences(of: "default: green", with: "default: lime")
        let plan = MigrationPlanner.plan(from: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: withColor).schema),
                                         to: DatabaseModelBuilder.build(try SchemaSnippet.load(entities: renamed).schema))
        #expect(plan.destructiveReasons.isEmpty)
        #expect(plan.statements.map(\.sql) == [
            "ALTER TABLE sites DROP CONSTRAINT sites_color_check;",
            "ALTER TABLE sites ALTER COLUMN color SET DEFAULT 'lime';",
            "UPDATE sites SET color = 'lime' WHERE color = 'green';",
            "ALTER TABLE sites ADD CONSTRAINT sites_color_check CHECK (color IN ('red', 'lime'));",
        ])
        let swift = SwiftModelRenderer(schema: try SchemaSnippet.load(entities: renamed).schema).render(
            enumeration: try #require(try SchemaSnippet.load(entities: renamed).schema.enumeration(named: "Color")))
        #expect(swift.contains(#"case "lime", "green": self = .lime"#))
    }

    @Test func checkFailsWhenTheSchemaChangedWithoutAMigration() throws {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(generator.migrationProblems(for: try generator.loadSchema().schema) == [])
        try SchemaSnippet.write(root: root, entities: Self.base + "      notes: { type: text, optional: true, personal: false }\n")
        let problems = generator.migrationProblems(for: try generator.loadSchema().schema)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("the schema changed but no migration covers it") == true)
        #expect(problems.first?.contains("ALTER TABLE sites ADD COLUMN notes text;") == true)
    }

    @Test func checkFailsWhenACommittedMigrationWasEdited() throws {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = "\(root)/migrations/0001_initial.sql"
        try (try String(contentsOfFile: path, encoding: .utf8) + "\n-- a harmless looking edit\n").write(toFile: path, atomically: true, encoding: .utf8)
        let problems = generator.migrationProblems(for: try generator.loadSchema().schema)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("0001_initial.sql: error: the migration was changed after it was committed") == true)
    }

    @Test func nothingToMigrateIsAnError() throws {
        let (generator, root) = try project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: StamGenerator.MigrationError.self) {
            try generator.newMigration(named: "again", schema: try generator.loadSchema().schema, allowDestructive: false)
        }
    }
}
