import APISupport
import Backend
import Crypto
import Database
import Foundation
import Generated
import GeneratedAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import MigrationSupport
import NIOCore
import Observability
import Persistence
import Outbox
import PostgresNIO
import StamCore
import Testing
import Synchronization
import DevStack
import TestSupport
import _CryptoExtras

/// The operator API in process (Hummingbird's router test client) over a real, migrated PostgreSQL:
/// login, the JWT refusal matrix, every generated route against every role, validation, optimistic
/// concurrency, database errors mapped to answers, request ids and the OpenAPI document.
@Suite(.postgres, .integration, .tags(.integration)) struct APITests {
    let logger = Logger(label: "test.api")

    /// One RSA pair for the suite (2048-bit generation is slow) and one foreign pair for "unknown key".
    static let keyPair = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let foreignKeyPair = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let password = "correct horse battery"
    /// One real bcrypt hash of `password` (cost 12: a quarter of a second of CPU), made once and stored for every
    /// test's operators; each login still verifies against it.
    static let passwordHash = Task { try await PasswordHasher.hash(password) }

    struct Harness: Sendable {
        var repositories: Repositories
        var tokens: TokenService
        var users: [String: Operator]  // by role
        var backend: BackendRouter
    }

    /// One scrape of the backend's observability port, as Prometheus makes it (a real socket, port 0).
    static func scrape(_ backend: BackendRouter, path: String = "/metrics") async throws -> (status: Int, body: String) {
        let server = backend.observability(host: "127.0.0.1", port: 0, logger: Logger(label: "test.observability"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let answer = try await HTTPGet.get(port: try await server.boundPort.value(), path: path)
            return (answer.status, answer.body)
        }
    }

    func withAPI(replicas: [ReplicaChoice] = [], logHandler: CapturedLogs? = nil,
                 _ body: @Sendable (any TestClientProtocol, Harness) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let (url, passwordFile) = try await postgres.migratedDatabaseURL(logger: logger)
        let database = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
        let tokens = try await TokenService(publicKeyPEM: Self.keyPair.publicKey.pemRepresentation,
                                            privateKeyPEM: Self.keyPair.pemRepresentation)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let hash = try await Self.passwordHash.value
            var users: [String: Operator] = [:]
            for role in OperatorRole.allCases {
                users[role.rawValue] = try await repositories.operators.insert(
                    Operator(login: "user-\(role.rawValue)", displayName: role.rawValue, passwordHash: Secret(hash), role: role))
            }
            let readiness = [ReadinessCheck("postgresql") { try await client.query("SELECT 1", logger: logger) }]
            var reportLogger = Logger(label: "test.reports")
            if let logHandler { reportLogger = Logger(label: "test.reports") { _ in logHandler } }
            var standby: PostgresServer?
            defer { standby?.stop() }
            var replicaConfigurations: [DatabaseConfiguration] = []
            for choice in replicas {
                switch choice {
                case .sameDatabase: replicaConfigurations.append(database)
                case .unreachable:
                    replicaConfigurations.append(try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(try FreePort.find())/nothing", passwordFile: passwordFile))
                case .standby:
                    // A real streaming standby of the suite's server: it holds this database and replays what follows.
                    let server = PostgresServer(directory: "\(postgres.runDirectory)/standby-\(UUID().uuidString.prefix(8))", port: try FreePort.find())
                    try server.initializeAsStandby(of: postgres.server)
                    try await server.start()
                    standby = server
                    let name = String(url.split(separator: "/").last!)
                    replicaConfigurations.append(try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(server.port)/\(name)", passwordFile: passwordFile))
                }
            }
            let reports = ReportsController(database: ReportDatabase(replicas: replicaConfigurations, primary: client, logger: reportLogger))
            let backend = BackendRouter(repositories: repositories, tokens: tokens, outbox: OutboxNotifier(client: client, logger: logger),
                                        throttle: LoginThrottle(limits: .init(freeFailures: 3, firstDelay: .seconds(60))),
                                        readiness: readiness, reports: reports)
            let harness = Harness(repositories: repositories, tokens: tokens, users: users, backend: backend)
            try await Application(router: backend.build()).test(.router) { client in try await body(client, harness) }
        }
    }

    /// A token of a session opened for the role's user (what a login makes, without bcrypt's quarter second).
    func token(_ harness: Harness, role: String) async throws -> String {
        let user = try #require(harness.users[role])
        return try await Self.sessionToken(for: user, repositories: harness.repositories, tokens: harness.tokens)
    }

    static func sessionToken(for user: Operator, repositories: Repositories, tokens: TokenService) async throws -> String {
        let session = try await repositories.operatorSessions.insert(
            OperatorSession(operatorId: user.id, role: user.role, expiresAt: Date().addingTimeInterval(3600)))
        return try await tokens.issue(for: Principal(operatorId: user.id, login: user.login, role: user.role.rawValue, sessionId: session.id))
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        let data = Data(buffer: response.body)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(String(buffer: response.body))")
    }

    static func errorFields(_ response: TestResponse) throws -> Set<String> {
        let error = try #require(try object(response)["error"] as? [String: Any])
        return Set((error["fields"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
    }

    // MARK: Login

    @Test func loginIssuesATokenThatOpensTheAPIAndFailuresAreLimited() async throws {
        try await withAPI { client, harness in
            let good = try await client.execute(uri: "/api/auth/login", method: .post,
                                                body: Self.json(#"{"login":"user-admin","password":"\#(Self.password)"}"#))
            #expect(good.status == .ok)
            let answer = try Self.object(good)
            let token = try #require(answer["access_token"] as? String)
            #expect(answer["role"] as? String == "admin")
            #expect(try await client.execute(uri: "/api/sites", method: .get, headers: Self.bearer(token)).status == .ok)

            for _ in 0..<3 {
                let wrong = try await client.execute(uri: "/api/auth/login", method: .post,
                                                     body: Self.json(#"{"login":"user-operator","password":"wrong password"}"#))
                #expect(wrong.status == .unauthorized)
            }
            // Past the limit even the right password waits: guessing stays slow.
            let limited = try await client.execute(uri: "/api/auth/login", method: .post,
                                                   body: Self.json(#"{"login":"user-operator","password":"\#(Self.password)"}"#))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            // Another account is not affected, and an unknown account answers like a wrong password.
            let unknown = try await client.execute(uri: "/api/auth/login", method: .post,
                                                   body: Self.json(#"{"login":"nobody","password":"whatever-it-is"}"#))
            #expect(unknown.status == .unauthorized)
            let missing = try await client.execute(uri: "/api/auth/login", method: .post, body: Self.json(#"{"login":"x"}"#))
            #expect(missing.status == .unprocessableContent)
            #expect(try Self.errorFields(missing) == ["password"])
        }
    }

    // MARK: JWT matrix

    struct ForgedClaims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var login: String
        var role: String
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test func everyForgedOrStaleTokenIsRefusedWith401() async throws {
        try await withAPI { client, harness in
            let admin = try #require(harness.users["admin"])
            let valid = try await token(harness, role: "operator")
            let kid = harness.tokens.keyId
            func claims(issuer: String = "stam", audience: String = "stam-operators", expiresIn: TimeInterval = 600, role: String = "admin") -> ForgedClaims {
                ForgedClaims(sub: .init(value: admin.id.uuidString.lowercased()), iss: .init(value: issuer), aud: .init(value: audience),
                             exp: .init(value: Date().addingTimeInterval(expiresIn)), iat: .init(value: Date()), login: admin.login, role: role)
            }
            func signed(_ payload: ForgedClaims, key: _RSA.Signing.PrivateKey = Self.keyPair, kid: String = kid) async throws -> String {
                let keys = JWTKeyCollection()
                await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: key.pemRepresentation), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
                return try await keys.sign(payload, kid: JWKIdentifier(string: kid))
            }
            let encoder = JSONEncoder()
            let payloadPart = Base64URL.encode(try encoder.encode(claims()))
            let noneToken = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT","kid":"\#(kid)"}"#.utf8)) + "." + payloadPart + "."
            let hsHeader = Base64URL.encode(Data(#"{"alg":"HS256","typ":"JWT","kid":"\#(kid)"}"#.utf8))
            let hsMAC = HMAC<SHA256>.authenticationCode(for: Data("\(hsHeader).\(payloadPart)".utf8),
                                                        using: SymmetricKey(data: Data(Self.keyPair.publicKey.pemRepresentation.utf8)))
            let hsToken = "\(hsHeader).\(payloadPart).\(Base64URL.encode(Data(hsMAC)))"
            // The operator's real token with its payload rewritten to admin, signature kept.
            let parts = valid.split(separator: ".").map(String.init)
            let payloadBytes = try #require(Base64URL.decode(parts[1]))
            var tamperedPayload = try #require(try JSONSerialization.jsonObject(with: payloadBytes) as? [String: Any])
            tamperedPayload["role"] = "admin"
            let tampered = parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: tamperedPayload)) + "." + parts[2]

            let cases: [(String, HTTPFields)] = [
                ("no token", [:]),
                ("not bearer", [.authorization: "Basic dXNlcjpwYXNz"]),
                ("garbage", Self.bearer("not.a.token")),
                ("alg none", Self.bearer(noneToken)),
                ("HS256 with the public key", Self.bearer(hsToken)),
                ("expired", Self.bearer(try await signed(claims(expiresIn: -60)))),
                ("wrong audience", Self.bearer(try await signed(claims(audience: "someone-else")))),
                ("wrong issuer", Self.bearer(try await signed(claims(issuer: "evil")))),
                ("unknown kid", Self.bearer(try await signed(claims(), key: Self.foreignKeyPair, kid: "stam-unknown"))),
                ("known kid, foreign key", Self.bearer(try await signed(claims(), key: Self.foreignKeyPair))),
                ("tampered payload", Self.bearer(tampered)),
            ]
            // The genuine token is verified (and so remembered) first: its tampered copy shares its signature and
            // must still be refused, not served from the verified-token cache.
            #expect(try await client.execute(uri: "/api/sites", method: .get, headers: Self.bearer(valid)).status == .ok)
            for (name, headers) in cases {
                let response = try await client.execute(uri: "/api/operators", method: .get, headers: headers)
                #expect(response.status == .unauthorized, "\(name): \(response.status)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer", "\(name)")
            }
            // The same request with a genuine token of a role that may list operators passes.
            let supervisor = try await token(harness, role: "supervisor")
            #expect(try await client.execute(uri: "/api/operators", method: .get, headers: Self.bearer(supervisor)).status == .ok)
        }
    }

    // MARK: Roles

    /// Every generated route, every role: exactly the roles the schema names get past the guard.
    @Test func everyGeneratedRouteAdmitsExactlyItsRoles() async throws {
        try await withAPI { client, harness in
            var tokens: [String: String] = [:]
            for role in OperatorRole.allCases.map(\.rawValue) { tokens[role] = try await token(harness, role: role) }
            #expect(APIRoutes.table.count > 20)
            for route in APIRoutes.table {
                let uri = route.path.replacingOccurrences(of: ":id", with: UUID().uuidString.lowercased())
                for (role, token) in tokens {
                    var headers = Self.bearer(token)
                    headers[.ifMatch] = "\"1\""
                    let response = try await client.execute(uri: uri, method: .init(route.method)!, headers: headers, body: Self.json("{}"))
                    if route.roles.contains(role) {
                        #expect(![.forbidden, .unauthorized, .notFound].contains(response.status) || (route.path.contains(":id") && response.status == .notFound),
                                "\(role) \(route.method) \(route.path): \(response.status)")
                    } else {
                        #expect(response.status == .forbidden, "\(role) \(route.method) \(route.path): \(response.status)")
                    }
                }
            }
        }
    }

    // MARK: CRUD, validation, concurrency

    @Test func createReadUpdateDeleteWithETagsAndMappedDatabaseErrors() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            let created = try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                   body: Self.json(#"{"code":"S-100","name":"Bank","address":null}"#))
            #expect(created.status == .created)
            #expect(created.headers[.eTag] == "\"1\"")
            let site = try Self.object(created)
            let id = try #require(site["id"] as? String)
            #expect(created.headers[.location] == "/api/sites/\(id)")

            let duplicate = try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                     body: Self.json(#"{"code":"S-100","name":"Other"}"#))
            #expect(duplicate.status == .conflict)

            var noVersion = admin
            noVersion[.contentType] = "application/json"
            #expect(try await client.execute(uri: "/api/sites/\(id)", method: .patch, headers: noVersion,
                                             body: Self.json(#"{"name":"Bank 2"}"#)).status == .preconditionRequired)
            var version1 = admin
            version1[.ifMatch] = "\"1\""
            let updated = try await client.execute(uri: "/api/sites/\(id)", method: .patch, headers: version1, body: Self.json(#"{"name":"Bank 2"}"#))
            #expect(updated.status == .ok)
            #expect(updated.headers[.eTag] == "\"2\"")
            #expect(try Self.object(updated)["code"] as? String == "S-100")  // untouched fields stay
            let stale = try await client.execute(uri: "/api/sites/\(id)", method: .patch, headers: version1, body: Self.json(#"{"name":"Bank 3"}"#))
            #expect(stale.status == .conflict)
            // If-Match: the strong ETag or * (whatever is current, RFC 9110); a weak, unquoted, listed or empty one is 400.
            for bad in ["W/\"2\"", "2", "\"1\", \"2\"", "", "\"02\""] {
                var headers = admin
                headers[.ifMatch] = bad
                let refused = try await client.execute(uri: "/api/sites/\(id)", method: .patch, headers: headers, body: Self.json(#"{"name":"Bank 3"}"#))
                #expect(refused.status == .badRequest, "If-Match: \(bad)")
            }
            var any = admin
            any[.ifMatch] = "*"
            let star = try await client.execute(uri: "/api/sites/\(id)", method: .patch, headers: any, body: Self.json(#"{"name":"Bank 2"}"#))
            #expect(star.status == .ok && star.headers[.eTag] == "\"3\"")
            #expect(try await harness.repositories.sites.find(id: UUID(uuidString: id)!)?.name == "Bank 2")

            // A panel: a reference to a missing site is a 409 naming the field (well-formed, but the row is not
            // there: deleted meanwhile, like its mirror still_referenced); the secret is accepted, never shown;
            // station-managed fields cannot be written.
            let orphan = try await client.execute(uri: "/api/panels", method: .post, headers: admin,
                                                  body: Self.json(#"{"site_id":"\#(UUID().uuidString)","name":"P","host":"10.0.0.1"}"#))
            #expect(orphan.status == .conflict)
            #expect(try Self.object(orphan)["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "missing_reference")
            #expect(try Self.errorFields(orphan) == ["site_id"])
            let panelResponse = try await client.execute(uri: "/api/panels", method: .post, headers: admin,
                                                         body: Self.json(#"{"site_id":"\#(id)","name":"P","host":"10.0.0.1","user_code":"7531"}"#))
            #expect(panelResponse.status == .created)
            #expect(!String(buffer: panelResponse.body).contains("7531"))
            let panel = try Self.object(panelResponse)
            #expect(panel["user_code"] is NSNull)
            let panelId = try #require(panel["id"] as? String)
            #expect(try await harness.repositories.panels.find(id: UUID(uuidString: panelId)!)?.userCode?.revealed == "7531")
            let readonly = try await client.execute(uri: "/api/panels", method: .post, headers: admin,
                                                    body: Self.json(#"{"site_id":"\#(id)","name":"Q","host":"10.0.0.2","fencing_token":99}"#))
            #expect(try Self.errorFields(readonly) == ["fencing_token"])

            // The site is still referenced: 409, not a 500.
            #expect(try await client.execute(uri: "/api/sites/\(id)", method: .delete, headers: admin).status == .conflict)
            #expect(try await client.execute(uri: "/api/panels/\(panelId)", method: .delete, headers: admin).status == .noContent)
            #expect(try await client.execute(uri: "/api/sites/\(id)", method: .delete, headers: admin).status == .noContent)
            #expect(try await client.execute(uri: "/api/sites/\(id)", method: .get, headers: admin).status == .notFound)
            #expect(try await client.execute(uri: "/api/sites/not-a-uuid", method: .get, headers: admin).status == .notFound)
        }
    }

    /// Issue 18 point 5: a command POST whose answer was lost is sent again with its Idempotency-Key and gets the
    /// first command back, not a second command (a switch of outputs toggled twice); the same key for another
    /// request (409), or a malformed key (422), is refused. The command's times are the database's clock.
    @Test func aRetriedCommandWithItsIdempotencyKeyRunsOnce() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            let site = try Self.object(try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                                body: Self.json(#"{"code":"S-IDEM","name":"Bank"}"#)))
            let siteID = try #require(site["id"] as? String)
            let panel = try Self.object(try await client.execute(uri: "/api/panels", method: .post, headers: admin, body: Self.json(
                #"{"site_id":"\#(siteID)","name":"P","host":"10.0.0.9","user_code":"7531"}"#)))
            let panelID = try #require(panel["id"] as? String)
            var keyed = admin
            keyed[HTTPField.Name("Idempotency-Key")!] = "console-7f3a-0001"
            let body = #"{"outputs":[3],"state":"switch"}"#
            let uri = "/api/panels/\(panelID)/set-outputs"
            let first = try await client.execute(uri: uri, method: .post, headers: keyed, body: Self.json(body))
            #expect(first.status == .accepted)
            let again = try await client.execute(uri: uri, method: .post, headers: keyed, body: Self.json(body))
            #expect(again.status == .accepted)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(first.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            let firstID = try #require(try Self.object(first)["id"] as? String)
            #expect(try Self.object(again)["id"] as? String == firstID)
            let context = harness.repositories.context
            @Sendable func count(_ sql: String) async throws -> Int {
                try await context.client.query(PostgresQuery(unsafeSQL: sql), logger: context.logger).collect().first?.decode(Int.self) ?? -1
            }
            #expect(try await count("SELECT count(*)::int FROM commands WHERE panel_id = '\(panelID)'") == 1)
            #expect(try await count("SELECT count(*)::int FROM outbox WHERE event_name = 'CommandRequested' AND lower(payload->>'command_id') = '\(firstID.lowercased())'") == 1)
            // Same key, another request: refused, nothing made.
            let other = try await client.execute(uri: uri, method: .post, headers: keyed, body: Self.json(#"{"outputs":[4],"state":"switch"}"#))
            #expect(other.status == .conflict)
            #expect(try Self.object(other)["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "idempotency_key_reused")
            var malformed = admin
            malformed[HTTPField.Name("Idempotency-Key")!] = "has spaces in it"
            #expect(try await client.execute(uri: uri, method: .post, headers: malformed, body: Self.json(body)).status == .unprocessableContent)
            // Without a key every POST is a new command.
            #expect(try await client.execute(uri: uri, method: .post, headers: admin, body: Self.json(body)).status == .accepted)
            #expect(try await count("SELECT count(*)::int FROM commands WHERE panel_id = '\(panelID)'") == 2)
            // The database's clock, the one the worker expires commands by: the lifetime exactly added to it.
            #expect(try await count("SELECT count(*)::int FROM commands WHERE id = '\(firstID)' AND requested_at <= now() AND expires_at = requested_at + interval '60 seconds' AND idempotency_key = 'console-7f3a-0001'") == 1)
        }
    }

    /// Issue 18 point 9: an admin's PATCH of a panel reads the row, then writes it. A worker that claims the panel
    /// in between (here: its transaction holds the row while the PATCH waits, then commits a new fencing token,
    /// cursor and connection state) must keep what it wrote: the PATCH writes only the fields the API may change.
    /// Writing the whole row back made the owner's next commit fail its fencing check and left the panel unwatched.
    @Test func aPatchDoesNotWriteBackWhatTheWorkerChangedMeanwhile() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            let site = try Self.object(try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                                body: Self.json(#"{"code":"S-PATCH","name":"Bank"}"#)))
            let siteID = try #require(site["id"] as? String)
            let panel = try Self.object(try await client.execute(uri: "/api/panels", method: .post, headers: admin, body: Self.json(
                #"{"site_id":"\#(siteID)","name":"Before","host":"10.0.0.11"}"#)))
            let panelID = try #require(panel["id"] as? String)
            let context = harness.repositories.context
            try await context.client.withConnection { worker in
                _ = try await worker.query("BEGIN", logger: context.logger)
                _ = try await worker.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM panels WHERE id = '\(panelID)' FOR UPDATE"), logger: context.logger)
                var patched = admin
                patched[.ifMatch] = "*"
                async let answer = client.execute(uri: "/api/panels/\(panelID)", method: .patch, headers: patched, body: Self.json(#"{"name":"After"}"#))
                // The PATCH has read the row and now waits for the worker's lock.
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    let waiting = try await context.client.query(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE \"panels\"%'",
                        logger: context.logger).collect().first?.decode(Int.self) ?? 0
                    if waiting > 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                _ = try await worker.query(PostgresQuery(unsafeSQL: """
                    UPDATE panels SET fencing_token = 42, owner_worker = 'w-new', event_log_cursor = 7, connection_state = 'connected'
                    WHERE id = '\(panelID)'
                    """), logger: context.logger)
                _ = try await worker.query("COMMIT", logger: context.logger)
                #expect(try await answer.status == .ok)
            }
            let stored = try #require(try await harness.repositories.panels.find(id: UUID(uuidString: panelID)!))
            #expect(stored.name == "After")
            #expect(stored.fencingToken == 42)
            #expect(stored.ownerWorker == "w-new")
            #expect(stored.eventLogCursor == 7)
            #expect(stored.connectionState == .connected)
        }
    }

    @Test func invalidBodiesNameEveryBadField() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            let bad = try await client.execute(uri: "/api/sites", method: .post, headers: admin, body: Self.json(
                #"{"code":123,"name":"\#(String(repeating: "x", count: 201))","active":"yes","colour":"red"}"#))
            #expect(bad.status == .unprocessableContent)
            #expect(try Self.errorFields(bad) == ["code", "name", "active", "colour"])
            let missing = try await client.execute(uri: "/api/sites", method: .post, headers: admin, body: Self.json("{}"))
            #expect(try Self.errorFields(missing) == ["code", "name"])
            let enumeration = try await client.execute(uri: "/api/operators", method: .post, headers: admin,
                                                       body: Self.json(#"{"login":"x","display_name":"X","role":"god"}"#))
            #expect(try Self.errorFields(enumeration) == ["role"])
            let notJSON = try await client.execute(uri: "/api/sites", method: .post, headers: admin, body: Self.json("[1,2"))
            #expect(notJSON.status == .badRequest)
        }
    }

    @Test func listsPageWithCursorsAndRefuseBadParameters() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            for index in 0..<7 { _ = try await harness.repositories.sites.insert(Site(code: "C\(index)", name: "site \(index)", active: index % 2 == 0)) }
            var names: [String] = []
            var cursor: String?
            repeat {
                let uri = "/api/sites?limit=3&sort=name&direction=desc&active=true" + (cursor.map { "&after=\($0)" } ?? "")
                let page = try Self.object(try await client.execute(uri: uri, method: .get, headers: admin))
                names += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(names == ["site 6", "site 4", "site 2", "site 0"])
            // An empty cursor is the first page, as an absent one.
            let first = try Self.object(try await client.execute(uri: "/api/sites?limit=2&after=", method: .get, headers: admin))
            #expect((first["items"] as? [[String: Any]])?.count == 2)
            for query in ["limit=0", "sort=colour", "direction=up", "active=maybe", "after=garbage", "code=\(String(repeating: "x", count: 33))"] {
                let response = try await client.execute(uri: "/api/sites?\(query)", method: .get, headers: admin)
                #expect(response.status == .unprocessableContent, "\(query)")
            }
        }
    }

    // MARK: Request ids, health, OpenAPI

    /// A method a path is not served with is 405 naming the allowed ones (RFC 9110), from the document's paths,
    /// before authentication; an unknown path stays 404.
    @Test func undeclaredMethodsAre405WithAllow() async throws {
        try await withAPI { client, harness in
            for (method, uri, allow) in [(HTTPRequest.Method.trace, "/readyz", "GET, HEAD"), (.put, "/api/sites", "GET, HEAD, POST"),
                                         (.delete, "/api/auth/login/", "POST"), (.get, "/api/alarms/\(UUID())/take", "POST")] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                #expect(try Self.object(response)["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "method_not_allowed")
            }
            #expect(try await client.execute(uri: "/api/nothing-here", method: .put).status != .methodNotAllowed)
        }
    }

    @Test func requestIdsAreEchoedOrMadeAndHealthAndOpenAPIAreServed() async throws {
        try await withAPI { client, _ in
            let echoed = try await client.execute(uri: "/api/sites", method: .get, headers: [.requestID: "abc-123"])
            #expect(echoed.status == .unauthorized)
            #expect(echoed.headers[.requestID] == "abc-123")
            let replaced = try await client.execute(uri: "/healthz", method: .get, headers: [.requestID: "bad id\nforged log line"])
            #expect(replaced.headers[.requestID].map { UUID(uuidString: $0) != nil } == true)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let document = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(String(buffer: document.body) == OpenAPIDocument.json)
            let paths = try #require(try Self.object(document)["paths"] as? [String: Any])
            for route in APIRoutes.table {
                #expect(paths[route.path.replacingOccurrences(of: ":id", with: "{id}")] != nil, "\(route.path)")
            }
        }
    }

    @Test func metricsCountRequestsByMatchedRouteAndStatusAndSayReady() async throws {
        try await withAPI { client, harness in
            let token = try await token(harness, role: "operator")
            _ = try await client.execute(uri: "/api/sites", method: .get)
            _ = try await client.execute(uri: "/api/sites", method: .get, headers: Self.bearer(token))
            _ = try await client.execute(uri: "/api/sites/\(UUID())", method: .get, headers: Self.bearer(token))
            _ = try await client.execute(uri: "/no/such/\(UUID())", method: .get)
            // Not on the API's port, the one nginx forwards to: on the observability port only.
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .notFound)
            let response = try await Self.scrape(harness.backend)
            #expect(response.status == 200)
            let text = response.body
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/sites",status="401"} 1"#), "\(text)")
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/sites",status="200"} 1"#))
            // The route template, not the id: one series however many ids are asked for.
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/sites/{id}",status="404"} 1"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="unmatched",status="404"} 2"#))
            #expect(text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/sites\""))
            #expect(text.contains("\nstam_ready 1"))
        }
    }

    // MARK: Actions

    func count(_ harness: Harness, _ sql: String) async throws -> Int {
        let context = harness.repositories.context
        return try await context.client.query(PostgresQuery(unsafeSQL: sql), logger: context.logger).collect().first?.decode(Int.self) ?? -1
    }

    @Test func theAlarmWorkflowIsEnforcedAndEveryStepIsAuditedWithItsEvent() async throws {
        try await withAPI { client, harness in
            let operatorHeaders = Self.bearer(try await token(harness, role: "operator"))
            let site = try await harness.repositories.sites.insert(Site(code: "W", name: "workflow"))
            let alarm = try await harness.repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, priority: .burglary, title: "Zone 3"))
            let base = "/api/alarms/\(alarm.id.uuidString.lowercased())"
            func post(_ action: String, _ body: String = "{}") async throws -> TestResponse {
                try await client.execute(uri: "\(base)/\(action)", method: .post, headers: operatorHeaders, body: Self.json(body))
            }
            // Out of order: 409, nothing written.
            #expect(try await post("take").status == .conflict)
            #expect(try await post("close", #"{"note":"done"}"#).status == .conflict)
            #expect(try await post("acknowledge").status == .ok)
            #expect(try await post("acknowledge").status == .conflict)
            #expect(try await post("take").status == .ok)
            #expect(try await post("close").status == .unprocessableContent)  // the note is mandatory
            #expect(try await post("close", #"{"note":""}"#).status == .unprocessableContent)
            #expect(try await post("close", #"{"note":"bell\u0007"}"#).status == .unprocessableContent)
            let closed = try await post("close", #"{"note":"False alarm, customer on site"}"#)
            #expect(closed.status == .ok)
            #expect(try Self.object(closed)["state"] as? String == "closed")
            let stored = try #require(try await harness.repositories.alarms.find(id: alarm.id))
            #expect(stored.state == .closed && stored.acknowledgedAt != nil && stored.takenAt != nil && stored.closedAt != nil)
            #expect(stored.assigneeId == harness.users["operator"]?.id)
            let id = alarm.id.uuidString.lowercased()
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE entity_id = '\(id)'") == 3)
            #expect(try await count(harness, "SELECT count(*)::int FROM outbox WHERE aggregate_id = '\(id)'") == 3)
            #expect(try await count(harness, "SELECT count(*)::int FROM alarm_notes WHERE alarm_id = '\(id)'") == 1)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE request_id IS NOT NULL") == 3)
            #expect(try await client.execute(uri: "/api/alarms/\(UUID().uuidString)/acknowledge", method: .post,
                                             headers: operatorHeaders).status == .notFound)
        }
    }

    @Test func panelCommandsAreAcceptedAsACommandRowAndItsEventInOneTransaction() async throws {
        try await withAPI { client, harness in
            let supervisor = Self.bearer(try await token(harness, role: "supervisor"))
            let site = try await harness.repositories.sites.insert(Site(code: "P", name: "panel"))
            let panel = try await harness.repositories.panels.insert(Panel(siteId: site.id, name: "P1", host: "10.1.1.1"))
            let base = "/api/panels/\(panel.id.uuidString.lowercased())"
            let armed = try await client.execute(uri: "\(base)/arm", method: .post, headers: supervisor,
                                                 body: Self.json(#"{"partitions":[2,1,2],"mode":1}"#))
            #expect(armed.status == .accepted)
            // The answer is the command row (schema: `returns: Command`), Location naming it.
            let commandId = try #require(try Self.object(armed)["id"] as? String)
            #expect(armed.headers[.location] == "/api/commands/\(commandId)")
            #expect(try Self.object(armed)["status"] as? String == "requested")
            let command = try #require(try await harness.repositories.commands.find(id: UUID(uuidString: commandId)!))
            #expect(command.kind == .arm && command.armMode == 1 && command.status == .requested)
            #expect(command.targets == .array([.number(1), .number(2)]))
            #expect(command.expiresAt > command.requestedAt)
            #expect(try await count(harness, "SELECT count(*)::int FROM outbox WHERE event_name = 'CommandRequested' AND exchange = 'commands'") == 1)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE action = 'panel.arm'") == 1)

            for (action, body, field) in [("arm", #"{"partitions":[33]}"#, "partitions"), ("arm", #"{"partitions":[1],"mode":7}"#, "mode"),
                                          ("disarm", #"{}"#, "partitions"), ("bypass-zones", #"{"zones":[]}"#, "zones"),
                                          ("set-outputs", #"{"outputs":[1],"state":"blink"}"#, "state")] {
                let response = try await client.execute(uri: "\(base)/\(action)", method: .post, headers: supervisor, body: Self.json(body))
                #expect(response.status == .unprocessableContent, "\(action) \(body)")
                #expect(try Self.errorFields(response) == [field], "\(action) \(body)")
            }
            #expect(try await client.execute(uri: "/api/panels/\(UUID().uuidString)/disarm", method: .post, headers: supervisor,
                                             body: Self.json(#"{"partitions":[1]}"#)).status == .notFound)
            // Nothing half-written by the refused requests.
            #expect(try await count(harness, "SELECT count(*)::int FROM commands") == 1)
        }
    }

    /// Generated creates, updates and deletes leave an entry with who, the request id and the changed fields
    /// (a secret only as "changed"), and nobody, the application's role included, changes or removes an entry.
    @Test func everyGeneratedWriteIsAuditedAndTheTrailIsAppendOnly() async throws {
        try await withAPI { client, harness in
            var admin = Self.bearer(try await token(harness, role: "admin"))
            admin[.requestID] = "audit-1"
            let site = try Self.object(try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                                body: Self.json(#"{"code":"A-1","name":"Bakery"}"#)))
            let siteId = try #require(site["id"] as? String)
            let panel = try await client.execute(uri: "/api/panels", method: .post, headers: admin,
                                                 body: Self.json(#"{"site_id":"\#(siteId)","name":"P","host":"10.0.0.5","user_code":"1234"}"#))
            #expect(panel.status == .created)
            let panelId = try #require(try Self.object(panel)["id"] as? String)
            var update = admin
            update[.ifMatch] = "\"1\""
            #expect(try await client.execute(uri: "/api/panels/\(panelId)", method: .patch, headers: update,
                                             body: Self.json(#"{"name":"Panel 1","user_code":"9876"}"#)).status == .ok)
            #expect(try await client.execute(uri: "/api/panels/\(panelId)", method: .delete, headers: admin).status == .noContent)

            let context = harness.repositories.context
            let rows = try await context.client.query(
                "SELECT action, entity_id::text, operator_id = \(try #require(harness.users["admin"]).id), request_id, details::text FROM audit_entries ORDER BY created_at",
                logger: context.logger).collect()
            let entries = try rows.map { try $0.decode((String, String?, Bool, String?, String).self) }
            #expect(entries.map(\.0) == ["site.create", "panel.create", "panel.update", "panel.delete"])
            #expect(entries.allSatisfy { $0.2 && $0.3 == "audit-1" })
            #expect(entries[0].1 == siteId.lowercased() && entries[1].1 == panelId.lowercased(), "\(entries.map(\.1)) \(siteId) \(panelId)")
            func details(_ index: Int) throws -> [String: Any] {
                try #require(try JSONSerialization.jsonObject(with: Data(entries[index].4.utf8)) as? [String: Any])
            }
            let created = try details(1)
            #expect((created["host"] as? [String: Any])?["after"] as? String == "10.0.0.5")
            #expect((created["host"] as? [String: Any])?["before"] == nil)
            #expect((created["user_code"] as? [String: Any])?["changed"] as? Bool == true)
            let updated = try details(2)
            #expect(Set(updated.keys) == ["name", "user_code", "version", "updated_at"], "\(updated)")
            #expect((updated["name"] as? [String: Any])?["before"] as? String == "P" && (updated["name"] as? [String: Any])?["after"] as? String == "Panel 1")
            #expect((updated["user_code"] as? [String: Any])?["changed"] as? Bool == true)
            #expect(!entries[2].4.contains("9876") && !entries[1].4.contains("1234"), "a secret's value reached the trail")
            #expect(((try details(3))["name"] as? [String: Any])?["before"] as? String == "Panel 1")

            // Append-only for everyone, the application's own role included (it owns the table).
            for statement in ["UPDATE audit_entries SET action = 'forged'", "DELETE FROM audit_entries", "TRUNCATE audit_entries"] {
                await #expect(throws: PSQLError.self, "\(statement)") {
                    try await context.client.query(PostgresQuery(unsafeSQL: statement), logger: context.logger)
                }
            }
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE action <> 'forged'") == 4)
        }
    }

    @Test func anAdminSetsAPasswordThatThenLogsIn() async throws {
        try await withAPI { client, harness in
            let admin = Self.bearer(try await token(harness, role: "admin"))
            let created = try await client.execute(uri: "/api/operators", method: .post, headers: admin,
                                                   body: Self.json(#"{"login":"newbie","display_name":"New"}"#))
            #expect(created.status == .created)
            let id = try #require(try Self.object(created)["id"] as? String)
            let login = #"{"login":"newbie","password":"a long enough secret"}"#
            #expect(try await client.execute(uri: "/api/auth/login", method: .post, body: Self.json(login)).status == .unauthorized)
            // Too short, too long, or with a control character (a NUL, where bcrypt would stop): refused.
            for bad in ["short", String(repeating: "x", count: 1025), #"long enough\u0000but cut"#, #"long enough\tbut a tab"#] {
                #expect(try await client.execute(uri: "/api/operators/\(id)/set-password", method: .post, headers: admin,
                                                 body: Self.json(#"{"password":"\#(bad)"}"#)).status == .unprocessableContent, "\(bad)")
            }
            // Past bcrypt's 72 bytes every character still counts (the hash is of the password's SHA-256): the same
            // first 72 bytes with another ending do not log in.
            let long = String(repeating: "ż", count: 40) + "-the-end"
            #expect(try await client.execute(uri: "/api/operators/\(id)/set-password", method: .post, headers: admin,
                                             body: Self.json(#"{"password":"\#(long)"}"#)).status == .noContent)
            #expect(try await client.execute(uri: "/api/auth/login", method: .post,
                                             body: Self.json(#"{"login":"newbie","password":"\#(long)"}"#)).status == .ok)
            let sameStart = String(repeating: "ż", count: 40) + "-another"
            #expect(try await client.execute(uri: "/api/auth/login", method: .post,
                                             body: Self.json(#"{"login":"newbie","password":"\#(sameStart)"}"#)).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/operators/\(id)/set-password", method: .post, headers: admin,
                                             body: Self.json(#"{"password":"a long enough secret"}"#)).status == .noContent)
            #expect(try await client.execute(uri: "/api/auth/login", method: .post, body: Self.json(login)).status == .ok)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE action = 'operator.set_password' AND details IS NULL") == 2)
        }
    }

    // MARK: Reports

    /// A report candidate: the database itself (a primary, as in dev), a port nobody listens on, a real standby.
    enum ReplicaChoice: Sendable { case sameDatabase, unreachable, standby }

    /// Keeps log lines so a test can see the fallback warning.
    final class CapturedLogs: LogHandler, @unchecked Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.withLock { $0.append((event.level, "\(event.message)")) } }
        var warnings: [String] { lines.withLock { $0.filter { $0.0 == .warning }.map(\.1) } }
    }

    func seedAlarms(_ harness: Harness) async throws -> Site {
        let site = try await harness.repositories.sites.insert(Site(code: "R", name: "reports"))
        let now = Date()
        for (index, kind) in [AlarmKind.fire, .burglary, .burglary].enumerated() {
            var alarm = try await harness.repositories.alarms.insert(
                Alarm(siteId: site.id, kind: kind, title: "a\(index)", raisedAt: now.addingTimeInterval(-600)))
            alarm.acknowledgedAt = now.addingTimeInterval(-600 + Double(10 * (index + 1)))
            alarm.closedAt = now.addingTimeInterval(-300)
            alarm.state = .closed
            _ = try await harness.repositories.alarms.update(alarm)
        }
        return site
    }

    /// Candidates in order: one down, one a primary, one a real standby. The report runs on the standby and says
    /// so; nothing is logged as a fall back.
    @Test func reportsRunOnTheCandidateThatIsAReplicaAndSaySo() async throws {
        let logs = CapturedLogs()
        try await withAPI(replicas: [.unreachable, .sameDatabase, .standby], logHandler: logs) { client, harness in
            let site = try await seedAlarms(harness)
            let supervisor = Self.bearer(try await token(harness, role: "supervisor"))
            // The standby replays the seeded rows within moments; poll until its answer holds them.
            var line: [String: Any]?
            let deadline = ContinuousClock.now + .seconds(20)
            while line == nil, ContinuousClock.now < deadline {
                let response = try await client.execute(uri: "/api/reports/alarms", method: .get, headers: supervisor)
                #expect(response.status == .ok)
                #expect(response.headers[.init("X-Report-Source")!] == "replica")
                let sites = try #require(try Self.object(response)["sites"] as? [[String: Any]])
                line = sites.first { $0["site_id"] as? String == site.id.uuidString.lowercased() && $0["alarms"] as? Int == 3 }
                if line == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let found = try #require(line)
            #expect(found["fire"] as? Int == 1 && found["burglary"] as? Int == 2)
            #expect(found["acknowledge_seconds_p50"] as? Double == 20)
            #expect(logs.warnings.isEmpty, "\(logs.warnings)")
            let operatorHeaders = Self.bearer(try await token(harness, role: "operator"))
            #expect(try await client.execute(uri: "/api/reports/alarms", method: .get, headers: operatorHeaders).status == .forbidden)
            #expect(try await client.execute(uri: "/api/reports/panel-events?from=nonsense", method: .get, headers: supervisor).status
                == .unprocessableContent)
        }
    }

    /// A report covers at most 366 days (refused before it scans), and PostgreSQL stops one that runs past the
    /// statement timeout: a 503 asking for a shorter period, and the connection is clean for the next query.
    @Test func reportsRefuseLongPeriodsAndPostgreSQLStopsSlowOnes() async throws {
        try await withAPI(replicas: [.sameDatabase]) { client, harness in
            let supervisor = Self.bearer(try await token(harness, role: "supervisor"))
            let long = try await client.execute(uri: "/api/reports/alarms?from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z",
                                                method: .get, headers: supervisor)
            #expect(long.status == .unprocessableContent)
            #expect(String(buffer: long.body).contains("366 days"))
            #expect(try await client.execute(uri: "/api/reports/alarms?from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
                                             method: .get, headers: supervisor).status == .ok)
            do {
                try await harness.repositories.context.client.withConnection { connection in
                    await #expect { _ = try await ReportDatabase.bounded("SELECT pg_sleep(5)", on: connection, timeout: .milliseconds(200), logger: logger) }
                        throws: { ($0 as? APIError)?.code == "report_too_slow" && ($0 as? APIError)?.status == .serviceUnavailable }
                    let after = try await ReportDatabase.bounded("SELECT current_setting('statement_timeout')", on: connection, timeout: .seconds(10), logger: logger)
                    #expect(try after.first?.decode(String.self) == "10s")  // the SET LOCAL of the stopped report ended with it
                    let rows = try await connection.query("SELECT current_setting('statement_timeout')", logger: logger).collect()
                    #expect(try rows.first?.decode(String.self) == "0")  // outside a report: no limit left behind
                }
            }
        }
    }

    /// The replica URL names a primary (dev; prod right after a failover): the header says primary, and the fall
    /// back is logged once, not per request.
    @Test func aReportOnAPrimaryIsLabelledPrimaryAndLoggedOnce() async throws {
        let logs = CapturedLogs()
        try await withAPI(replicas: [.sameDatabase], logHandler: logs) { client, harness in
            _ = try await seedAlarms(harness)
            let supervisor = Self.bearer(try await token(harness, role: "supervisor"))
            for _ in 0..<3 {
                let response = try await client.execute(uri: "/api/reports/alarms", method: .get, headers: supervisor)
                #expect(response.status == .ok)
                #expect(response.headers[.init("X-Report-Source")!] == "primary")
            }
            #expect(logs.warnings.count == 1, "\(logs.warnings)")
            #expect(logs.warnings.first?.contains("no replica to run on") == true)
        }
    }

    @Test func reportsFallBackToThePrimaryWithAWarningWhenTheReplicaIsDown() async throws {
        let logs = CapturedLogs()
        try await withAPI(replicas: [.unreachable], logHandler: logs) { client, harness in
            _ = try await seedAlarms(harness)
            let supervisor = Self.bearer(try await token(harness, role: "supervisor"))
            let response = try await client.execute(uri: "/api/reports/alarms", method: .get, headers: supervisor)
            #expect(response.status == .ok)
            #expect(response.headers[.init("X-Report-Source")!] == "primary")
            #expect((try Self.object(response)["sites"] as? [[String: Any]])?.count == 1)
            #expect(logs.warnings.contains { $0.contains("no replica to run on") })
            let events = try await client.execute(uri: "/api/reports/panel-events", method: .get, headers: supervisor)
            #expect(events.status == .ok)
        }
    }
}
