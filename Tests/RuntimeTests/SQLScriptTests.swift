import MigrationSupport
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsOnTopLevelSemicolonsOnly() {
        let script = """
            -- header; with a semicolon
            CREATE TABLE a (note text DEFAULT 'x;y');
            /* block; comment */ INSERT INTO "we;ird" VALUES ('it''s; fine');
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN PERFORM pg_notify('c', 'a;b'); RETURN NEW; END $body$ LANGUAGE plpgsql;
            DO $$ BEGIN RAISE NOTICE 'x;'; END $$;
            -- trailing comment only
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 4)
        #expect(statements[0] == "-- header; with a semicolon\nCREATE TABLE a (note text DEFAULT 'x;y')")
        #expect(statements[1] == "/* block; comment */ INSERT INTO \"we;ird\" VALUES ('it''s; fine')")
        #expect(statements[2].hasSuffix("END $body$ LANGUAGE plpgsql"))
        #expect(statements[3] == "DO $$ BEGIN RAISE NOTICE 'x;'; END $$")
    }

    @Test func emptyAndCommentOnlyScriptsHaveNoStatements() {
        #expect(SQLScript.statements(in: "").isEmpty)
        #expect(SQLScript.statements(in: "-- nothing\n;\n  ;").isEmpty)
    }
}
