import DC09
import Database
import DevStack
import Foundation
import Generated
import Logging
import Persistence
import PostgresNIO
import StamCore
import TestSupport
import Testing

/// `stam receiver` as a real process on a real PostgreSQL: killed with SIGKILL between a frame's receipt and its ACK
/// (before the commit, and after it), the sender's retry to the next receiver is ACKed and the event is kept once;
/// frames from an unknown account are refused and written to the audit trail once per window; the process reports
/// readiness and its frames in /metrics.
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct DC09ReceiverProcessTests {
    let logger = Logger(label: "dc09-receiver-process-tests")

    struct Station: Sendable {
        var url: String
        var secrets: String
        var logs: String
        var database: DatabaseConfiguration
        var panelID: UUID

        /// A `stam receiver` on `port`, with its metrics on `metricsPort`, ready (its /readyz said 200).
        func receiver(_ name: String, port: Int, metricsPort: Int, environment extra: [String: String] = [:]) async throws -> LocalProcess {
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = url
            environment["STAM_SECRETS_DIR"] = secrets
            for (key, value) in extra { environment[key] = value }
            let process = try LocalProcess(
                name: "stam receiver \(name)", executable: StamBinary.path,
                arguments: ["receiver", "--instance", name, "--host", "127.0.0.1", "--port", String(port), "--metrics-host", "127.0.0.1",
                            "--metrics-port", String(metricsPort), "--accounts-refresh", "1s"],
                environment: environment, logFile: "\(logs)/\(name).log")
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if (try? await HTTPGet.get(port: metricsPort, path: "/readyz", timeout: 2))?.status == 200 {
                    return process
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            process.stop(signal: SIGKILL)
            let log = (try? String(contentsOfFile: "\(logs)/\(name).log", encoding: .utf8)) ?? ""
            throw LocalProcess.LaunchError(description: "stam receiver \(name) not ready: \(log.suffix(2000))")
        }

        func count(_ sql: String) async throws -> Int {
            try await query(sql).first.flatMap { Int($0) } ?? -1
        }

        func query(_ sql: String) async throws -> [String] {
            let logger = Logger(label: "dc09-receiver-process-tests")
            let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
            defer { Task { try? await connection.close() } }
            var values: [String] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String.self) { values.append(value) }
            return values
        }
    }

    func withStation(_ body: @Sendable (Station) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let (url, passwordFile) = try await postgres.migratedDatabaseURL(logger: logger)
        let directory = try RunDirectory.create("dc09-process").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secrets = "\(directory)/secrets"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: passwordFile, toPath: "\(secrets)/postgres_password")
        // The key of the secret columns, as `stam secrets init` writes it: the receiver reads accounts' keys with it.
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            .write(toFile: "\(secrets)/encryption_key", atomically: true, encoding: .utf8)
        let database = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
        let logger = logger
        let panelID = try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox(keyFile: "\(secrets)/encryption_key"), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Pharmacy"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "IP communicator", host: nil))
            _ = try await repositories.dc09Accounts.insert(Dc09Account(account: "1234", panelId: panel.id))
            _ = try await repositories.dc09Accounts.insert(Dc09Account(account: "5678", key: Secret("000102030405060708090A0B0C0D0E0F"), keyForm: .hex,
                                                                       panelId: panel.id))
            return panel.id
        }
        try await body(Station(url: url, secrets: secrets, logs: directory, database: database, panelID: panelID))
    }

    /// Contact ID 130 (burglary), new, partition 1, zone 5, as a communicator sends it.
    static func burglary(sequence: Int, account: String = "1234", key: DC09Key? = nil) throws -> [UInt8] {
        try DC09MessageBuilder.frame(DC09Message(
            header: DC09Header(token: .contactID, encrypted: key != nil, sequence: sequence, receiver: nil, linePrefix: "0", account: account),
            data: "#\(account)|1130 01 005", timestamp: key == nil ? nil : Date()), key: key)
    }

    func send(_ frame: [UInt8], to port: Int, key: DC09Key? = nil, timeout: Duration = .seconds(10)) async throws -> DC09ReceivedAnswer {
        try DC09ReceivedAnswer.read(try await DC09Sender.send(frame, host: "127.0.0.1", port: port, transport: .tcp, timeout: timeout), key: key)
    }

    func metric(_ line: String, port: Int) async throws -> Double? {
        let text = try await HTTPGet.get(port: port, path: "/metrics", timeout: 5).body
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func waitFor(_ what: String, within bound: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("not within \(bound): \(what)")
        throw CancellationError()
    }

    @Test func killedAfterTheCommitBeforeTheACKTheRetryIsAcknowledgedAndStoredOnce() async throws {
        try await withStation { station in
            let (port, metricsPort) = (try FreePort.find(), try FreePort.find())
            let marker = "\(station.logs)/committed"
            let victim = try await station.receiver("victim", port: port, metricsPort: metricsPort,
                                                    environment: ["STAM_RECEIVER_TEST_PAUSE_BEFORE_ACK": marker])
            defer { victim.stop(signal: SIGKILL) }
            let frame = try Self.burglary(sequence: 7)
            let first = Task { try await self.send(frame, to: port, timeout: .seconds(30)) }
            try await waitFor("the receiver committed the message and holds its ACK") { FileManager.default.fileExists(atPath: marker) }
            #expect(try await station.count("SELECT count(*)::text FROM dc09_messages") == 1)
            kill(victim.pid, SIGKILL)
            victim.stop(signal: SIGKILL)
            // The communicator never got its ACK: for it, the message is not delivered.
            await #expect(throws: DC09Sender.NoAnswer.self) { try await first.value }

            // It sends the same frame again, to the receiver that took over the address.
            let survivor = try await station.receiver("survivor", port: port, metricsPort: metricsPort)
            defer { survivor.stop(signal: SIGKILL) }
            let answer = try await send(frame, to: port)
            #expect(answer.kind == .ack && answer.sequence == 7)
            #expect(try await station.count("SELECT count(*)::text FROM dc09_messages") == 1)
            #expect(try await station.count("SELECT count(*)::text FROM panel_events WHERE source = 'dc09'") == 1)
            #expect(try await station.count("SELECT count(*)::text FROM alarms WHERE kind = 'burglary'") == 1)
            #expect(try await station.count("SELECT count(*)::text FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
            #expect(try await metric(#"stam_dc09_frames_total{answer="duplicate"}"#, port: metricsPort) == 1)
        }
    }

    @Test func killedBeforeTheCommitNothingIsKeptAndTheRetryIsStoredOnce() async throws {
        try await withStation { station in
            let (port, metricsPort) = (try FreePort.find(), try FreePort.find())
            let victim = try await station.receiver("victim", port: port, metricsPort: metricsPort)
            defer { victim.stop(signal: SIGKILL) }
            // The account's row locked by another transaction: the receiver's store waits inside its own, uncommitted.
            let logger = logger
            let blocker = try await PostgresConnection.connect(configuration: station.database.connectionConfiguration, id: 2, logger: logger)
            _ = try await blocker.query("BEGIN", logger: logger)
            _ = try await blocker.query("SELECT id FROM dc09_accounts WHERE account = '1234' FOR UPDATE", logger: logger).collect()
            let frame = try Self.burglary(sequence: 8)
            let first = Task { try await self.send(frame, to: port, timeout: .seconds(30)) }
            try await waitFor("the receiver's transaction waits for the lock") {
                try await station.count("""
                    SELECT count(*)::text FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE%dc09_accounts%'
                    """) == 1
            }
            kill(victim.pid, SIGKILL)
            victim.stop(signal: SIGKILL)
            await #expect(throws: DC09Sender.NoAnswer.self) { try await first.value }
            _ = try await blocker.query("ROLLBACK", logger: logger)
            try await blocker.close()
            #expect(try await station.count("SELECT count(*)::text FROM dc09_messages") == 0)
            #expect(try await station.count("SELECT count(*)::text FROM panel_events") == 0)

            let survivor = try await station.receiver("survivor", port: port, metricsPort: metricsPort)
            defer { survivor.stop(signal: SIGKILL) }
            #expect(try await send(frame, to: port).kind == .ack)
            #expect(try await send(frame, to: port).kind == .ack)
            #expect(try await station.count("SELECT count(*)::text FROM dc09_messages") == 1)
            #expect(try await station.count("SELECT count(*)::text FROM panel_events WHERE source = 'dc09'") == 1)
            #expect(try await station.count("SELECT count(*)::text FROM alarms WHERE kind = 'burglary'") == 1)
            #expect(try await metric(#"stam_dc09_frames_total{answer="ack"}"#, port: metricsPort) == 1)
            #expect(try await metric(#"stam_dc09_frames_total{answer="duplicate"}"#, port: metricsPort) == 1)
        }
    }

    @Test func framesFromAnUnknownAccountAreRefusedCountedAndAuditedOncePerWindow() async throws {
        try await withStation { station in
            let (port, metricsPort) = (try FreePort.find(), try FreePort.find())
            let receiver = try await station.receiver("primary", port: port, metricsPort: metricsPort)
            defer { receiver.stop(signal: SIGKILL) }
            for sequence in 1...3 {
                #expect(try await send(try Self.burglary(sequence: sequence, account: "BAD1"), to: port).kind == .nak)
            }
            // The station's own encrypted account is taken, with its key read through the secret column.
            let key = try DC09Key(hex: "000102030405060708090A0B0C0D0E0F")
            let encrypted = try await send(try Self.burglary(sequence: 4, account: "5678", key: key), to: port, key: key)
            #expect(encrypted.kind == .ack && encrypted.encrypted)
            try await waitFor("the security entry written") {
                try await station.count("SELECT count(*)::text FROM audit_entries WHERE action = 'dc09.unknown_account'") == 1
            }
            let entry = try await station.query("""
                SELECT concat_ws(' ', entity_type, address, details->>'account', details->>'frames', details->>'receiver_instance')
                FROM audit_entries WHERE action = 'dc09.unknown_account'
                """)
            #expect(entry == ["dc09_account 127.0.0.1 BAD1 1 primary"])
            #expect(try await metric(#"stam_dc09_refused_frames_total{reason="unknown_account"}"#, port: metricsPort) == 3)
            #expect(try await metric(#"stam_dc09_account_frames_total{account="5678",answer="ack"}"#, port: metricsPort) == 1)
            #expect(try await metric("stam_dc09_accounts", port: metricsPort) == 2)
            #expect((try await metric("stam_dc09_last_frame_timestamp_seconds", port: metricsPort) ?? 0) > Date().timeIntervalSince1970 - 60)
            #expect(try await station.count("SELECT count(*)::text FROM dc09_messages") == 1)
        }
    }
}
