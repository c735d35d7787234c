import APISupport
import Backend
import Database
import Foundation
import Generated
import HTTPTypes
import Hummingbird
import HummingbirdTesting

import Logging
import MigrationSupport
import NIOCore
import NIOWebSocket
import Outbox
import Persistence
import PostgresNIO
import StamCore
import Synchronization
import Testing
import TestSupport
import HummingbirdWSClient

/// Operator access against an attacker and over time, with the backend as `stam backend` wires it (router,
/// sessions, live socket) on a real port over a real, migrated PostgreSQL. nginx is stood for by the trusted
/// proxy 127.0.0.1 and its `X-Real-IP` header, so one test process can be many clients; the same scenario
/// through the real nginx with two real source addresses is in ProdStackTests.
@Suite(.postgres, .integration, .tags(.integration)) struct OperatorAccessTests {
    let logger = Logger(label: "test.access")
    static let password = "correct horse battery"
    /// One real bcrypt hash of `password` (cost 12: a quarter of a second of CPU), made once and stored for every
    /// test's operators; each login still verifies against it.
    static let passwordHash = Task { try await PasswordHasher.hash(password) }

    struct Harness: Sendable {
        var repositories: Repositories
        var port: Int
        var users: [String: Operator]  // by login: boss (admin), deputy (admin), ola (operator)
    }

    /// - Parameter reports: serve `/api/reports/*` too (on the test database, as dev does: no replica).
    func withBackend(tokenLifetime: Duration = .seconds(3600), reports: Bool = false,
                     _ body: @Sendable (any TestClientProtocol, Harness) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let tokens = try await TokenService(publicKeyPEM: APITests.keyPair.publicKey.pemRepresentation,
                                            privateKeyPEM: APITests.keyPair.pemRepresentation, lifetime: tokenLifetime)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let hash = Secret(try await Self.passwordHash.value)
            var created: [String: Operator] = [:]
            for (login, role) in [("boss", OperatorRole.admin), ("deputy", .admin), ("ola", .operator)] {
                created[login] = try await repositories.operators.insert(Operator(login: login, displayName: login, passwordHash: hash, role: role))
            }
            let users = created
            let backend = BackendRouter(repositories: repositories, tokens: tokens, outbox: OutboxNotifier(client: client, logger: logger),
                                        throttle: LoginThrottle(limits: .init(freeFailures: 3, firstDelay: .seconds(30), perAddress: 30)),
                                        readiness: [],
                                        reports: reports ? ReportsController(database: ReportDatabase(replicas: [], primary: client, logger: logger)) : nil,
                                        proxies: TrustedProxies(entries: ["127.0.0.1"], logger: logger))
            let application = BackendApplication.make(
                router: backend.build(),
                live: LiveSocket(hub: LiveHub(), tokens: tokens, sessions: backend.sessions, state: nil, sessionRecheck: .milliseconds(500)),
                host: "127.0.0.1", port: 0, logger: logger)
            try await application.test(.live) { client in
                try await body(client, Harness(repositories: repositories, port: try #require(client.port), users: users))
            }
        }
    }

    static func login(_ client: any TestClientProtocol, _ login: String, _ password: String = Self.password,
                      from address: String = "198.51.100.20", agent: String = "test-console/1.0") async throws -> TestResponse {
        try await client.execute(uri: "/api/auth/login", method: .post, headers: [.realIP: address, .userAgent: agent],
                                 body: ByteBuffer(string: #"{"login":"\#(login)","password":"\#(password)"}"#))
    }

    static func token(_ response: TestResponse) throws -> String {
        try #require(try APITests.object(response)["access_token"] as? String, "\(response.status) \(String(buffer: response.body))")
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, token: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: APITests.bearer(token))
    }

    static func count(_ harness: Harness, _ sql: String) async throws -> Int {
        let context = harness.repositories.context
        return try await context.client.query(PostgresQuery(unsafeSQL: sql), logger: context.logger).collect().first?.decode(Int.self) ?? -1
    }

    // MARK: Login throttling

    @Test func anAttackerHammeringTheAdminDoesNotLockTheAdminOut() async throws {
        try await withBackend { client, harness in
            let attacker = "203.0.113.66"
            var answers: [HTTPResponse.Status] = []
            var waits: [Int] = []
            for _ in 0..<6 {
                let response = try await Self.login(client, "boss", "wrong guess 123", from: attacker)
                answers.append(response.status)
                if let wait = response.headers[.retryAfter].flatMap(Int.init) { waits.append(wait) }
            }
            // Three free failures, then the attacker waits; being refused does not count as trying.
            #expect(answers == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests, .tooManyRequests])
            #expect(waits.allSatisfy { (1...30).contains($0) }, "\(waits)")
            // The real admin from their own desk: in at once. The attacker still waits, with the right password too.
            let admin = try await Self.login(client, "boss", from: "198.51.100.20")
            #expect(admin.status == .ok, "\(String(buffer: admin.body))")
            #expect(try await Self.login(client, "boss", from: attacker).status == .tooManyRequests)
            // A client that talks to the backend directly cannot pick its address: only the trusted proxy's word counts.
            #expect(TrustedProxies(entries: ["10.0.0.2"], logger: logger).clientAddress(peer: "10.0.0.9", headers: [.realIP: "1.2.3.4"]) == "10.0.0.9")
            #expect(try await Self.count(harness, "SELECT count(*)::int FROM audit_entries WHERE action = 'login_failed' AND address = '\(attacker)'") == 3)
        }
    }

    @Test func loginsAndFailuresAreAuditedWithAddressAndUserAgent() async throws {
        try await withBackend { client, harness in
            _ = try await Self.login(client, "nobody-here", from: "192.0.2.1", agent: "curl/8")
            _ = try await Self.login(client, "ola", "not the password", from: "192.0.2.2", agent: "curl/8")
            let good = try await Self.login(client, "ola", from: "192.0.2.3", agent: "Mozilla/5.0 console")
            #expect(good.status == .ok)
            let context = harness.repositories.context
            let rows = try await context.client.query("""
                SELECT action, operator_id IS NOT NULL, address, details->>'user_agent', coalesce(details->>'login', '') FROM audit_entries
                WHERE action IN ('login', 'login_failed') ORDER BY created_at
                """, logger: context.logger).collect()
            let entries = try rows.map { try $0.decode((String, Bool, String?, String?, String).self) }
            #expect(entries.count == 3)
            #expect(entries.map(\.0) == ["login_failed", "login_failed", "login"])
            #expect(entries.map(\.1) == [false, true, true])  // an unknown login has no operator
            #expect(entries.map(\.2) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
            #expect(entries.map(\.3) == ["curl/8", "curl/8", "Mozilla/5.0 console"])
            #expect(entries[0].4 == "nobody-here")
            #expect(try await Self.count(harness, "SELECT count(*)::int FROM operator_sessions WHERE address = '192.0.2.3' AND user_agent = 'Mozilla/5.0 console'") == 1)
        }
    }

    /// An admin reads the trail of a period through the API: `created_at_from` inclusive, `created_at_to`
    /// exclusive, so consecutive periods share no entry and miss none; a supervisor may read it too, an operator
    /// may not; a bound that is not a date-time is a 422.
    @Test func adminsReadTheAuditTrailOfAPeriod() async throws {
        try await withBackend { client, harness in
            let admin = try Self.token(try await Self.login(client, "boss"))
            let before = Date()
            try await Task.sleep(for: .milliseconds(20))
            _ = try await Self.login(client, "ola", "wrong once", from: "192.0.2.7")
            try await Task.sleep(for: .milliseconds(20))
            let middle = Date()
            try await Task.sleep(for: .milliseconds(20))
            _ = try await Self.login(client, "ola", "wrong twice", from: "192.0.2.8")
            try await Task.sleep(for: .milliseconds(20))
            let after = Date()
            func addresses(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/api/audit-entries?action=login_failed&sort=created_at&\(query)", method: .get,
                                                         headers: [.authorization: "Bearer \(admin)"])
                #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                return (try APITests.object(response)["items"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
            }
            func stamp(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
            #expect(try await addresses("created_at_from=\(stamp(before))") == ["192.0.2.7", "192.0.2.8"])
            #expect(try await addresses("created_at_from=\(stamp(before))&created_at_to=\(stamp(middle))") == ["192.0.2.7"])
            #expect(try await addresses("created_at_from=\(stamp(middle))&created_at_to=\(stamp(after))") == ["192.0.2.8"])
            #expect(try await addresses("created_at_to=\(stamp(before))") == [])
            let bad = try await client.execute(uri: "/api/audit-entries?created_at_from=yesterday", method: .get,
                                               headers: [.authorization: "Bearer \(admin)"])
            #expect(bad.status == .unprocessableContent)
            let operatorToken = try Self.token(try await Self.login(client, "ola"))
            #expect(try await client.execute(uri: "/api/audit-entries?created_at_from=\(stamp(before))", method: .get,
                                             headers: [.authorization: "Bearer \(operatorToken)"]).status == .forbidden)
        }
    }

    // MARK: Sessions

    @Test func logoutAndAnAdminsRevocationEndTokensAtOnce() async throws {
        try await withBackend { client, harness in
            let ola = try Self.token(try await Self.login(client, "ola"))
            let other = try Self.token(try await Self.login(client, "ola", from: "198.51.100.21"))
            let boss = try Self.token(try await Self.login(client, "boss"))
            #expect(try await Self.get(client, "/api/sites", token: ola).status == .ok)
            #expect(try await client.execute(uri: "/api/auth/logout", method: .post, headers: APITests.bearer(ola)).status == .noContent)
            let after = try await Self.get(client, "/api/sites", token: ola)
            #expect(after.status == .unauthorized)
            #expect(String(buffer: after.body).contains("logged out"))
            // The other session of the same operator is untouched, until an admin revokes it.
            #expect(try await Self.get(client, "/api/sites", token: other).status == .ok)
            let olaId = try #require(harness.users["ola"]).id.uuidString.lowercased()
            let sessions = try APITests.object(try await Self.get(client, "/api/operator-sessions?operator_id=\(olaId)", token: boss))
            let open = try #require((sessions["items"] as? [[String: Any]])?.first { $0["revoked_at"] is NSNull || $0["revoked_at"] == nil })
            let id = try #require(open["id"] as? String)
            #expect(try await client.execute(uri: "/api/operator-sessions/\(id)/revoke", method: .post, headers: APITests.bearer(boss)).status == .noContent)
            #expect(try await Self.get(client, "/api/sites", token: other).status == .unauthorized)
            // An operator cannot list or revoke sessions.
            let reader = try Self.token(try await Self.login(client, "ola"))
            #expect(try await Self.get(client, "/api/operator-sessions", token: reader).status == .forbidden)
            #expect(try await Self.count(harness, "SELECT count(*)::int FROM audit_entries WHERE action IN ('logout', 'operator_session.revoke')") == 2)
        }
    }

    @Test func deactivationRoleAndPasswordChangesEndEarlierSessionsWithinSeconds() async throws {
        try await withBackend { client, harness in
            let boss = try Self.token(try await Self.login(client, "boss"))
            let admin = APITests.bearer(boss)
            let olaId = try #require(harness.users["ola"]).id
            func patch(_ body: String) async throws -> HTTPResponse.Status {
                let current = try await Self.get(client, "/api/operators/\(olaId)", token: boss)
                var headers = admin
                headers[.ifMatch] = try #require(current.headers[.eTag])
                return try await client.execute(uri: "/api/operators/\(olaId)", method: .patch, headers: headers, body: ByteBuffer(string: body)).status
            }
            // Deactivated: refused within the session cache's age (2 s), though the token has hours left.
            var ola = try Self.token(try await Self.login(client, "ola"))
            #expect(try await Self.get(client, "/api/alarms", token: ola).status == .ok)
            #expect(try await patch(#"{"active":false}"#) == .ok)
            #expect(try await Self.eventually { try await Self.get(client, "/api/alarms", token: ola).status == .unauthorized })
            #expect(try await Self.login(client, "ola").status == .unauthorized)
            // Back, then promoted: the operator's old token does not carry the new role; a new login does.
            #expect(try await patch(#"{"active":true}"#) == .ok)
            ola = try Self.token(try await Self.login(client, "ola"))
            #expect(try await patch(#"{"role":"supervisor"}"#) == .ok)
            #expect(try await Self.eventually { try await Self.get(client, "/api/alarms", token: ola).status == .unauthorized })
            ola = try Self.token(try await Self.login(client, "ola"))
            #expect(try await Self.get(client, "/api/operators", token: ola).status == .ok)  // supervisors list operators
            // A new password ends the sessions opened with the old one.
            #expect(try await client.execute(uri: "/api/operators/\(olaId)/set-password", method: .post, headers: admin,
                                             body: ByteBuffer(string: #"{"password":"another long secret"}"#)).status == .noContent)
            #expect(try await Self.eventually { try await Self.get(client, "/api/alarms", token: ola).status == .unauthorized })
            #expect(try await Self.login(client, "ola", "another long secret").status == .ok)
        }
    }

    @Test func liveConnectionsCloseWhenTheirSessionEnds() async throws {
        try await withBackend { client, harness in
            let boss = try Self.token(try await Self.login(client, "boss"))
            let ola = try Self.token(try await Self.login(client, "ola"))
            let olaId = try #require(harness.users["ola"]).id
            let watched = Task { try await Self.watchUntilClosed(port: harness.port, token: ola, logger: logger) }
            try await Task.sleep(for: .seconds(1))
            let current = try await Self.get(client, "/api/operators/\(olaId)", token: boss)
            var headers = APITests.bearer(boss)
            headers[.ifMatch] = try #require(current.headers[.eTag])
            let deactivated = ContinuousClock.now
            #expect(try await client.execute(uri: "/api/operators/\(olaId)", method: .patch, headers: headers,
                                             body: ByteBuffer(string: #"{"active":false}"#)).status == .ok)
            let (close, messages) = try await watched.value
            #expect(close == .policyViolation)
            #expect(messages.first?.contains(#""type":"ready""#) == true)
            #expect(messages.last?.contains("session_ended") == true && messages.last?.contains("deactivated") == true, "\(messages)")
            // Not a figure, a bound on "within seconds": the cache's 2 s plus the socket's 0.5 s recheck, with room for a busy machine.
            #expect(ContinuousClock.now - deactivated < .seconds(15))
        }
    }

    @Test func aLiveConnectionClosesWhenItsTokenExpiresWhateverItsPings() async throws {
        try await withBackend(tokenLifetime: .seconds(3)) { client, harness in
            let ola = try Self.token(try await Self.login(client, "ola"))
            let (close, messages) = try await Self.watchUntilClosed(port: harness.port, token: ola, pingEvery: .milliseconds(300), logger: logger)
            #expect(close == .policyViolation)
            #expect(messages.last?.contains("expired") == true, "\(messages)")
            #expect(try await Self.get(client, "/api/alarms", token: ola).status == .unauthorized)
        }
    }

    /// Connects, authenticates, optionally pings, and collects text messages until the server closes (60 s at most).
    static func watchUntilClosed(port: Int, token: String, pingEvery: Duration? = nil,
                                 logger: Logger) async throws -> (WebSocketErrorCode?, [String]) {
        let messages = Received()
        let close = try await withThrowingTaskGroup(of: WebSocketErrorCode?.self) { group in
            group.addTask {
                let frame = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: logger) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
                    try await withThrowingTaskGroup(of: Void.self) { pings in
                        if let pingEvery {
                            pings.addTask {
                                while true {
                                    try await Task.sleep(for: pingEvery)
                                    try await outbound.write(.text(#"{"type":"ping"}"#))
                                }
                            }
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message, !text.contains(#""type":"pong""#) { messages.append(text) }
                        }
                        pings.cancelAll()
                    }
                }
                return frame?.closeCode
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        return (close, messages.all)
    }

    final class Received: Sendable {
        private let texts = Mutex<[String]>([])
        func append(_ text: String) { texts.withLock { $0.append(text) } }
        var all: [String] { texts.withLock { $0 } }
    }

    /// `condition` within 10 s (the session cache's 2 s with room to spare), polled every 200 ms.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    // MARK: Keeping the station administrable

    /// Two admins demoting each other at the same moment both pass a check made before their writes; the database
    /// (`at_least_one:` of Operator) checks after each write under a lock, so the second waits for the first and is
    /// refused: forced here with two transactions, the second blocked until the first commits. Through the API
    /// both at once: exactly one succeeds, and an active admin remains (which refusal the other gets depends on
    /// the interleaving; the SQL part is the deterministic proof).
    @Test func twoAdminsDemotingEachOtherAtOnceLeaveOneAdmin() async throws {
        try await withBackend { client, harness in
            let database = harness.repositories.context.client
            let boss = try #require(harness.users["boss"]), deputy = try #require(harness.users["deputy"])
            try await database.withConnection { first in
                _ = try await first.query("BEGIN", logger: logger)
                _ = try await first.query("UPDATE operators SET active = false WHERE id = \(boss.id)", logger: logger)
                let second = Task {
                    try await database.withConnection { connection in
                        try await connection.query("UPDATE operators SET role = 'operator' WHERE id = \(deputy.id)", logger: logger).collect()
                    }
                }
                try await Task.sleep(for: .milliseconds(500))  // the second is waiting for the first's lock
                _ = try await first.query("COMMIT", logger: logger)
                await #expect { _ = try await second.value } throws: { error in
                    let error = try #require(error as? PSQLError)
                    let answer = APIError.from(database: error, table: "operators")
                    return answer?.status == .conflict && answer?.code == "last_admin"
                }
            }
            let admins = try await database.query("SELECT count(*)::int FROM operators WHERE role = 'admin' AND active", logger: logger)
                .collect().first?.decode(Int.self)
            #expect(admins == 1)
            // An operator's login (an update of a non-admin row) and a database without admins do not trip it.
            _ = try await database.query("UPDATE operators SET last_login_at = now() WHERE role = 'operator'", logger: logger).collect()

            // The same through the API, both at once, on a fresh pair: boss is active again, deputy an admin again.
            _ = try await database.query("UPDATE operators SET active = true WHERE id = \(boss.id)", logger: logger).collect()
            _ = try await database.query("UPDATE operators SET role = 'admin' WHERE id = \(deputy.id)", logger: logger).collect()
            let bossToken = try Self.token(try await Self.login(client, "boss"))
            let deputyToken = try Self.token(try await Self.login(client, "deputy"))
            @Sendable func deactivate(_ target: Operator, as token: String) async throws -> HTTPResponse.Status {
                var headers = APITests.bearer(token)
                headers[.ifMatch] = "*"
                return try await client.execute(uri: "/api/operators/\(target.id)", method: .patch, headers: headers,
                                                body: ByteBuffer(string: #"{"active":false}"#)).status
            }
            async let one = deactivate(deputy, as: bossToken)
            async let other = deactivate(boss, as: deputyToken)
            let statuses = try await [one, other]
            // The other is refused: 409 when its write reached the database (or the check before it), 401 when the first
            // had already ended its session (a deactivated operator's token stops working).
            #expect(statuses.filter { $0 == .ok }.count == 1 && statuses.allSatisfy { [.ok, .conflict, .unauthorized].contains($0) }, "\(statuses)")
            #expect(try await database.query("SELECT count(*)::int FROM operators WHERE role = 'admin' AND active", logger: logger)
                .collect().first?.decode(Int.self) == 1)
        }
    }

    @Test func nobodyLocksThemselvesOrTheLastAdminOutAndActorsAreDeactivatedNotDeleted() async throws {
        try await withBackend { client, harness in
            let boss = try Self.token(try await Self.login(client, "boss"))
            let bossId = try #require(harness.users["boss"]).id, deputyId = try #require(harness.users["deputy"]).id
            func write(_ id: UUID, _ method: HTTPRequest.Method, _ body: String = "") async throws -> (HTTPResponse.Status, String) {
                let current = try await Self.get(client, "/api/operators/\(id)", token: boss)
                var headers = APITests.bearer(boss)
                headers[.ifMatch] = current.headers[.eTag] ?? "\"1\""
                let response = try await client.execute(uri: "/api/operators/\(id)", method: method, headers: headers, body: ByteBuffer(string: body))
                return (response.status, String(buffer: response.body))
            }
            for (method, body) in [(HTTPRequest.Method.patch, #"{"active":false}"#), (.patch, #"{"role":"operator"}"#), (.delete, "")] {
                let (status, text) = try await write(bossId, method, body)
                #expect(status == .conflict && text.contains("own_access"), "\(method) \(body): \(status) \(text)")
            }
            // The deputy may be demoted while boss remains; then boss is the last admin, whom nobody removes.
            #expect(try await write(deputyId, .patch, #"{"role":"supervisor"}"#).0 == .ok)
            #expect(try await Self.login(client, "deputy").status == .ok)
            let (status, text) = try await write(bossId, .patch, #"{"active":false}"#)
            #expect(status == .conflict && text.contains("own_access"))
            #expect(try await Self.count(harness, "SELECT count(*)::int FROM operators WHERE role = 'admin' AND active") == 1)
            // The deputy logged in (audited), so the deputy cannot be deleted, only deactivated.
            let (deleted, reason) = try await write(deputyId, .delete)
            #expect(deleted == .conflict && reason.contains("still_referenced"), "\(deleted) \(reason)")
            #expect(try await write(deputyId, .patch, #"{"active":false}"#).0 == .ok)
            // An operator who never acted can go.
            let fresh = try await harness.repositories.operators.insert(Operator(login: "temp", displayName: "Temp", role: .operator))
            #expect(try await write(fresh.id, .delete).0 == .noContent)
            // Every write answered with a body, none with a 500.
            #expect(try await Self.count(harness, "SELECT count(*)::int FROM audit_entries WHERE operator_id = '\(bossId)'") >= 1)
        }
    }

    /// An admin demoted by another loses the admin's powers at once (the session ends with the role change), so
    /// the admin who remains is never removed by a stale token; alone, nobody can remove them.
    @Test func anAdminDemotedByAnotherCannotActAndTheLastAdminStays() async throws {
        try await withBackend { client, harness in
            let bossId = try #require(harness.users["boss"]).id
            let deputy = try Self.token(try await Self.login(client, "deputy"))
            let boss = try Self.token(try await Self.login(client, "boss"))
            let deputyId = try #require(harness.users["deputy"]).id
            func patch(_ id: UUID, token: String, _ body: String) async throws -> (HTTPResponse.Status, String) {
                let current = try await Self.get(client, "/api/operators/\(id)", token: token)
                var headers = APITests.bearer(token)
                headers[.ifMatch] = current.headers[.eTag] ?? "\"1\""
                let response = try await client.execute(uri: "/api/operators/\(id)", method: .patch, headers: headers, body: ByteBuffer(string: body))
                return (response.status, String(buffer: response.body))
            }
            #expect(try await patch(bossId, token: deputy, #"{"role":"supervisor"}"#).0 == .ok)
            // boss's session ended with the role change; boss cannot act any more.
            #expect(try await Self.eventually { try await Self.get(client, "/api/operators", token: boss).status == .unauthorized })
            let again = try Self.token(try await Self.login(client, "boss"))
            #expect(try await patch(deputyId, token: again, #"{"active":false}"#).0 == .forbidden)  // a supervisor now
            // Promote boss back; now deputy is not the last admin, and neither can remove the other once alone.
            #expect(try await patch(bossId, token: deputy, #"{"role":"admin"}"#).0 == .ok)
            let bossAgain = try Self.token(try await Self.login(client, "boss"))
            #expect(try await patch(deputyId, token: bossAgain, #"{"active":false}"#).0 == .ok)
            let (status, text) = try await patch(bossId, token: bossAgain, #"{"role":"operator"}"#)
            #expect(status == .conflict && text.contains("own_access"), "\(text)")
            // The deactivated deputy's token no longer works, so nobody else can try to remove the last admin.
            #expect(try await Self.eventually { try await Self.get(client, "/api/operators", token: deputy).status == .unauthorized })
        }
    }

    // MARK: Errors

    @Test func anUnexpectedErrorIsAJSONAnswerWithTheRequestIdAndALogLine() async throws {
        try await withBackend { client, harness in
            let boss = try Self.token(try await Self.login(client, "boss"))
            // A real fault the routes do not expect: the table under a route is gone.
            let context = harness.repositories.context
            _ = try await context.client.query("DROP TABLE sms_alarm_patterns", logger: context.logger)
            var headers = APITests.bearer(boss)
            headers[.requestID] = "trace-me-42"
            let response = try await client.execute(uri: "/api/sms-alarm-patterns", method: .get, headers: headers)
            #expect(response.status == .internalServerError)
            #expect(response.headers[.requestID] == "trace-me-42")
            let error = try #require(try APITests.object(response)["error"] as? [String: Any])
            #expect(error["code"] as? String == "internal_error")
            #expect((error["message"] as? String)?.contains("trace-me-42") == true)
            // The process keeps serving.
            #expect(try await Self.get(client, "/api/sites", token: boss).status == .ok)
        }
    }
}
