import Alarms
import APISupport
import Backend
import Database
import Foundation
import Generated
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import DevStack
import Logging
import Messaging
import MigrationSupport
import NIOCore
import Outbox
import Persistence
import PostgresNIO
import Redis
import ServiceLifecycle
import StamCore
import Testing
import TestSupport

/// The operator web console (Sources/Backend/Console) as the backend serves it, and as an operator uses it
/// in a real browser: Debian's headless `chromium` logs in to a backend on a real loopback port (real
/// PostgreSQL, RabbitMQ and Redis), and an alarm raised the way the worker raises one (the row and its
/// `AlarmRaised` in the outbox, in one transaction; a relay publishes it) appears in the queue live; the
/// operator acknowledges, takes and closes it with a note, sees a 409 explained, arms a partition and sees the
/// panel's answer; the backend restarts and the console reconnects and finds the alarm it missed meanwhile.
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct ConsoleTests {
    let logger = Logger(label: "test.console")
    static let login = "dyzurny"
    static let password = "night shift 24/7"
    static let note = "Fire brigade confirmed a false alarm: burnt toast. Owner informed."
    static let viewport = (width: 1280, height: 800)
    /// What the console may load and where it may connect: its own origin only, nothing framing it. The
    /// browser tests below run under this header, so a feature it blocks fails them.
    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

    struct Fixture: Sendable {
        var repositories: Repositories
        var tokens: TokenService
        var client: PostgresClient
        var database: DatabaseConfiguration
    }

    func withFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let tokens = try await TokenService(publicKeyPEM: APITests.keyPair.publicKey.pemRepresentation,
                                            privateKeyPEM: APITests.keyPair.pemRepresentation)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            try await body(Fixture(repositories: repositories, tokens: tokens, client: client, database: database))
        }
    }

    // MARK: Serving

    @Test func theConsoleFilesAreServedWithTheirTypesAndAStrictPolicy() async throws {
        try await withFixture { fixture in
            let router = BackendRouter(repositories: fixture.repositories, tokens: fixture.tokens, outbox: OutboxNotifier(client: fixture.client, logger: logger), readiness: []).build()
            try await Application(router: router).test(.router) { client in
                let files = [
                    ("/", "text/html; charset=utf-8"), ("/console.js", "text/javascript; charset=utf-8"),
                    ("/console.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml"),
                ]
                var bodies: [String: String] = [:]
                for (path, type) in files {
                    let response = try await client.execute(uri: path, method: .get)
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == type, "\(path)")
                    #expect(response.headers[.contentSecurityPolicy] == Self.policy, "\(path)")
                    #expect(response.headers[.cacheControl] == "no-cache", "\(path)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(path)")
                    bodies[path] = String(buffer: response.body)
                    // Revalidation is a 304 without a body.
                    let etag = try #require(response.headers[.eTag], "\(path)")
                    let again = try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: etag])
                    #expect(again.status == .notModified, "\(path)")
                    #expect(again.body.readableBytes == 0, "\(path)")
                }
                // What the policy forbids is not in the files: inline scripts, handlers and styles, HTML from strings.
                let html = try #require(bodies["/"])
                #expect(html.contains(#"<script src="/console.js" defer></script>"#))
                #expect(html.firstMatch(of: /<script(?![^>]*\bsrc=)/) == nil)
                #expect(html.firstMatch(of: /\son[a-z]+\s*=|\sstyle\s*=|<style/) == nil)
                #expect(bodies["/console.js"]?.contains("innerHTML") == false)

                #expect(try await client.execute(uri: "/nope.js", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/console.js/x", method: .get).status == .notFound)
                // The files are public; the data stays behind the token.
                #expect(try await client.execute(uri: "/api/alarms", method: .get).status == .unauthorized)
            }
        }
    }

    // MARK: In Chromium

    /// What the worker keeps in Redis for a panel it owns (`PanelLiveState`, written by Sources/Worker/LiveStateStore.swift):
    /// partition 1 armed and in fire alarm, zone 3 in alarm, an AC trouble.
    static let liveState: PanelLiveState = {
        let now = ISO8601DateFormatter().string(from: Date())
        return PanelLiveState(
            connection: "connected",
            partitions: [.init(number: 1, armMode: "mode0", alarm: true, fireAlarm: true), .init(number: 2, armMode: "disarmed", alarm: false, fireAlarm: false)],
            zones: [.init(number: 1, state: "normal", bypassed: false), .init(number: 3, state: "alarm", bypassed: false),
                    .init(number: 7, state: "normal", bypassed: true)],
            outputs: [1],
            troubles: #"{"otherTroubleBits":{},"systemTroubles":["AC trouble"],"technicalZones":[]}"#,
            lastSeen: now, worker: "worker-1/test", fencingToken: 1, updatedAt: now)
    }()

    @Test func anOperatorLogsInAndTheAlarmRaisedMeanwhileAppearsLiveInChromium() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let logger = logger
        let runDirectory = try RunDirectory.create("console").path
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }
        // Kept after the test, for a person to look at.
        let screenshotDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("stam-console-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: screenshotDirectory, withIntermediateDirectories: true)
        let screenshotPath = screenshotDirectory.appendingPathComponent("after-login.png").path

        let redisServer = RedisServer(directory: "\(runDirectory)/redis", port: try FreePort.find(), password: "redis-\(UUID().uuidString.prefix(8))")
        try await redisServer.start()
        try redisServer.recordProcess(in: "\(runDirectory)/processes")
        defer { redisServer.stop() }
        let redis = RedisClient(configuration: RedisConfiguration(port: redisServer.port, password: redisServer.password), logger: logger)
        do {
            try await browse(redis: redis, rabbit: rabbit, runDirectory: runDirectory, screenshotPath: screenshotPath)
        } catch {
            await redis.close()
            throw error
        }
        await redis.close()
    }

    /// What the test put in place, for the steps below.
    struct Scene: Sendable {
        var fixture: Fixture
        var site: Site
        var panel: Panel
        var earlier: Alarm
        var logger: Logger

        var repositories: Repositories { fixture.repositories }
        var panelRow: String { "document.querySelector('#panel-list li[data-panel-id=\"\(panel.id.uuidString.lowercased())\"]')" }

        func alarmRow(_ id: UUID) -> String {
            "document.querySelector('#alarm-list li[data-alarm-id=\"\(id.uuidString.lowercased())\"]')"
        }

        /// The way the worker raises an alarm: the row and its event in one transaction.
        func raise(_ alarm: Alarm) async throws {
            try await fixture.client.withTransaction(logger: logger) { connection in
                let stored = try await repositories.alarms.insert(alarm, on: connection)
                _ = try await Outbox.enqueue(AlarmRaised(alarmId: stored.id, siteId: stored.siteId, panelId: stored.panelId, kind: stored.kind,
                                                         priority: stored.priority, title: stored.title, zoneNumber: stored.zoneNumber,
                                                         partitionNumber: stored.partitionNumber, raisedAt: stored.raisedAt),
                                             on: connection, logger: logger)
            }
        }

        /// The way the worker completes a command: the row and `CommandCompleted` in one transaction.
        func complete(_ command: Command, resultText: String) async throws {
            var completed = command
            completed.status = .succeeded
            completed.resultCode = 0
            completed.resultText = resultText
            completed.completedAt = Date()
            try await fixture.client.withTransaction(logger: logger) { [completed] connection in
                _ = try await repositories.commands.update(completed, on: connection)
                _ = try await Outbox.enqueue(CommandCompleted(commandId: completed.id, panelId: completed.panelId, status: .succeeded,
                                                              resultCode: 0, resultText: resultText, at: Date()),
                                             on: connection, logger: logger)
            }
        }
    }

    func browse(redis: RedisClient, rabbit: TestRabbitMQ, runDirectory: String, screenshotPath: String) async throws {
        let logger = logger
        try await withFixture { fixture in
            let repositories = fixture.repositories
            let site = try await repositories.sites.insert(Site(code: "KRK-012", name: "Piekarnia Nowak", contactPhone: "+48 600 100 200"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "INTEGRA 64 bakery", host: "10.20.0.12"))
            _ = try await repositories.partitions.insert(Partition(panelId: panel.id, number: 1, name: "Shop floor", armMode: .mode0))
            _ = try await repositories.partitions.insert(Partition(panelId: panel.id, number: 2, name: "Office"))
            _ = try await repositories.operators.insert(Operator(login: Self.login, displayName: "Night shift",
                                                                 passwordHash: Secret(try await PasswordHasher.hash(Self.password)), role: .supervisor))
            let earlier = try await repositories.alarms.insert(Alarm(siteId: site.id, panelId: panel.id, kind: .tamper, priority: .burglary,
                                                                     title: "Tamper: keypad 1", zoneNumber: 7, raisedAt: Date().addingTimeInterval(-600)))
            _ = try await redis.hashSet(PanelLiveState.key(of: panel.id), Self.liveState.hashFields)
            let scene = Scene(fixture: fixture, site: site, panel: panel, earlier: earlier, logger: logger)

            // The backend as `stam backend` wires it, on a real port (the same one each time it starts, as
            // behind nginx); a relay publishes the outbox.
            let hub = LiveHub()
            let presentation = AlarmPresentation(client: fixture.client, interval: .milliseconds(100), logger: logger)
            let feed = LiveEventFeed(
                consumer: QueueConsumer(configuration: rabbit.configuration, topology: StamTopology.messaging, queue: "backend.live",
                                        instance: "console-\(UUID().uuidString.prefix(6))", logger: logger),
                hub: hub, catalog: LiveEventCatalog(StamSchema.eventTypes), presentation: presentation, logger: logger)
            let relay = OutboxRelay(
                configuration: .init(instance: "console-relay", pollInterval: .milliseconds(500), heartbeatInterval: .seconds(1), retention: nil),
                database: fixture.database.connectionConfiguration,
                publisher: Publisher(configuration: rabbit.configuration, topology: StamTopology.messaging, logger: logger), logger: logger)
            let port = try FreePort.find()
            // Chromium reaches the backend through a relay, so the test can make the link go silent (a partition).
            let link = try TCPRelay(to: port)
            defer { link.close() }
            let startBackend = { @Sendable () async throws -> RunningBackend in
                let routes = BackendRouter(repositories: repositories, tokens: fixture.tokens, outbox: OutboxNotifier(client: fixture.client, logger: logger), readiness: [])
                let application = BackendApplication.make(router: routes.build(),
                                                          live: LiveSocket(hub: hub, tokens: fixture.tokens, sessions: routes.sessions, state: RedisLiveState(client: redis)),
                                                          host: "127.0.0.1", port: port, logger: logger)
                let backend = RunningBackend(application, logger: logger)
                do {
                    try await Self.waitUntilServing(port: port)
                } catch {
                    backend.task.cancel()
                    throw HeadlessChromium.Failure(description: "\(error); the backend: \(await backend.task.result)")
                }
                return backend
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await feed.run() }
                group.addTask { try await relay.run() }
                group.addTask { try await presentation.run() }
                defer { group.cancelAll() }
                // The live queue exists once the feed has consumed from it; before that an event would be lost.
                let deadline = ContinuousClock.now + .seconds(30)
                while !feed.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                try #require(feed.isConnected)

                let first = try await startBackend()
                let seen: Seen
                do {
                    let chromium = try await HeadlessChromium.launch(directory: "\(runDirectory)/chromium", registry: "\(runDirectory)/processes",
                                                                     width: Self.viewport.width, height: Self.viewport.height)
                    defer { chromium.stop() }
                    seen = try await chromium.withPage { page in
                        var seen = try await Self.logInAndHandleAlarms(page: page, scene: scene, port: link.port)
                        seen.view = try await Self.handleInTheAlarmView(page: page, scene: scene)
                        seen.group = try await Self.closeAGroup(page: page, scene: scene)
                        seen.gap = try await Self.feedGap(page: page, scene: scene, hub: hub)
                        seen.silence = try await Self.silentLink(page: page, scene: scene, link: link)
                        // The backend dies; the console reconnects to the next one and reads what it missed.
                        try await first.stop()
                        seen.missed = try await Self.reconnect(page: page, scene: scene, port: port, startBackend: startBackend)
                        seen.sessionEnded = try await Self.sessionEnds(page: page, scene: scene, startBackend: startBackend)
                        return seen
                    }
                } catch {
                    try? await first.stop()
                    throw error
                }

                try seen.screenshot.write(to: URL(fileURLWithPath: screenshotPath))
                print("console screenshot: \(screenshotPath)")
                #expect(seen.queue == .array([
                    .array([.string("fire"), .string("new"), .string(Self.fire)]),
                    .array([.string("burglary"), .string("new"), .string("Tamper: keypad 1")]),
                ]))
                if case .array(let escalation) = seen.escalation, escalation.count == 3 {
                    #expect(escalation[0] == .string("Escalated"))
                    #expect(Self.text(escalation[1]).hasPrefix("waiting 10 min"), "\(escalation[1])")
                    #expect(escalation[2] == .string("Escalated, not acknowledged in time: Tamper: keypad 1"))
                } else {
                    Issue.record("escalation: \(seen.escalation)")
                }
                #expect(seen.panelText.contains("zone 3 alarm"), "\(seen.panelText)")
                #expect(seen.panelText.contains("FIRE ALARM"), "\(seen.panelText)")
                #expect(seen.panelText.contains("AC trouble"), "\(seen.panelText)")
                #expect(seen.panelText.contains("Arm"), "a supervisor gets the arm and disarm buttons: \(seen.panelText)")
                #expect(!seen.panelText.contains("last seen"), "a connected panel answers now; no stale time: \(seen.panelText)")
                // No uncaught exception, console error or refused load (a CSP violation would be one)...
                #expect(seen.problems.isEmpty, "\(seen.problems)")
                // ...but the refused acknowledgement, and the failed connection attempts while no backend ran.
                #expect(seen.expectedProblems.contains { $0.contains("status of 409 (Conflict)") }, "\(seen.expectedProblems)")
                let png = try Self.pngSize(seen.screenshot)
                #expect(png.width == Self.viewport.width && png.height == Self.viewport.height, "\(png)")
                #expect(seen.screenshot.count > 10_000, "\(seen.screenshot.count) bytes")

                let closed = try #require(try await repositories.alarms.find(id: seen.fireAlarm))
                #expect(closed.state == .closed)
                // Pushed to the console as it was raised: the KPI's "presented" time, after it was stored.
                let presented = try #require(closed.presentedAt, "presented_at of the alarm the console showed live")
                #expect(presented >= closed.raisedAt && presented.timeIntervalSince(closed.raisedAt) < 60)
                let notes = try await repositories.alarmNotes.list(filter: .init(alarmId: seen.fireAlarm), sort: .createdAt).items
                #expect(notes.map(\.body) == [Self.note])
                #expect(seen.refusal.contains("Not done") && seen.refusal.contains("the alarm is acknowledged"), "\(seen.refusal)")
                #expect(seen.commandResult == "Arm partition 2 (Office): succeeded: command accepted")
                let command = try #require(try await repositories.commands.list(filter: .init(panelId: panel.id), sort: .requestedAt).items.first)
                #expect(command.kind == .arm && command.targets == .array([.number(2)]))
                #expect(seen.missed == .array([.string("alarm"), .string("new"), .string(Self.missed)]))
                #expect(seen.gap.interrupted.contains("interrupted"), "\(seen.gap.interrupted)")
                #expect(seen.gap.catchingUpWhileHeld, "the console said Live before its re-read finished")
                #expect(seen.gap.alarm == .array([.string("burglary"), .string("new"), .string(Self.duringGap)]))
                #expect(seen.silence == .array([.string("fire"), .string("new"), .string(Self.duringSilence)]))
                #expect(seen.sessionEnded.contains("Your session has ended: the operator was deactivated"), "\(seen.sessionEnded)")
                #expect(seen.view.shown == .object([
                    "title": .string("Burglary - Shop floor / Zone 5 Back door"),
                    "comments": .array([.string("Dog inside at night")]),
                    "contacts": .array([.string("Ewa Piekarz"), .string("Jan Nowak")]),
                    "steps": .array([.string("1. Call the keyholders in order [Required]"), .string("2. Check the shop camera [Advisory]")]),
                ]), "\(seen.view.shown)")
                #expect(seen.view.refusal.contains("record the required steps first: Call the keyholders in order"), "\(seen.view.refusal)")
                #expect(seen.view.state == .closed)
                // The alarm was inserted as the worker's transaction would write it, not through AlarmRaiser: no "raised" line.
                #expect(seen.view.timeline == [
                    "acknowledged: ", "taken: ", "code_word_checked: Code word of Jan Nowak: correct",
                    "step: Call the keyholders in order: no answer (Ewa Piekarz)", "step: Call the keyholders in order: done (Jan Nowak). On the way",
                    "note: Owner informed", "closed: Owner checked the shop: door not shut",
                ], "\(seen.view.timeline)")
                #expect(seen.group.fireSelectable == .string("no box"))
                #expect(seen.group.bar == "3 alarms selected")
                #expect(seen.group.listed == .array((1...3).map { .string("Tamper · Tamper - Zone \(20 + $0) faulty loop") }), "\(seen.group.listed)")
                #expect(seen.group.message == "Closed 3 alarms.")
                #expect(seen.group.closed == [.closed, .closed, .closed] && seen.group.fire == .new)
                #expect(seen.group.timeline == ["Closed with a group of 3 by a supervisor: Faulty tamper loop, technician booked"])
                let viewShot = URL(fileURLWithPath: screenshotPath).deletingLastPathComponent().appendingPathComponent("alarm-view.png").path
                try seen.view.screenshot.write(to: URL(fileURLWithPath: viewShot))
                print("alarm view screenshot: \(viewShot)")
            }
        }
    }

    static let fire = "FIRE: zone 3 kitchen smoke detector"
    static let missed = "Mains power lost"
    static let duringGap = "Raised while the station's feed was interrupted"
    static let duringSilence = "FIRE: raised while the console's link was silent"

    struct FeedGap: Sendable {
        var interrupted = ""
        var catchingUpWhileHeld = false
        var alarm: JSONValue = .null
    }

    /// Issue 18 point 3: the station's feed loses the broker (its consoles are told) and an alarm is raised whose
    /// event this backend never gets; when the feed is back it says `resync`, and the console shows "catching up"
    /// until it has read the queue again, then the alarm and "Live".
    static func feedGap(page: DevToolsPage, scene: Scene, hub: LiveHub) async throws -> FeedGap {
        var seen = FeedGap()
        hub.setFeedLive(false)
        try await page.waitFor("document.querySelector('#link-status').dataset.state === 'catching-up'", "the console saying the feed is interrupted")
        seen.interrupted = text(try await page.evaluate("document.querySelector('#link-status').textContent"))
        let alarm = try await scene.repositories.alarms.insert(Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .burglary,
                                                                     priority: .burglary, title: duringGap))
        // Still interrupted: the console must not claim to be live.
        try await Task.sleep(for: .milliseconds(300))
        seen.catchingUpWhileHeld = text(try await page.evaluate("document.querySelector('#link-status').dataset.state")) == "catching-up"
        hub.resync(.reconnected)
        hub.setFeedLive(true)
        let row = scene.alarmRow(alarm.id)
        try await page.waitFor("\(row) && document.querySelector('#link-status').dataset.state === 'live'", "the alarm raised during the gap")
        seen.alarm = try await page.evaluate("[\(row).dataset.priority, \(row).dataset.state, \(row).querySelector('.alarm-title').textContent]")
        return seen
    }

    /// docs/RELIABILITY.md, backend -> console, connection dead without a close: the link drops every byte (a
    /// partition, a paused backend), so no close ever comes, and an alarm's event is sent into it. The console gives
    /// the link up on its own (pings every 20 s, gives up 50 s after the last message), reconnects once the link
    /// carries bytes again, and reads the queue again: the alarm appears.
    static func silentLink(page: DevToolsPage, scene: Scene, link: TCPRelay) async throws -> JSONValue {
        let silentSince = ContinuousClock.now
        link.cut()
        let alarm = Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .fire, priority: .fire, title: duringSilence)
        try await scene.raise(alarm)
        try await page.waitFor("document.querySelector('#link-status').dataset.state !== 'live'", "the console giving up the silent link",
                               within: .seconds(100))
        print("console gave up a silent link after \(ContinuousClock.now - silentSince) (bound: 70 s)")
        link.restore()
        let row = scene.alarmRow(alarm.id)
        try await page.waitFor("\(row) && document.querySelector('#link-status').dataset.state === 'live'", "the alarm raised while silent")
        return try await page.evaluate("[\(row).dataset.priority, \(row).dataset.state, \(row).querySelector('.alarm-title').textContent]")
    }

    /// Log in from the keyboard, see the queue and the panel, get an alarm live, screenshot, then handle it:
    /// acknowledge, take, close with a note; a refused acknowledgement; arm a partition and see the answer.
    static func logInAndHandleAlarms(page: DevToolsPage, scene: Scene, port: Int) async throws -> Seen {
        try await page.setViewport(width: viewport.width, height: viewport.height)
        try await page.navigate("http://127.0.0.1:\(port)/")
        try await page.waitFor("!document.querySelector('#login-view').hidden", "the login form")
        try await page.evaluate("document.querySelector('#login-name').focus()")
        try await page.type(login)
        try await page.evaluate("document.querySelector('#login-password').focus()")
        try await page.type(password)
        try await page.pressEnter()
        try await page.waitFor(scene.alarmRow(scene.earlier.id), "the alarm that was open before the login")
        try await page.waitFor("document.querySelector('#link-status').dataset.state === 'live'", "the live feed")
        try await page.waitFor("\(scene.panelRow) && \(scene.panelRow).querySelector('.connection').dataset.state === 'connected'",
                               "the panel's live state from Redis")

        // The alarm open since before the login has waited 10 minutes, past its class's 60 s: the escalator every
        // backend runs escalates it, and the console (a supervisor's) marks it and says so.
        let earlierRow = scene.alarmRow(scene.earlier.id)
        #expect(try await AlarmEscalator(client: scene.fixture.client, repositories: scene.repositories, notifier: nil, logger: scene.logger)
            .escalateDue() == 1)
        try await page.waitFor("\(earlierRow).dataset.escalated === 'true' && document.querySelector('#announcer').textContent.startsWith('Escalated')",
                               "the escalated alarm marked and announced")
        let escalation = try await page.evaluate("""
            [\(earlierRow).querySelector('.alarm-escalated').hidden ? 'hidden' : \(earlierRow).querySelector('.alarm-escalated').textContent,
             \(earlierRow).querySelector('.alarm-wait').textContent, document.querySelector('#announcer').textContent]
            """)

        let alarm = Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .fire, priority: .fire, title: fire, zoneNumber: 3, partitionNumber: 1)
        let row = scene.alarmRow(alarm.id)
        try await scene.raise(alarm)
        try await page.waitFor("\(row) && \(row).textContent.includes(\(jsString(fire)))", "the raised alarm")
        let queue = try await page.evaluate("""
            [...document.querySelectorAll('#alarm-list li')].map(row =>
                [row.dataset.priority, row.dataset.state, row.querySelector('.alarm-title').textContent])
            """)
        let panelText = try await page.evaluate("\(scene.panelRow).innerText")
        let screenshot = try await page.screenshot()

        func press(_ action: String, in row: String) async throws {
            try await page.evaluate("\(row).querySelector('button[data-action=\"\(action)\"]').click()")
        }
        try await press("acknowledge", in: row)
        try await page.waitFor("\(row).dataset.state === 'acknowledged'", "the acknowledged alarm")
        try await press("take", in: row)
        try await page.waitFor("\(row).dataset.state === 'in_progress'", "the alarm in progress")
        try await press("close", in: row)
        try await page.waitFor("document.querySelector('#note-dialog').open && document.activeElement.id === 'note-text'", "the note dialog")
        try await page.type(note)
        try await page.evaluate("document.querySelector('#note-submit').click()")
        try await page.waitFor("!\(row) && !document.querySelector('#note-dialog').open", "the closed alarm leaving the queue")
        let problemsBeforeRefusal = page.problems.count

        // Someone else acknowledged the earlier alarm and this console missed the event: the 409 is shown and
        // the row is read again.
        var changed = try #require(try await scene.repositories.alarms.find(id: scene.earlier.id))
        changed.state = .acknowledged
        changed.acknowledgedAt = Date()
        _ = try await scene.repositories.alarms.update(changed)
        try await press("acknowledge", in: earlierRow)
        try await page.waitFor("!document.querySelector('#message').hidden && \(earlierRow).dataset.state === 'acknowledged'",
                               "the refusal and the alarm as it is now")
        let refusal = try await page.evaluate("document.querySelector('#message-text').textContent")
        let problemsAfterRefusal = page.problems.count

        // Arm partition 2; the worker's CommandCompleted brings the panel's answer.
        try await page.evaluate("\(scene.panelRow).querySelector('li.partition[data-number=\"2\"] button[data-command=\"arm\"]').click()")
        try await page.waitFor("\(scene.panelRow).querySelector('.command-result').dataset.status === 'requested'", "the command on its way")
        let command = try #require(try await scene.repositories.commands.list(filter: .init(panelId: scene.panel.id), sort: .requestedAt).items.first)
        try await scene.complete(command, resultText: "command accepted")
        try await page.waitFor("\(scene.panelRow).querySelector('.command-result').dataset.status === 'succeeded'", "the command's result")
        let commandResult = try await page.evaluate("\(scene.panelRow).querySelector('.command-result').textContent")

        // The browser logs the refused request: expected, that one.
        let expected = page.problems[problemsBeforeRefusal..<problemsAfterRefusal].filter { $0.contains("status of 409 (Conflict)") }
        return Seen(fireAlarm: alarm.id, queue: queue, escalation: escalation, panelText: text(panelText), screenshot: screenshot, refusal: text(refusal),
                    commandResult: text(commandResult), problems: page.problems.filter { !expected.contains($0) }, expectedProblems: expected)
    }

    static func text(_ value: JSONValue) -> String {
        if case .string(let text) = value { text } else { "\(value)" }
    }

    /// With the backend gone, an alarm is raised whose event no console gets (the row only, as if the event
    /// were lost); the console must find it by reading the queue again once it has reconnected.
    static func reconnect(page: DevToolsPage, scene: Scene, port: Int, startBackend: @Sendable () async throws -> RunningBackend) async throws -> JSONValue {
        try await page.waitFor("document.querySelector('#link-status').dataset.state !== 'live'", "the console noticing the backend is gone")
        let before = page.problems.count
        let alarm = try await scene.repositories.alarms.insert(Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .technical,
                                                                     priority: .alarm, title: missed))
        let second = try await startBackend()
        do {
            let row = scene.alarmRow(alarm.id)
            try await page.waitFor("\(row) && document.querySelector('#link-status').dataset.state === 'live'", "the alarm raised while offline")
            let seen = try await page.evaluate("[\(row).dataset.priority, \(row).dataset.state, \(row).querySelector('.alarm-title').textContent]")
            try await second.stop()
            // Only failed connection attempts while no backend ran.
            let unexpected = page.problems[before...].filter { !$0.contains("WebSocket connection to") }
            guard unexpected.isEmpty else { throw HeadlessChromium.Failure(description: "while reconnecting: \(unexpected)") }
            return seen
        } catch {
            try? await second.stop()
            throw error
        }
    }

    /// The operator is deactivated while the console is live (in the database, as an admin's PATCH does): the
    /// station closes the live connection within seconds and the page goes back to the login form saying why.
    static func sessionEnds(page: DevToolsPage, scene: Scene, startBackend: @Sendable () async throws -> RunningBackend) async throws -> String {
        let backend = try await startBackend()
        do {
            try await page.waitFor("document.querySelector('#link-status').dataset.state === 'live'", "the live feed again")
            let context = scene.repositories.context
            let id = try #require(try await context.client.query("SELECT id FROM operators WHERE login = \(login)", logger: context.logger)
                .collect().first?.decode(UUID.self))
            var user = try #require(try await scene.repositories.operators.find(id: id))
            user.active = false
            _ = try await scene.repositories.operators.update(user)
            try await page.waitFor("!document.querySelector('#login-view').hidden && !document.querySelector('#login-error').hidden",
                                   "the login form after the session ended")
            let shown = try await page.evaluate("document.querySelector('#login-error').textContent")
            try await backend.stop()
            guard case .string(let text) = shown else { return "\(shown)" }
            return text
        } catch {
            try? await backend.stop()
            throw error
        }
    }

    /// A backend running until `stop()`, which shuts it down the way SIGTERM does (a graceful shutdown of its
    /// service group): the listener closes and the open WebSockets with it, which consoles see as the backend
    /// going away.
    final class RunningBackend: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>

        init(_ application: some ApplicationProtocol, logger: Logger) {
            let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
            self.group = group
            task = Task { try await group.run() }
        }

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    /// Until the backend answers `/healthz` on `port` (it was just started).
    static func waitUntilServing(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await HTTPGet.get(port: port, path: "/healthz"))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HeadlessChromium.Failure(description: "the backend never answered on port \(port)")
    }

    struct Seen: Sendable {
        var fireAlarm: UUID
        var queue: JSONValue
        /// The escalated alarm's badge, waiting time and what the screen reader was told.
        var escalation: JSONValue
        var panelText: String
        var screenshot: Data
        var refusal: String
        var commandResult: String
        var problems: [String]
        var expectedProblems: [String]
        var missed: JSONValue = .null
        var gap = FeedGap()
        var silence: JSONValue = .null
        var sessionEnded = ""
        var view = AlarmView()
        var group = GroupClose()
    }

    /// What closing a group showed and left.
    struct GroupClose: Sendable {
        var fireSelectable: JSONValue = .null
        var bar = ""
        var listed: JSONValue = .null
        var message = ""
        var closed: [AlarmState?] = []
        var fire: AlarmState?
        var timeline: [String] = []
    }

    /// Issue 20 point 7 in the browser: a storm of three tamper alarms and a fire alarm; the supervisor ticks the
    /// tampers (the fire alarm has no box), closes them as a group with one reason, and the fire alarm stays.
    static func closeAGroup(page: DevToolsPage, scene: Scene) async throws -> GroupClose {
        var seen = GroupClose()
        let tampers = (1...3).map { zone in
            Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .tamper, priority: .tamper, title: "Tamper - Zone \(20 + zone) faulty loop",
                  zoneNumber: 20 + zone)
        }
        let fire = Alarm(siteId: scene.site.id, panelId: scene.panel.id, kind: .fire, priority: .fire, title: "Fire - Zone 30 smoke", zoneNumber: 30)
        for alarm in tampers + [fire] { try await scene.raise(alarm) }
        let rows = tampers.map { scene.alarmRow($0.id) }
        try await page.waitFor((rows + [scene.alarmRow(fire.id)]).joined(separator: " && "), "the storm and the fire alarm")
        seen.fireSelectable = try await page.evaluate("\(scene.alarmRow(fire.id)).querySelector('.alarm-select').hidden ? 'no box' : 'box'")
        for row in rows { try await page.evaluate("\(row).querySelector('.alarm-select-box').click()") }
        try await page.waitFor("!document.querySelector('#group-bar').hidden", "the group bar")
        seen.bar = text(try await page.evaluate("document.querySelector('#group-count').textContent"))
        try await page.evaluate("document.querySelector('#group-close').click()")
        try await page.waitFor("document.querySelector('#group-dialog').open && document.activeElement.id === 'group-reason'", "the group dialog")
        seen.listed = try await page.evaluate("[...document.querySelectorAll('#group-alarms li')].map(li => li.textContent)")
        try await page.type("Faulty tamper loop, technician booked")
        try await page.evaluate("document.querySelector('#group-submit').click()")
        try await page.waitFor("!document.querySelector('#group-dialog').open && " + rows.map { "!\($0)" }.joined(separator: " && "), "the group closed")
        seen.message = text(try await page.evaluate("document.querySelector('#message-text').textContent"))
        for alarm in tampers { seen.closed.append(try await scene.repositories.alarms.find(id: alarm.id)?.state) }
        seen.fire = try await scene.repositories.alarms.find(id: fire.id)?.state
        seen.timeline = try await scene.repositories.alarmHistoryEntries.list(filter: .init(alarmId: tampers[0].id, kind: .closed), sort: .at).items
            .compactMap(\.text)
        return seen
    }

    /// What the alarm view showed and what its handling left in the database.
    struct AlarmView: Sendable {
        var shown: JSONValue = .null
        var refusal = ""
        var timeline: [String] = []
        var state: AlarmState?
        var screenshot = Data()
    }

    /// Issue 20 in the browser: an alarm of a site with a call list, a standing and an expired comment, and an
    /// action plan (the class's default replaced by the site's own: a required call and an advisory step). The
    /// supervisor opens it from the stack, acknowledges and takes it there, checks a caller's code word, is refused the
    /// close while the required call has no outcome, records two calls and a quick note, and closes; the timeline
    /// holds every step in order.
    static func handleInTheAlarmView(page: DevToolsPage, scene: Scene) async throws -> AlarmView {
        var seen = AlarmView()
        let repositories = scene.repositories
        let site = scene.site
        _ = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, position: 1, kind: .callPolice, instruction: "Default plan: call the police"))
        let call = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, siteId: site.id, position: 1, kind: .callContacts,
                                                                               instruction: "Call the keyholders in order"))
        _ = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, siteId: site.id, position: 2, kind: .instruction,
                                                                        instruction: "Check the shop camera", required: false))
        let owner = try await repositories.contacts.insert(Contact(siteId: site.id, name: "Jan Nowak", phone: "+48 600 100 200", role: .owner,
                                                                  codeWord: Secret("rogalik"), availability: "always"))
        let baker = try await repositories.contacts.insert(Contact(siteId: site.id, name: "Ewa Piekarz", phone: "+48 600 100 300", role: .keyholder))
        _ = try await repositories.callListEntries.insert(CallListEntry(siteId: site.id, contactId: baker.id, priority: .burglary, position: 1))
        _ = try await repositories.callListEntries.insert(CallListEntry(siteId: site.id, contactId: owner.id, priority: .burglary, position: 2))
        _ = try await repositories.siteComments.insert(SiteComment(siteId: site.id, body: "Dog inside at night"))
        _ = try await repositories.siteComments.insert(SiteComment(siteId: site.id, body: "Painters until yesterday", expiresAt: Date().addingTimeInterval(-3600)))
        _ = try await repositories.quickNotes.insert(QuickNote(text: "Owner informed", position: 1))
        let alarm = Alarm(siteId: site.id, panelId: scene.panel.id, kind: .burglary, priority: .burglary, title: "Burglary - Shop floor / Zone 5 Back door",
                          zoneNumber: 5, partitionNumber: 1)
        try await scene.raise(alarm)
        let row = scene.alarmRow(alarm.id)
        try await page.waitFor(row, "the burglary alarm in the stack")
        try await page.evaluate("\(row).querySelector('button[data-action=\"open\"]').click()")
        try await page.waitFor("document.querySelector('#alarm-dialog').open && document.querySelectorAll('#av-steps li').length === 2",
                               "the alarm view with its plan")
        let dialog = "document.querySelector('#alarm-dialog')"
        func viewButton(_ action: String) -> String { "\(dialog).querySelector('button[data-view-action=\"\(action)\"]')" }
        try await page.evaluate("\(viewButton("acknowledge")).click()")
        try await page.waitFor("\(dialog).dataset.state === 'acknowledged' && !\(viewButton("take")).hidden", "acknowledged in the view")
        try await page.evaluate("\(viewButton("take")).click()")
        try await page.waitFor("\(dialog).dataset.state === 'in_progress' && !document.querySelector('#av-close-form').hidden", "taken in the view")
        seen.shown = try await page.evaluate("""
            ({ title: document.querySelector('#av-title').textContent,
               comments: [...document.querySelectorAll('#av-comments li')].map(li => li.textContent),
               contacts: [...document.querySelectorAll('#av-contacts li .av-contact-name')].map(n => n.textContent),
               steps: [...document.querySelectorAll('#av-steps li')].map(li => li.querySelector('.av-step-text').textContent + ' [' + li.querySelector('.av-step-badge').textContent + ']') })
            """)
        // The caller says the owner's code word; the operator types it and the station answers.
        let ownerItem = "document.querySelector('#av-contacts li[data-contact-id=\"\(owner.id.uuidString.lowercased())\"]')"
        try await page.evaluate("\(ownerItem).querySelector('.av-code-word-input').value = 'Rogalik'; \(ownerItem).querySelector('button').click()")
        try await page.waitFor("[...document.querySelectorAll('#av-timeline li')].some(li => li.dataset.kind === 'code_word_checked')", "the check on the timeline")
        // Closing before the required call is recorded is refused, and says what is missing.
        try await page.evaluate("document.querySelector('#av-close-note').value = 'Nothing found'; document.querySelector('#av-close-submit').click()")
        try await page.waitFor("!document.querySelector('#av-error').hidden", "the refused close")
        seen.refusal = text(try await page.evaluate("document.querySelector('#av-error').textContent"))
        // The call: the first on the list did not answer, then the owner did.
        let callItem = "document.querySelector('#av-steps li[data-step-id=\"\(call.id.uuidString.lowercased())\"]')"
        try await page.evaluate("\(callItem).querySelector('.av-step-contact').value = '\(baker.id.uuidString.lowercased())'; \(callItem).querySelector('button[data-outcome=\"no_answer\"]').click()")
        try await page.waitFor("\(callItem) && \(callItem).querySelectorAll('.av-step-outcomes li').length === 1", "the first outcome")
        try await page.evaluate("""
            \(callItem).querySelector('.av-step-contact').value = '\(owner.id.uuidString.lowercased())';
            \(callItem).querySelector('.av-step-note').value = 'On the way';
            \(callItem).querySelector('button[data-outcome="done"]').click()
            """)
        try await page.waitFor("\(callItem) && \(callItem).dataset.recorded === 'true' && \(callItem).querySelectorAll('.av-step-outcomes li').length === 2",
                               "the second outcome")
        try await page.evaluate("document.querySelector('#av-quick-notes button').click()")
        try await page.waitFor("[...document.querySelectorAll('#av-timeline li')].some(li => li.dataset.kind === 'note')", "the quick note")
        seen.screenshot = try await page.screenshot()
        try await page.evaluate("document.querySelector('#av-close-note').value = 'Owner checked the shop: door not shut'; document.querySelector('#av-close-submit').click()")
        try await page.waitFor("!document.querySelector('#alarm-dialog').open && !\(row)", "the alarm closed from the view")
        seen.state = try await repositories.alarms.find(id: alarm.id)?.state
        seen.timeline = try await repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm.id), sort: .at, limit: 50).items
            .map { "\($0.kind.rawValue): \($0.text ?? "")" }
        return seen
    }

    static func jsString(_ text: String) -> String { DevToolsPage.jsString(text) }

    static func pngSize(_ data: Data) throws -> (width: Int, height: Int) { try DevToolsPage.pngSize(data) }
}
