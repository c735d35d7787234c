import Crypto
import Database
import Foundation
import Generated
import Logging
import MigrationSupport
import Persistence
import PostgresNIO
import StamCore
import Testing
import TestSupport

/// The generated repositories against a real, migrated PostgreSQL 15: CRUD, optimistic concurrency,
/// caller transactions, keyset pagination with filters and every sort kind, and encrypted secret columns.
@Suite(.postgres, .integration, .tags(.integration)) struct RepositoryTests {
    let logger = Logger(label: "test.repository")

    /// Runs `body` with a pooled client on a fresh migrated database and the given secret box.
    func withRepositories<Result: Sendable>(
        secrets: SecretBox? = nil,
        _ body: @Sendable (Repositories, DatabaseConfiguration, DatabaseContext) async throws -> Result
    ) async throws -> Result {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let box = try secrets ?? SecretBox.random()
        return try await TestPostgres.withClient(database, logger: logger) { client in
            let context = DatabaseContext(client: client, secrets: box, logger: logger)
            return try await body(Repositories(context: context), database, context)
        }
    }

    static func keyFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "stam-key-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: CRUD and concurrency

    @Test func insertFindUpdateDeleteRoundTrip() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "S-1", name: "Warehouse"))
            #expect(try await repositories.sites.find(id: site.id) == site)

            var changed = site
            changed.name = "Warehouse North"
            let updated = try await repositories.sites.update(changed)
            #expect(updated.name == "Warehouse North")
            #expect(updated.version == site.version + 1)
            #expect(updated.updatedAt >= site.updatedAt)
            #expect(updated.createdAt == site.createdAt)

            #expect(try await repositories.sites.delete(id: site.id))
            #expect(try await repositories.sites.delete(id: site.id) == false)
            #expect(try await repositories.sites.find(id: site.id) == nil)
        }
    }

    @Test func aStaleVersionIsAConflictAndAMissingRowIsNotFound() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "S-2", name: "Shop"))
            var first = site
            first.name = "Shop A"
            _ = try await repositories.sites.update(first)
            var second = site  // read before the first update: version 1
            second.name = "Shop B"
            let conflict = await #expect(throws: RepositoryError.self) { try await repositories.sites.update(second) }
            #expect(conflict?.code == .versionConflict)
            #expect(try await repositories.sites.find(id: site.id)?.name == "Shop A")

            try await repositories.sites.delete(id: site.id)
            let missing = await #expect(throws: RepositoryError.self) { try await repositories.sites.update(first) }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func writesJoinTheCallersTransaction() async throws {
        struct Abort: Error {}
        try await withRepositories { repositories, _, context in
            let kept = Site(code: "KEPT", name: "kept")
            let rolledBack = Site(code: "GONE", name: "rolled back")
            try await context.client.withTransaction(logger: logger) { connection in
                _ = try await repositories.sites.insert(kept, on: connection)
            }
            await #expect(throws: (any Error).self) {
                try await context.client.withTransaction(logger: logger) { connection in
                    _ = try await repositories.sites.insert(rolledBack, on: connection)
                    // Visible inside the transaction...
                    #expect(try await repositories.sites.find(id: rolledBack.id, on: connection) != nil)
                    throw Abort()
                }
            }
            // ...and gone with it.
            #expect(try await repositories.sites.find(id: kept.id) != nil)
            #expect(try await repositories.sites.find(id: rolledBack.id) == nil)
        }
    }

    // MARK: The writers' methods (worker, SMS consumer)

    @Test func anUpsertOnAUniqueKeyWritesOnlyTheNamedColumnsIntoTheStoredRow() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "UPS", name: "upsert"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "P", host: "10.0.0.20"))
            let first = try await repositories.zones.upsert(
                Zone(panelId: panel.id, number: 3, name: "Back door", state: .violated),
                onConflict: .panelIdAndNumber, updating: [.state, .bypassed, .updatedAt])
            let second = try await repositories.zones.upsert(
                Zone(panelId: panel.id, number: 3, name: "Zone 3", state: .normal, bypassed: true),
                onConflict: .panelIdAndNumber, updating: [.state, .bypassed, .updatedAt])
            // The same row (its id and the name an operator gave it stay), with the new state.
            #expect(second.id == first.id)
            #expect(second.name == "Back door")
            #expect(second.state == .normal && second.bypassed)
            // Nothing to update: the stored row comes back unchanged.
            let unchanged = try await repositories.zones.upsert(
                Zone(panelId: panel.id, number: 3, name: "ignored", state: .alarm), onConflict: .panelIdAndNumber, updating: [])
            #expect(unchanged == second)
            #expect(try await repositories.zones.all(filter: .init(panelId: panel.id)).map(\.id) == [first.id])
            #expect(try await repositories.zones.find(panelId: panel.id, number: 3)?.id == first.id)
            #expect(try await repositories.zones.find(panelId: panel.id, number: 4) == nil)
        }
    }

    @Test func insertIfAbsentWritesOnceAndSaysWhenTheKeyWasTaken() async throws {
        try await withRepositories { repositories, _, _ in
            let message = SmsMessage(sender: "+48600100200", body: "ALARM", sentAt: Date(), dedupKey: "k-1")
            let stored = try await repositories.smsMessages.insertIfAbsent(message, onConflict: .dedupKey)
            #expect(stored?.id == message.id)
            let repeated = try await repositories.smsMessages.insertIfAbsent(
                SmsMessage(sender: "+48600100200", body: "ALARM again", sentAt: Date(), dedupKey: "k-1"), onConflict: .dedupKey)
            #expect(repeated == nil)
            #expect(try await repositories.smsMessages.find(dedupKey: "k-1")?.body == "ALARM")
        }
    }

    @Test func aPartialUpdateWritesOnlyItsColumnsAndTheLastAssignmentOfAColumnWins() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "PART", name: "partial"))
            let panel = try await repositories.panels.insert(
                Panel(siteId: site.id, name: "P", host: "10.0.0.21", integrationKey: Secret("key-1")))
            let seen = Date(timeIntervalSince1970: 1_800_000_000)
            #expect(try await repositories.panels.update(
                id: panel.id, set: [.eventLogCursor(-1), .connectionState(.connected), .eventLogCursor(42), .lastSeenAt(seen)]))
            let read = try #require(try await repositories.panels.find(id: panel.id))
            #expect(read.eventLogCursor == 42)
            #expect(read.connectionState == .connected)
            #expect(read.lastSeenAt == seen)
            // Not an operator's edit: the version and every other column stay; a secret set this way still opens.
            #expect(read.version == panel.version && read.name == "P")
            #expect(try await repositories.panels.update(id: panel.id, set: [.integrationKey(Secret("key-2"))]))
            #expect(try await repositories.panels.find(id: panel.id)?.integrationKey?.revealed == "key-2")
            #expect(try await repositories.panels.update(id: UUID(), set: [.eventLogCursor(1)]) == false)
        }
    }

    @Test func jsonColumnsRoundTrip() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "J", name: "json"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "P", host: "10.0.0.1"))
            let admin = try await repositories.operators.insert(Operator(login: "admin", displayName: "Admin", passwordHash: Secret("$2b$12$hash")))
            let targets: JSONValue = .object(["partitions": .array([.number(1), .number(2)]), "note": .string("ąę \"quoted\"")])
            let command = try await repositories.commands.insert(
                Command(panelId: panel.id, kind: .arm, targets: targets, requestedBy: admin.id, expiresAt: Date().addingTimeInterval(60)))
            #expect(try await repositories.commands.find(id: command.id)?.targets == targets)
        }
    }

    // MARK: Keyset pagination

    /// Every page concatenated equals the whole ordered set: nothing skipped, nothing twice.
    @Test(arguments: [SortDirection.ascending, .descending])
    func pagesCoverAFilteredSortedListExactlyOnce(direction: SortDirection) async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "A", name: "alarms"))
            let other = try await repositories.sites.insert(Site(code: "B", name: "other"))
            // Many ties on raised_at and priority, and microsecond timestamps, to exercise the tie-break.
            let base = Date(timeIntervalSince1970: 1_790_000_000.123456)
            var expected: [Alarm] = []
            for index in 0..<230 {
                let alarm = Alarm(siteId: index % 7 == 0 ? other.id : site.id, kind: .burglary,
                                  priority: AlarmPriority.allCases[index % 4], title: "alarm \(index)",
                                  raisedAt: base.addingTimeInterval(Double(index / 3) * 0.000_001))
                let stored = try await repositories.alarms.insert(alarm)
                if stored.siteId == site.id { expected.append(stored) }
            }
            for sort in AlarmRepository.Sort.allCases {
                var seen: [Alarm] = []
                var cursor: String?
                repeat {
                    let page = try await repositories.alarms.list(filter: .init(siteId: site.id), sort: sort, direction: direction,
                                                                  after: cursor, limit: 25)
                    seen += page.items
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(seen.count == expected.count, "\(sort)")
                #expect(Set(seen.map(\.id)) == Set(expected.map(\.id)), "\(sort)")
                #expect(seen.allSatisfy { $0.siteId == site.id })
                let ordered = seen.sorted { left, right in
                    let (a, b) = direction == .ascending ? (left, right) : (right, left)
                    switch sort {
                    case .raisedAt: return (a.raisedAt, a.id.uuidString.lowercased()) < (b.raisedAt, b.id.uuidString.lowercased())
                    case .priority:
                        let rank = { (alarm: Alarm) in AlarmPriority.allCases.firstIndex(of: alarm.priority)! }
                        return (rank(a), a.id.uuidString.lowercased()) < (rank(b), b.id.uuidString.lowercased())
                    }
                }
                #expect(seen.map(\.id) == ordered.map(\.id), "\(sort) \(direction)")
            }
            // Fire first when sorting by priority ascending (the enum's order, not the alphabet).
            if direction == .ascending {
                let first = try await repositories.alarms.list(sort: .priority, limit: 1)
                #expect(first.items.first?.priority == .fire)
            }
        }
    }

    /// `prepared_statements=true`: the unfiltered first page comes from a named prepared statement (`FirstPage`), and
    /// is the same page, with the same cursor, as the unnamed statement's, for every sort and direction (an optional
    /// sort column too); the statement is prepared once on a connection and reused.
    @Test func thePreparedFirstPageIsTheUnnamedOnesPageAndIsPreparedOncePerConnection() async throws {
        try await withRepositories { repositories, database, context in
            let prepared = Repositories(context: DatabaseContext(client: context.client, secrets: context.secrets, logger: logger,
                                                                 preparesStatements: true))
            let site = try await repositories.sites.insert(Site(code: "P", name: "prepared"))
            let base = Date(timeIntervalSince1970: 1_790_000_000)
            for index in 0..<30 {
                _ = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, priority: AlarmPriority.allCases[index % 5],
                                                               title: "alarm \(index)", raisedAt: base.addingTimeInterval(Double(index / 2))))
                _ = try await repositories.panels.insert(Panel(siteId: site.id, name: "p\(index)", host: "10.0.1.\(index)",
                                                               lastSeenAt: index % 3 == 0 ? nil : base.addingTimeInterval(Double(index % 4))))
            }
            for direction in SortDirection.allCases {
                for sort in AlarmRepository.Sort.allCases {
                    let unnamed = try await repositories.alarms.list(sort: sort, direction: direction, limit: 12)
                    let named = try await prepared.alarms.list(sort: sort, direction: direction, limit: 12)
                    #expect(named.items == unnamed.items && named.nextCursor == unnamed.nextCursor, "\(sort) \(direction)")
                    let next = try await prepared.alarms.list(sort: sort, direction: direction, after: named.nextCursor, limit: 12)
                    #expect(next.items == (try await repositories.alarms.list(sort: sort, direction: direction, after: unnamed.nextCursor, limit: 12)).items)
                }
                for sort in PanelRepository.Sort.allCases {
                    let unnamed = try await repositories.panels.list(sort: sort, direction: direction, limit: 7)
                    let named = try await prepared.panels.list(sort: sort, direction: direction, limit: 7)
                    #expect(named.items == unnamed.items && named.nextCursor == unnamed.nextCursor, "\(sort) \(direction)")
                }
            }
            // On a new connection: two pages of one shape, one prepared statement; the unnamed path prepares none.
            let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 9, logger: logger)
            defer { Task { try? await connection.close() } }
            let counts = try await { () async throws -> (Int, Int) in
                func preparedCount() async throws -> Int {
                    let rows = try await connection.query(#"SELECT count(*)::int FROM pg_prepared_statements WHERE statement LIKE '%FROM "alarms"%'"#, logger: logger)
                    var count = 0
                    for try await value in rows.decode(Int.self) { count = value }
                    return count
                }
                _ = try await repositories.alarms.list(sort: .raisedAt, limit: 5, on: connection)
                let before = try await preparedCount()
                _ = try await prepared.alarms.list(sort: .raisedAt, limit: 5, on: connection)
                _ = try await prepared.alarms.list(sort: .raisedAt, limit: 9, on: connection)
                return (before, try await preparedCount())
            }()
            #expect(counts.0 == 0 && counts.1 == 1, "\(counts)")
        }
    }

    @Test func anOptionalSortColumnPutsNullsLastAndLosesNoRow() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "N", name: "nulls"))
            var ids: [UUID] = []
            for index in 0..<40 {
                let seen: Date? = index % 3 == 0 ? nil : Date(timeIntervalSince1970: 1_790_000_000 + Double(index % 5))
                ids.append(try await repositories.panels.insert(Panel(siteId: site.id, name: "p\(index)", host: "10.0.0.\(index)", lastSeenAt: seen)).id)
            }
            var seen: [Panel] = []
            var cursor: String?
            repeat {
                let page = try await repositories.panels.list(sort: .lastSeenAt, after: cursor, limit: 6)
                seen += page.items
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.map(\.id).sorted { $0.uuidString < $1.uuidString } == ids.sorted { $0.uuidString < $1.uuidString })
            let firstNull = try #require(seen.firstIndex { $0.lastSeenAt == nil })
            #expect(seen[firstNull...].allSatisfy { $0.lastSeenAt == nil })
            #expect(seen[..<firstNull].map { $0.lastSeenAt! } == seen[..<firstNull].map { $0.lastSeenAt! }.sorted())
        }
    }

    @Test func aForeignOrTamperedCursorIsRefused() async throws {
        try await withRepositories { repositories, _, _ in
            let site = try await repositories.sites.insert(Site(code: "C", name: "cursor"))
            for index in 0..<3 { _ = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, title: "a\(index)")) }
            let page = try await repositories.alarms.list(sort: .raisedAt, limit: 1)
            let cursor = try #require(page.nextCursor)
            let otherSort = await #expect(throws: RepositoryError.self) {
                try await repositories.alarms.list(sort: .priority, after: cursor)
            }
            #expect(otherSort?.code == .invalidCursor)
            for bad in ["not a cursor", String(cursor.dropLast(3)), ""] {
                let error = await #expect(throws: RepositoryError.self) {
                    try await repositories.alarms.list(sort: .raisedAt, after: bad)
                }
                #expect(error?.code == .invalidCursor)
            }
        }
    }

    // MARK: Secrets

    @Test func secretColumnsAreStoredEncryptedAndReadBack() async throws {
        try await withRepositories { repositories, database, context in
            let site = try await repositories.sites.insert(Site(code: "SEC", name: "secrets"))
            let panel = try await repositories.panels.insert(
                Panel(siteId: site.id, name: "P", host: "10.0.0.9", integrationKey: Secret("ethm-key-0123"), userCode: Secret("1234")))
            let read = try #require(try await repositories.panels.find(id: panel.id))
            #expect(read.userCode?.revealed == "1234")
            #expect(read.integrationKey?.revealed == "ethm-key-0123")

            // The stored bytes are not the plain text (nor contain it), and differ for equal plain texts.
            let rows = try await context.client.query(
                "SELECT user_code, integration_key FROM panels WHERE id = \(panel.id)", logger: logger).collect()
            let stored = try rows[0].decode((Data, Data).self)
            #expect(stored.0.range(of: Data("1234".utf8)) == nil)
            #expect(stored.1.range(of: Data("ethm-key-0123".utf8)) == nil)
            #expect(stored.0.count > 16 + 12)
            let again = try await repositories.panels.insert(Panel(siteId: site.id, name: "Q", host: "10.0.0.10", userCode: Secret("1234")))
            let second = try await context.client.query("SELECT user_code FROM panels WHERE id = \(again.id)", logger: logger).collect()
            #expect(try second[0].decode(Data.self) != stored.0)

            // Never in description, debug output or JSON.
            #expect(!String(describing: read).contains("1234"))
            #expect(!String(reflecting: read).contains("ethm-key"))
            let json = String(decoding: try JSONEncoder().encode(read), as: UTF8.self)
            #expect(!json.contains("1234") && !json.contains("ethm-key"))
            _ = database
        }
    }

    @Test func aWrongKeyFailsWithAClearError() async throws {
        let writer = try SecretBox.random()
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let panelId = try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: writer, logger: logger))
            let site = try await repositories.sites.insert(Site(code: "K", name: "key"))
            return try await repositories.panels.insert(Panel(siteId: site.id, name: "P", host: "h", userCode: Secret("4321"))).id
        }
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let error = await #expect(throws: SecretBoxError.self) { try await repositories.panels.find(id: panelId) }
            #expect(error?.code == .wrongKey)
            #expect(error?.description.contains("encryption_key") == true)
            #expect(error?.description.contains("4321") == false)
            // A process without the key at all says so, instead of returning the row without its secrets.
            let keyless = Repositories(context: DatabaseContext(client: client, secrets: nil, logger: logger))
            let missing = await #expect(throws: SecretBoxError.self) { try await keyless.panels.find(id: panelId) }
            #expect(missing?.code == .invalidKey)
        }
    }

    @Test func aSecretMovedToAnotherRowDoesNotDecrypt() async throws {
        try await withRepositories { repositories, _, context in
            let site = try await repositories.sites.insert(Site(code: "M", name: "move"))
            let source = try await repositories.panels.insert(Panel(siteId: site.id, name: "A", host: "a", userCode: Secret("1111")))
            let target = try await repositories.panels.insert(Panel(siteId: site.id, name: "B", host: "b", userCode: Secret("2222")))
            try await context.client.query(
                "UPDATE panels SET user_code = (SELECT user_code FROM panels WHERE id = \(source.id)) WHERE id = \(target.id)",
                logger: logger)
            let error = await #expect(throws: SecretBoxError.self) { try await repositories.panels.find(id: target.id) }
            #expect(error?.code == .authenticationFailed)
        }
    }

    @Test func keyFilesAreCheckedWhenRead() throws {
        let good = try Self.keyFile(Data((0..<32).map { UInt8($0) }).base64EncodedString() + "\n")
        let box = try SecretBox(keyFile: good)
        #expect(try box.open(try box.seal("x", place: "t.c/1"), place: "t.c/1") == "x")
        for (text, fragment) in [("not base64 !!", "not base64"), (Data(count: 16).base64EncodedString(), "16 bytes")] {
            let path = try Self.keyFile(text)
            let error = #expect(throws: SecretBoxError.self) { try SecretBox(keyFile: path) }
            #expect(error?.code == .invalidKey)
            #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "")")
        }
        let missing = #expect(throws: SecretBoxError.self) { try SecretBox(keyFile: "/nonexistent/encryption_key") }
        #expect(missing?.code == .invalidKey)
    }
}
