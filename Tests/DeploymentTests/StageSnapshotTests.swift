import DevStack
import Foundation
import Generated
import Logging
import Testing
import TestSupport

/// `stam snapshot` (the binary) from a migrated "production" database seeded with known personal values, into an
/// empty "stage" database: none of the values is left anywhere in stage's dump, every relation still holds, and the
/// same key gives the same bytes. The seed is SQL written here (production's data is the input, not what the test
/// checks), and it fills every column the schema marks personal, so a new one must be seeded here too.
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct StageSnapshotTests {
    let logger = Logger(label: "test.snapshot")

    /// What the seed writes into personal columns only, as the search looks for it: case-folded, and phones also as
    /// digits only. Secrets as the hex pg_dump prints for bytea.
    static let seededValues = [
        "Kowalski", "Zbigniew", "Halina", "Nowak", "Piotrkowska", "90-006", "Jubiler", "KOWAL-77", "sąsiadk", "Zbyszka",
        "zbigniew.kowalski", "Mozilla/5.0 (Kowalski-PC)", "203.0.113.77", "198.18.7.9", "10.77.1.15", "Ziemowit",
        "601234567", "600100200", "602345678", "603456789", "604567890", "c0ffeec0ffee", "52.2297", "Marszałkowska",
    ]

    static let seed = """
        INSERT INTO sites (id, code, name, address, contact_name, contact_phone, notes) VALUES
          ('10000000-0000-0000-0000-000000000001', 'KOWAL-77', 'Jubiler Kowalski', 'ul. Piotrkowska 104, 90-006 Łódź',
           'Zbigniew Kowalski', '+48 602 345 678', 'Klucze u sąsiadki, Pani Haliny Nowak');
        INSERT INTO panels (id, site_id, name, host, integration_key, user_code, sim_phone) VALUES
          ('10000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-000000000001', 'Centrala Jubiler Kowalski', '10.77.1.15',
           '\\xc0ffeec0ffee01', '\\xc0ffeec0ffee02', '+48 600 100 200');
        INSERT INTO partitions (panel_id, number, name, description) VALUES
          ('10000000-0000-0000-0000-000000000002', 1, 'Sklep Kowalski', 'Zaplecze Haliny');
        INSERT INTO zones (panel_id, number, name, description) VALUES
          ('10000000-0000-0000-0000-000000000002', 1, 'Drzwi Zbyszka', 'Okno sypialni Haliny');
        INSERT INTO schedule_exceptions (site_id, starts_on, ends_on, reason) VALUES
          ('10000000-0000-0000-0000-000000000001', '2026-12-24', '2026-12-26', 'Urlop Zbigniewa Kowalskiego');
        INSERT INTO outputs (panel_id, number, name) VALUES ('10000000-0000-0000-0000-000000000002', 1, 'Syrena u Kowalskich');
        INSERT INTO panel_events (panel_id, source, occurred_at, description, raw, fencing_token) VALUES
          ('10000000-0000-0000-0000-000000000002', 'event_log', now(), 'Rozbrojenie: Halina Nowak', '\\xc0ffeec0ffee03', 1);
        INSERT INTO operators (id, login, display_name, password_hash) VALUES
          ('10000000-0000-0000-0000-000000000003', 'zbigniew.kowalski', 'Zbigniew Kowalski (dyżurny)', '\\xc0ffeec0ffee04');
        INSERT INTO alarms (id, site_id, panel_id, kind, title) VALUES
          ('10000000-0000-0000-0000-000000000004', '10000000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-000000000002',
           'sms', 'SMS: ALARM u Kowalskiego, dzwoni Halina');
        INSERT INTO alarm_notes (alarm_id, author_id, body) VALUES
          ('10000000-0000-0000-0000-000000000004', '10000000-0000-0000-0000-000000000003', 'Dzwoniłem do Pani Haliny Nowak');
        INSERT INTO contacts (id, site_id, name, phone, phone_alt, code_word, availability, notes) VALUES
          ('10000000-0000-0000-0000-000000000005', '10000000-0000-0000-0000-000000000001', 'Halina Nowak', '0048 602-345-678',
           '+48 603 456 789', '\\xc0ffeec0ffee05', 'Po 18:00 u Haliny', 'Sąsiadka Kowalskiego');
        INSERT INTO alarm_steps (alarm_id, instruction, required, outcome, contact_id, note, operator_id) VALUES
          ('10000000-0000-0000-0000-000000000004', 'Zadzwoń do Zbigniewa Kowalskiego', true, 'done',
           '10000000-0000-0000-0000-000000000005', 'Halina Nowak odebrała', '10000000-0000-0000-0000-000000000003');
        INSERT INTO alarm_history_entries (alarm_id, kind, operator_id, text, details) VALUES
          ('10000000-0000-0000-0000-000000000004', 'note', '10000000-0000-0000-0000-000000000003', 'Notatka: Halina Nowak',
           '{"contact": "Halina Nowak", "phone": "+48 604 567 890"}');
        INSERT INTO site_comments (site_id, body) VALUES ('10000000-0000-0000-0000-000000000001', 'Pies Zbigniewa Kowalskiego gryzie');
        INSERT INTO action_plan_steps (site_id, priority, position, kind, instruction) VALUES
          ('10000000-0000-0000-0000-000000000001', 'burglary', 1, 'call_contacts', 'Najpierw Halina Nowak, potem Zbigniew');
        INSERT INTO quick_notes (text, position) VALUES ('Rozmowa z Kowalskim', 1);
        INSERT INTO operator_sessions (operator_id, role, address, user_agent, expires_at) VALUES
          ('10000000-0000-0000-0000-000000000003', 'admin', '203.0.113.77', 'Mozilla/5.0 (Kowalski-PC)', now() + interval '1 hour');
        INSERT INTO dc09_accounts (id, account, key, key_form, panel_id) VALUES
          ('10000000-0000-0000-0000-000000000006', '1234', '\\xc0ffeec0ffee06', 'hex', '10000000-0000-0000-0000-000000000002');
        INSERT INTO dc09_paths (account_id, receiver_instance, last_signal_at, transport, peer) VALUES
          ('10000000-0000-0000-0000-000000000006', 'dc09-receiver-1', now(), 'tcp', '198.18.7.9:41000');
        INSERT INTO dc09_messages (account_id, sequence, token, encrypted, data, extended_data, transport, peer, receiver_instance, raw, content_key) VALUES
          ('10000000-0000-0000-0000-000000000006', 1, 'ADM-CID', false, '#1234|1130 01 015 Kowalski', '{"location": "52.2297,21.0122 Marszałkowska"}',
           'tcp', '198.18.7.9:41000', 'dc09-receiver-1', '"ADM-CID"0001L0#1234[#1234|1130 01 015 Kowalski]', 'c0ffeec0ffee07');
        INSERT INTO sms_messages (sender, body, sent_at, dedup_key, panel_id, site_id) VALUES
          ('0048600100200', 'ALARM: wlamanie u Zbigniewa Kowalskiego', now(), '0048600100200|2026-12-07T10:00:00Z|17',
           '10000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-000000000001');
        INSERT INTO audit_entries (operator_id, action, entity_type, address, details) VALUES
          ('10000000-0000-0000-0000-000000000003', 'update', 'Contact', '203.0.113.77', '{"name": ["Halina Kowalska", "Halina Nowak"]}');
        INSERT INTO outbox (aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key, payload) VALUES
          ('SmsMessage', '10000000-0000-0000-0000-000000000007', 'SmsReceived', 1, 'events', 'sms.received',
           '{"sender": "+48 601 234 567", "body": "Ziemowit Kowalski"}');
        """

    @Test func aSnapshotLeavesNoSeededPersonalValueAndKeepsEveryRelation() async throws {
        let postgres = try #require(TestPostgres.current)
        let production = try await postgres.migratedDatabaseURL(logger: logger)
        let productionName = Self.databaseName(production.url)
        try postgres.server.superuserSQL(Self.seed, database: productionName)
        // The seed covers every personal column of the schema.
        for column in StamSchema.personalColumns {
            let count = try postgres.server.superuserSQL("SELECT count(*) FROM \(column.table) WHERE \(column.column) IS NOT NULL", database: productionName)
            #expect(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0, "\(column.table).\(column.column) is not seeded")
        }
        let productionDump = try dump(productionName, server: postgres.server)
        for value in Self.seededValues {
            #expect(Self.search(productionDump, for: value), "the seed does not write '\(value)', so its absence proves nothing")
        }

        let directory = try DeploymentTools.temporaryDirectory("snapshot")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = "\(directory)/key"
        try Data((0..<32).map { UInt8($0 * 7 % 256) }).write(to: URL(fileURLWithPath: key))
        let stage = try postgres.freshDatabase(), again = try postgres.freshDatabase()
        for target in [stage, again] {
            let (status, output) = try snapshot(["--from", production.url, "--from-password-file", production.passwordFile,
                                                 "--to", target.url, "--to-password-file", target.passwordFile, "--key-file", key])
            #expect(status == 0, "\(output)")
            #expect(output.contains("personal columns of"), "\(output)")
        }
        let stageName = Self.databaseName(stage.url)
        let stageDump = try dump(stageName, server: postgres.server)
        for value in Self.seededValues {
            #expect(!Self.search(stageDump, for: value), "'\(value)' is still in stage's data")
        }
        // The same key and data give the same bytes (but for pg_dump's random \restrict key of each dump).
        func data(_ database: String) throws -> [Substring] {
            try dump(database, server: postgres.server, dataOnly: true).split(separator: "\n").filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
        }
        let first = try data(stageName), second = try data(Self.databaseName(again.url))
        #expect(first.count > 50 && first == second)

        func sql(_ query: String, _ database: String) throws -> String {
            try postgres.server.superuserSQL(query, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Every table keeps its rows (foreign keys were checked by the restore itself), but the outbox and the
        // consumers' record, whose payloads are events.
        let tables = try sql("SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'", productionName)
            .split(separator: " ").map(String.init)
        #expect(tables.count > 20)
        for table in tables {
            let expected = SnapshotAnonymisationExpectations.emptied.contains(table) ? "0" : try sql("SELECT count(*) FROM \(table)", productionName)
            #expect(try sql("SELECT count(*) FROM \(table)", stageName) == expected, "\(table)")
        }
        // The SMS still belongs to its panel by number, and the site's contact phone is still the contact's.
        let smsJoin = """
            SELECT count(*) FROM sms_messages s JOIN panels p
              ON right(regexp_replace(p.sim_phone, '[^0-9]', '', 'g'), 9) = right(regexp_replace(s.sender, '[^0-9]', '', 'g'), 9)
            """
        #expect(try sql(smsJoin, productionName) == "1" && sql(smsJoin, stageName) == "1")
        let phoneJoin = """
            SELECT count(*) FROM sites s JOIN contacts c
              ON right(regexp_replace(s.contact_phone, '[^0-9]', '', 'g'), 9) = right(regexp_replace(c.phone, '[^0-9]', '', 'g'), 9)
            """
        #expect(try sql(phoneJoin, productionName) == "1" && sql(phoneJoin, stageName) == "1")
        // Replacements keep the fields' rules; stage reaches no premises and holds no secret of production.
        #expect(try sql("SELECT login FROM operators", stageName).hasPrefix("user-"))
        #expect(try sql("SELECT count(*) FROM panels WHERE host IS NULL AND integration_key IS NULL AND user_code IS NULL", stageName) == "1")
        #expect(try sql("SELECT count(*) FROM contacts WHERE code_word IS NULL AND phone ~ '^[+]48[0-9]{9}$'", stageName) == "1")
        #expect(try sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stam_snapshot'", stageName) == "0")
    }

    @Test func aSnapshotRefusesAStageDatabaseThatIsNotEmpty() async throws {
        let postgres = try #require(TestPostgres.current)
        let production = try await postgres.migratedDatabaseURL(logger: logger)
        let stage = try await postgres.migratedDatabaseURL(logger: logger)
        let directory = try DeploymentTools.temporaryDirectory("snapshot")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(repeating: 7, count: 32).write(to: URL(fileURLWithPath: "\(directory)/key"))
        let (status, output) = try snapshot(["--from", production.url, "--from-password-file", production.passwordFile,
                                             "--to", stage.url, "--to-password-file", stage.passwordFile, "--key-file", "\(directory)/key"])
        #expect(status != 0)
        #expect(output.contains("is not empty"), "\(output)")
        // A short key is refused before anything is read.
        try Data(repeating: 7, count: 8).write(to: URL(fileURLWithPath: "\(directory)/short"))
        let short = try snapshot(["--from", production.url, "--from-password-file", production.passwordFile,
                                  "--dump", "\(directory)/out.dump", "--key-file", "\(directory)/short"])
        #expect(short.0 != 0 && short.1.contains("at least 32 bytes"), "\(short.1)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/out.dump"))
    }

    func snapshot(_ arguments: [String]) throws -> (Int32, String) {
        try LocalProcess.status(StamBinary.path, ["snapshot"] + arguments)
    }

    func dump(_ database: String, server: PostgresServer, dataOnly: Bool = false) throws -> String {
        try LocalProcess.run("\(PostgresServer.binDirectory)/pg_dump", ["-h", server.socketDirectory, "-p", String(server.port), "-U", "postgres",
                                                                       "--format=plain", "--no-owner"] + (dataOnly ? ["--data-only"] : []) + [database])
    }

    /// Case-folded; a number (a phone, digits only in the list) also as people write it, with spaces, dashes,
    /// brackets and a plus between its digits.
    static func search(_ dump: String, for value: String) -> Bool {
        if dump.lowercased().contains(value.lowercased()) { return true }
        guard value.allSatisfy(\.isNumber) else { return false }
        return dump.split { !($0.isNumber || " +-()".contains($0)) }.contains { $0.filter(\.isNumber).contains(value) }
    }

    static func databaseName(_ url: String) -> String {
        String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
    }
}

/// What `stam snapshot` empties rather than rewrites (SnapshotAnonymisation.emptiedTables, which this target cannot import).
enum SnapshotAnonymisationExpectations {
    static let emptied: Set<String> = ["outbox", "processed_messages"]
}
