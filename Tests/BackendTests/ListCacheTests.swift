import APISupport
import Backend
import Database
import Foundation
import Generated
import GeneratedAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import MigrationSupport
import NIOCore
import Observability
import Outbox
import Persistence
import StamCore
import Synchronization
import Testing
import TestSupport
import _CryptoExtras

/// The backend's list cache: what it serves, when it reads again, and that a query which started before a
/// change is never served after it. Then the real thing: the generated alarm list over PostgreSQL with the
/// live feed on a real RabbitMQ, where an event or a write through the backend makes the next read fresh.
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct ListCacheTests {
    let logger = Logger(label: "test.list-cache")

    static let policy = ListCachePolicy(entity: "Alarm", maxAge: .seconds(30), invalidatedBy: ["AlarmRaised", "AlarmClosed"])

    /// A load that counts its calls and answers `text` (after `delay`).
    final class Loader: Sendable {
        let calls = Atomic<Int>(0)
        func load(_ text: String, delay: Duration = .zero) async throws -> ByteBuffer {
            calls.add(1, ordering: .relaxed)
            if delay > .zero { try await Task.sleep(for: delay) }
            return ByteBuffer(string: text)
        }
        var count: Int { calls.load(ordering: .relaxed) }
    }

    func enabledCache(_ policy: ListCachePolicy = policy) -> ListCache {
        let cache = ListCache()
        cache.register(policy)
        cache.setEnabled(true)
        return cache
    }

    @Test func servesFromMemoryUntilItsEventAWriteOrItsAgeAndNeverWhileOff() async throws {
        let cache = ListCache()
        cache.register(Self.policy)
        let loader = Loader()
        // Off (no live feed yet): every request reads.
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("a") }.1 == .bypass)
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("a") }.1 == .bypass)
        #expect(loader.count == 2)

        cache.setEnabled(true)
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("b") } == (ByteBuffer(string: "b"), .miss))
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("c") } == (ByteBuffer(string: "b"), .hit))
        // Another query string is another answer.
        #expect(try await cache.body(for: Self.policy, key: "limit=10") { try await loader.load("d") }.1 == .miss)
        #expect(loader.count == 4)

        // An event of another entity changes nothing; one of this entity's drops every answer.
        cache.invalidate(event: "PanelConnected")
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("e") }.0 == ByteBuffer(string: "b"))
        cache.invalidate(event: "AlarmClosed")
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("f") } == (ByteBuffer(string: "f"), .miss))
        #expect(try await cache.body(for: Self.policy, key: "limit=10") { try await loader.load("g") }.0 == ByteBuffer(string: "g"))
        // An event without a name, and a write, drop everything.
        cache.invalidate(event: nil)
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("h") }.0 == ByteBuffer(string: "h"))
        cache.invalidateAll()
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("i") }.0 == ByteBuffer(string: "i"))

        // The feed going away turns the cache off and forgets; coming back starts empty.
        cache.setEnabled(false)
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("j") }.1 == .bypass)
        cache.setEnabled(true)
        #expect(try await cache.body(for: Self.policy, key: "limit=50") { try await loader.load("k") } == (ByteBuffer(string: "k"), .miss))
        #expect(cache.counts.hits == 2 && cache.counts.bypasses == 3)

        // max_age, counted from the start of the query. 3 s, not 1: the second read must come before it ends even
        // on a machine busy with other tests (it once came 1 s late under a full CI run).
        let short = ListCachePolicy(entity: "Site", maxAge: .seconds(3), invalidatedBy: [])
        cache.register(short)
        #expect(try await cache.body(for: short, key: "") { try await loader.load("s1", delay: .milliseconds(100)) }.1 == .miss)
        #expect(try await cache.body(for: short, key: "") { try await loader.load("s2") }.0 == ByteBuffer(string: "s1"))
        try await Task.sleep(for: .seconds(3))
        #expect(try await cache.body(for: short, key: "") { try await loader.load("s3") } == (ByteBuffer(string: "s3"), .miss))
    }

    /// A slow or hung query holds only the requests of its first max_age: a later one reads for itself.
    @Test func aQueryOlderThanMaxAgeIsNotJoined() async throws {
        let policy = ListCachePolicy(entity: "Alarm", maxAge: .milliseconds(200), invalidatedBy: [])
        let cache = enabledCache(policy)
        let loader = Loader()
        let hung = Task { try await cache.body(for: policy, key: "") { try await loader.load("hung", delay: .seconds(30)) } }
        while loader.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await cache.body(for: policy, key: "") { try await loader.load("fresh") } == (ByteBuffer(string: "fresh"), .miss))
        hung.cancel()
        _ = await hung.result
    }

    @Test func concurrentMissesShareOneQuery() async throws {
        let cache = enabledCache()
        let loader = Loader()
        let outcomes = try await withThrowingTaskGroup(of: (ByteBuffer, ListCache.Outcome).self) { group in
            for _ in 0..<32 {
                group.addTask { try await cache.body(for: Self.policy, key: "") { try await loader.load("one", delay: .milliseconds(300)) } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(loader.count == 1)
        #expect(outcomes.allSatisfy { $0.0 == ByteBuffer(string: "one") })
        #expect(outcomes.filter { $0.1 == .miss }.count == 1)
        #expect(cache.counts.misses == 1 && cache.counts.hits == 31)
    }

    /// The race a cache gets wrong: a query that started before a change finishes after it. Its answer must not
    /// be stored, and a request that arrives after the change must not wait for it.
    @Test func aQueryThatStartedBeforeAChangeIsNeitherJoinedNorStored() async throws {
        let cache = enabledCache()
        let loader = Loader()
        let slow = Task { try await cache.body(for: Self.policy, key: "") { try await loader.load("before", delay: .milliseconds(500)) } }
        while loader.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
        cache.invalidate(event: "AlarmRaised")
        let after = try await cache.body(for: Self.policy, key: "") { try await loader.load("after") }
        #expect(after == (ByteBuffer(string: "after"), .miss))
        #expect(try await slow.value.0 == ByteBuffer(string: "before"))
        #expect(loader.count == 2)
        // What is cached is the answer read after the change.
        #expect(try await cache.body(for: Self.policy, key: "") { try await loader.load("again") } == (ByteBuffer(string: "after"), .hit))
    }

    @Test func aFailedQueryIsNotStoredAndItsWaitersGetItsError() async throws {
        struct Refused: Error {}
        let cache = enabledCache()
        let loader = Loader()
        let failing = Task { try await cache.body(for: Self.policy, key: "") { () async throws -> ByteBuffer in
            _ = try await loader.load("x", delay: .milliseconds(300))
            throw Refused()
        } }
        while loader.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: Refused.self) { try await cache.body(for: Self.policy, key: "") { try await loader.load("own") } }
        await #expect(throws: Refused.self) { try await failing.value }
        #expect(loader.count == 1 && cache.counts.bypasses == 1)
        #expect(try await cache.body(for: Self.policy, key: "") { try await loader.load("next") } == (ByteBuffer(string: "next"), .miss))
    }

    /// A query that failed only because its request went away (cancelled) does not fail the others: they read.
    @Test func theWaitersOfACancelledQueryReadForThemselves() async throws {
        let cache = enabledCache()
        let loader = Loader()
        let cancelled = Task { try await cache.body(for: Self.policy, key: "") { try await loader.load("gone", delay: .seconds(30)) } }
        while loader.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let waiter = Task { try await cache.body(for: Self.policy, key: "") { try await loader.load("own") } }
        try await Task.sleep(for: .milliseconds(100))
        cancelled.cancel()
        #expect(try await waiter.value == (ByteBuffer(string: "own"), .bypass))
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }

    @Test func keepsABoundedNumberOfBytes() async throws {
        let cache = ListCache(maximumBytesPerEntity: 100)
        cache.register(Self.policy)
        cache.setEnabled(true)
        let loader = Loader()
        let page = String(repeating: "x", count: 40)
        #expect(try await cache.body(for: Self.policy, key: "a") { try await loader.load(page) }.1 == .miss)
        #expect(try await cache.body(for: Self.policy, key: "b") { try await loader.load(page) }.1 == .miss)
        #expect(try await cache.body(for: Self.policy, key: "a") { try await loader.load(page) }.1 == .hit)
        // A third page would pass 100 bytes: the others go.
        #expect(try await cache.body(for: Self.policy, key: "c") { try await loader.load(page) }.1 == .miss)
        #expect(try await cache.body(for: Self.policy, key: "a") { try await loader.load(page) }.1 == .miss)
        // A page larger than the whole budget is served, never kept.
        let huge = String(repeating: "y", count: 150)
        #expect(try await cache.body(for: Self.policy, key: "h") { try await loader.load(huge) }.1 == .miss)
        #expect(try await cache.body(for: Self.policy, key: "h") { try await loader.load(huge) }.1 == .miss)
    }

    @Test func keepsABoundedNumberOfAnswers() async throws {
        let cache = ListCache(maximumEntriesPerEntity: 8)
        cache.register(Self.policy)
        cache.setEnabled(true)
        let loader = Loader()
        for index in 0..<100 {
            _ = try await cache.body(for: Self.policy, key: "limit=\(index)") { try await loader.load("\(index)") }
        }
        // The bound emptied the cache on the way: the early keys are read again, the last one is still held.
        #expect(try await cache.body(for: Self.policy, key: "limit=0") { try await loader.load("0") }.1 == .miss)
        #expect(try await cache.body(for: Self.policy, key: "limit=99") { try await loader.load("99") }.1 == .hit)
    }

    // MARK: The generated route, PostgreSQL and the live feed on RabbitMQ

    @Test func theAlarmListIsFreshAfterItsEventAndAfterAWriteThroughThisBackend() async throws {
        let postgres = try #require(TestPostgres.current)
        let rabbit = try #require(TestRabbitMQ.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let tokens = try await TokenService(publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let user = try await repositories.operators.insert(Operator(login: "ola", displayName: "Ola", role: .operator))
            let headers: HTTPFields = [.authorization: "Bearer \(try await APITests.sessionToken(for: user, repositories: repositories, tokens: tokens))"]
            let site = try await repositories.sites.insert(Site(code: "LC", name: "list cache"))
            let first = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, title: "Zone 1"))

            let listCache = ListCache()
            // The generated policy keeps answers 1 s; registered first, a longer age makes "hit" independent of
            // how busy the machine is (the route's answers then expire only through the events and writes tested).
            listCache.register(ListCachePolicy(entity: "Alarm", maxAge: .seconds(60), invalidatedBy: AlarmRoutes.listCache.invalidatedBy))
            let feed = LiveEventFeed(
                consumer: QueueConsumer(configuration: rabbit.configuration, topology: StamTopology.messaging, queue: "backend.live",
                                        instance: "test-\(UUID().uuidString.prefix(6))", logger: logger),
                hub: LiveHub(), catalog: LiveEventCatalog(StamSchema.eventTypes), listCache: listCache, logger: logger)
            let publisher = Publisher(configuration: rabbit.configuration, topology: StamTopology.messaging, logger: logger)
            let metrics = BackendMetrics(listCache: listCache)
            let backend = BackendRouter(repositories: repositories, tokens: tokens, outbox: OutboxNotifier(client: client, logger: logger),
                                        readiness: [], metrics: metrics, listCache: listCache)
            let router = backend.build()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await feed.run() }
                defer { group.cancelAll() }
                try await Application(router: router).test(.router) { client in
                    func list() async throws -> (outcome: String?, titles: [String], states: [String]) {
                        let response = try await client.execute(uri: "/api/alarms?limit=50", method: .get, headers: headers)
                        #expect(response.status == .ok)
                        let items = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                        return (response.headers[.listCache], items.compactMap { $0["title"] as? String }, items.compactMap { $0["state"] as? String })
                    }
                    // Until the live feed is connected nothing is cached.
                    let deadline = ContinuousClock.now + .seconds(30)
                    while !listCache.isEnabled, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                    #expect(listCache.isEnabled)
                    #expect(try await list().outcome == "miss")
                    #expect(try await list() == ("hit", ["Zone 1"], ["new"]))

                    // Another process raises an alarm: its event reaches the cache through the live feed (the count of
                    // invalidations says so: an answer that merely aged out does not count), and the next read is fresh.
                    let second = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, title: "Zone 2"))
                    let invalidations = listCache.counts.invalidations
                    _ = try await publisher.publish([LiveSocketTests.alarmRaised(second.id, site: site.id)])
                    let eventDeadline = ContinuousClock.now + .seconds(10)
                    while listCache.counts.invalidations == invalidations, ContinuousClock.now < eventDeadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    #expect(listCache.counts.invalidations > invalidations)
                    #expect(try await list() == ("miss", ["Zone 1", "Zone 2"], ["new", "new"]))

                    // A write through this backend: its caller's next read already shows it.
                    #expect(try await list().outcome == "hit")
                    let acknowledged = try await client.execute(uri: "/api/alarms/\(first.id.uuidString.lowercased())/acknowledge",
                                                                method: .post, headers: headers, body: ByteBuffer(string: "{}"))
                    #expect(acknowledged.status == .ok)
                    #expect(try await list() == ("miss", ["Zone 1", "Zone 2"], ["acknowledged", "new"]))

                    // A write that fails still drops the answers (a failure can come after a commit).
                    #expect(try await list().outcome == "hit")
                    let missing = try await client.execute(uri: "/api/alarms/\(UUID().uuidString.lowercased())/acknowledge",
                                                           method: .post, headers: headers, body: ByteBuffer(string: "{}"))
                    #expect(missing.status == .notFound)
                    #expect(try await list().outcome == "miss")
                    // A refused request does not: it never reaches the cache's middleware.
                    let refused = try await client.execute(uri: "/api/alarms/\(first.id.uuidString.lowercased())/acknowledge", method: .post)
                    #expect(refused.status == .unauthorized)
                    #expect(try await list().outcome == "hit")

                    // Lists the schema does not cache are read every time.
                    let sites = try await client.execute(uri: "/api/sites", method: .get, headers: headers)
                    #expect(sites.status == .ok && sites.headers[.listCache] == nil)

                    let metricsText = try await APITests.scrape(backend).body
                    #expect(metricsText.contains(#"stam_list_cache_requests_total{result="hit"}"#))
                    #expect(metricsText.contains("stam_list_cache_enabled 1"))
                }
            }
            await publisher.close()
        }
    }
}
