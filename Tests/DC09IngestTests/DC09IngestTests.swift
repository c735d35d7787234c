@testable import DC09
import DC09Ingest
import Database
import DevStack
import Foundation
import Generated
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle
import StamCore
import TestSupport
import Testing

/// The receiver end to end on a real PostgreSQL: frames built by dc09-spt (a sender from PyPI, driven by
/// Tests/DC09Tests/dc09_spt_driver.py) sent over TCP and UDP to a `DC09Receiver` with the PostgreSQL store and the
/// account cache, as `stam receiver` will run them. Each event ends as one panel event and, for an alarm code, one
/// alarm with its outbox row; a repeat is ACKed and stored once; a link test only refreshes the last signal.
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct DC09IngestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let logger = Logger(label: "dc09-ingest-tests")

    struct Frame: Decodable {
        var name: String
        var frame: String
        var bytes: [UInt8] { DC09Hex.decode(frame) ?? [] }
    }

    /// dc09-spt's frames by name (their encrypted ones carry the time they were built: send them at once).
    static func senderFrames() throws -> [String: [UInt8]] {
        try LocalProcess.run("\(root)/scripts/install-python-tools.sh", [])
        let output = try LocalProcess.run("/usr/bin/python3", ["\(root)/Tests/DC09Tests/dc09_spt_driver.py", "frames"],
                                          environment: ["PYTHONPATH": "\(root)/.tools/dc09", "PYTHONDONTWRITEBYTECODE": "1"])
        let frames = try output.split(separator: "\n").map { try JSONDecoder().decode(Frame.self, from: Data($0.utf8)) }
        return Dictionary(uniqueKeysWithValues: frames.map { ($0.name, $0.bytes) })
    }

    struct Station: Sendable {
        var client: PostgresClient
        var repositories: Repositories
        var panel: Panel
        var port: Int
        /// A second receiver on the same database: the secondary path (instance `test-secondary`).
        var secondaryPort: Int

        func send(_ frame: [UInt8], over transport: DC09Sender.Transport = .tcp, key: DC09Key? = nil, secondary: Bool = false) async throws -> DC09ReceivedAnswer {
            try DC09ReceivedAnswer.read(try await DC09Sender.send(frame, host: "127.0.0.1", port: secondary ? secondaryPort : port, transport: transport,
                                                                  timeout: .seconds(10)), key: key)
        }

        func count(_ sql: String) async throws -> Int {
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql)).collect()
            return try rows.first?.decode(Int.self) ?? -1
        }
    }

    func withStation(_ body: @Sendable (Station) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Warehouse"))
            // A panel with no ETHM-1 address: it reports over DC-09 only.
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "GPRS communicator", host: nil))
            for account in [
                Dc09Account(account: "1234", receiverNumber: "12AB", linePrefix: "3", panelId: panel.id),
                Dc09Account(account: "5678", panelId: panel.id),
                Dc09Account(account: "9ABC", key: Secret("0123456789ABCDEF"), keyForm: .text, panelId: panel.id),
                Dc09Account(account: "DEF0", key: Secret("30313233343536373839414243444546303132333435363738396162636465 66".replacingOccurrences(of: " ", with: "")),
                            keyForm: .hex, panelId: panel.id),
            ] { _ = try await repositories.dc09Accounts.insert(account) }
            let accounts = DC09AccountCache(repositories: repositories, logger: logger)
            try await accounts.refresh()
            let receivers = ["test-primary", "test-secondary"].map { instance in
                let store = DC09PostgresStore(client: client, repositories: repositories, accounts: accounts, notifier: nil, instance: instance, logger: logger)
                return DC09Receiver(configuration: .init(host: "127.0.0.1", port: 0),
                                    handler: DC09FrameHandler(accounts: accounts, store: store, logger: logger), logger: logger)
            }
            let group = ServiceGroup(services: receivers, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let deadline = ContinuousClock.now + .seconds(10)
                while receivers.contains(where: { $0.boundPort == nil }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                let port = try #require(receivers[0].boundPort), secondaryPort = try #require(receivers[1].boundPort)
                try await body(Station(client: client, repositories: repositories, panel: panel, port: port, secondaryPort: secondaryPort))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func eachEventIsOnePanelEventAndAnAlarmCodeOneAlarm() async throws {
        let frames = try Self.senderFrames()
        try await withStation { station in
            let key128 = try DC09Key(text: "0123456789ABCDEF"), key256 = try DC09Key(text: "0123456789ABCDEF0123456789abcdef")
            let sent: [(String, DC09Sender.Transport, DC09Key?)] = [
                ("plain SIA-DCS with receiver and location", .tcp, nil), ("plain ADM-CID without receiver", .udp, nil),
                ("AES-128 SIA-DCS", .tcp, key128), ("AES-256 ADM-CID", .udp, key256),
            ]
            for (name, transport, key) in sent {
                let answer = try await station.send(try #require(frames[name]), over: transport, key: key)
                #expect(answer.kind == .ack, "\(name)")
                #expect(answer.encrypted == (key != nil))
            }
            #expect(try await station.count("SELECT count(*)::int FROM dc09_messages") == 4)
            #expect(try await station.count("SELECT count(*)::int FROM panel_events WHERE source = 'dc09'") == 4)
            let alarms = try await station.repositories.alarms.list(filter: .init(panelId: station.panel.id), sort: .raisedAt, limit: 50).items
            // SIA BA (burglary, zone 1), Contact ID 130 (burglary, zone 15), SIA FA (fire, zone 7), Contact ID 110 (fire, zone 3).
            #expect(alarms.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.burglary, .burglary, .fire, .fire])
            #expect(Set(alarms.compactMap(\.zoneNumber)) == [1, 15, 7, 3])
            #expect(alarms.allSatisfy { $0.panelEventId != nil && $0.siteId == station.panel.siteId })
            #expect(try await station.count("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 4)
            let stored = try await station.repositories.dc09Messages.list(sort: .receivedAt, limit: 10).items
            #expect(Set(stored.map(\.transport)) == ["tcp", "udp"])
            #expect(stored.contains { $0.encrypted && $0.data == "#9ABC|Nri2FA7" && $0.sentAt != nil })
        }
    }

    @Test func aRepeatIsAcknowledgedAndStoredOnce() async throws {
        let frames = try Self.senderFrames()
        try await withStation { station in
            let frame = try #require(frames["plain ADM-CID without receiver"])
            for transport in [DC09Sender.Transport.tcp, .udp, .tcp] {
                #expect(try await station.send(frame, over: transport).kind == .ack)
            }
            #expect(try await station.count("SELECT count(*)::int FROM dc09_messages") == 1)
            #expect(try await station.count("SELECT count(*)::int FROM panel_events") == 1)
            #expect(try await station.count("SELECT count(*)::int FROM alarms") == 1)
        }
    }

    @Test func aLinkTestRefreshesTheLastSignalOnly() async throws {
        let frames = try Self.senderFrames()
        try await withStation { station in
            #expect(try await station.send(try #require(frames["plain NULL"])).kind == .ack)
            #expect(try await station.send(try #require(frames["AES-128 NULL"]), key: try DC09Key(text: "0123456789ABCDEF")).kind == .ack)
            // A repeat of a link test is one more sign of life, not a duplicate.
            #expect(try await station.send(try #require(frames["plain NULL"])).kind == .ack)
            #expect(try await station.count("SELECT count(*)::int FROM panel_events") == 0)
            #expect(try await station.count("SELECT count(*)::int FROM dc09_messages") == 0)
            #expect(try await station.count("SELECT count(*)::int FROM dc09_accounts WHERE last_signal_at IS NOT NULL") == 2)
            #expect(try await station.count("SELECT count(*)::int FROM dc09_paths") == 2)
            let panel = try #require(try await station.repositories.panels.find(id: station.panel.id))
            #expect(panel.lastSeenAt.map { abs($0.timeIntervalSinceNow) < 30 } == true)
        }
    }

    /// Each receiver an account sends to is a path of its own; with a link-test period, a path silent past it raises one
    /// trouble alarm (the panel still signals over the other), and the path's next frame restores it.
    @Test func eachReceiverIsAPathAndASilentOneRaisesATroubleAlarmItsNextFrameRestores() async throws {
        try await withStation { station in
            let supervised = try #require(try await station.repositories.dc09Accounts.find(account: "5678"))
            _ = try await station.repositories.dc09Accounts.update(id: supervised.id, set: [.linkTestPeriodS(60)])
            func linkTest(_ account: String, _ sequence: Int) throws -> [UInt8] {
                // 1234 is bound to receiver 12AB, line 3.
                let (receiver, line) = account == "1234" ? ("12AB", "3") : (nil, "0")
                return try DC09MessageBuilder.frame(DC09Message(header: DC09Header(token: .null, encrypted: false, sequence: sequence, receiver: receiver,
                                                                                   linePrefix: line, account: account), data: ""), key: nil)
            }
            for (sequence, secondary) in [(1, false), (2, true)] {
                #expect(try await station.send(try linkTest("5678", sequence), secondary: secondary).kind == .ack)
                #expect(try await station.send(try linkTest("1234", sequence), over: .udp, secondary: secondary).kind == .ack)
            }
            let paths = try await station.repositories.dc09Paths.all(filter: .init(accountId: supervised.id))
            #expect(Set(paths.map(\.receiverInstance)) == ["test-primary", "test-secondary"])
            #expect(paths.allSatisfy { $0.transport == "tcp" && $0.peer.hasPrefix("127.0.0.1:") && $0.failureAlarmId == nil })
            let supervisor = DC09PathSupervisor(client: station.client, repositories: station.repositories, notifier: nil, logger: logger)
            #expect(try await supervisor.superviseDue() == .init())

            // The primary path went quiet two minutes ago; the secondary just signalled. (The clock moved by hand: the
            // store wrote the paths, only their age is set here.) Account 1234 has no period: tracked, not supervised.
            _ = try await station.client.query("UPDATE dc09_paths SET last_signal_at = now() - interval '2 minutes' WHERE receiver_instance = 'test-primary'").collect()
            #expect(try await station.send(try linkTest("5678", 3), secondary: true).kind == .ack)
            #expect(try await supervisor.superviseDue() == .init(failed: 1))
            #expect(try await supervisor.superviseDue() == .init())
            let alarms = try await station.repositories.alarms.list(filter: .init(panelId: station.panel.id), sort: .raisedAt, limit: 10).items
            #expect(alarms.count == 1)
            let alarm = try #require(alarms.first)
            #expect(alarm.kind == .trouble && alarm.title.contains("account 5678 via test-primary") && alarm.restoredAt == nil, "\(alarm.title)")
            #expect(try await station.count("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
            // The panel as a whole signals (over the secondary): no no_signal.
            #expect(alarms.allSatisfy { $0.kind != .noSignal })

            // The primary comes back: its next frame restores the alarm; the operator still closes it.
            #expect(try await station.send(try linkTest("5678", 4)).kind == .ack)
            #expect(try await supervisor.superviseDue() == .init(restored: 1))
            let restored = try #require(try await station.repositories.alarms.find(id: alarm.id))
            #expect(restored.restoredAt != nil && restored.state != .closed)
            #expect(try await station.count("SELECT count(*)::int FROM dc09_paths WHERE failure_alarm_id IS NOT NULL") == 0)
            #expect(try await station.count("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRestored'") == 1)
        }
    }

    @Test func framesTheStationMustNotTakeAreRefusedAndNothingIsStored() async throws {
        let frames = try Self.senderFrames()
        try await withStation { station in
            // dc09-spt's clock 5 minutes behind: NAK with the receiver's time.
            let late = try await station.send(try #require(frames["AES-128 SIA-DCS, clock 5 minutes behind"]))
            #expect(late.kind == .nak && late.receiverTime != nil)
            // An account the station does not know, and a known one naming another line than it is bound to.
            let unknown = try DC09MessageBuilder.frame(DC09Message(header: DC09Header(token: .siaDCS, encrypted: false, sequence: 1, receiver: nil,
                                                                                   linePrefix: "1", account: "7777"), data: "NBA1"), key: nil)
            #expect(try await station.send(unknown).kind == .nak)
            let wrongLine = try DC09MessageBuilder.frame(DC09Message(header: DC09Header(token: .siaDCS, encrypted: false, sequence: 2, receiver: "12AB",
                                                                                     linePrefix: "4", account: "1234"), data: "NBA1"), key: nil)
            #expect(try await station.send(wrongLine).kind == .nak)
            // Plain from an account that must encrypt.
            let plain = try DC09MessageBuilder.frame(DC09Message(header: DC09Header(token: .siaDCS, encrypted: false, sequence: 3, receiver: nil,
                                                                                 linePrefix: "1", account: "9ABC"), data: "NFA1"), key: nil)
            #expect(try await station.send(plain).kind == .nak)
            #expect(try await station.count("SELECT count(*)::int FROM dc09_messages") == 0)
            #expect(try await station.count("SELECT count(*)::int FROM alarms") == 0)
        }
    }
}

/// Which DC-09 events raise which alarm: as the worker's INTEGRA records (only new alarm events), and an unknown code
/// as a technical alarm.
@Suite struct DC09AlarmClassifierTests {
    static func event(_ category: DC09EventCategory, _ qualifier: DC09Event.Qualifier = .new) -> DC09Event {
        DC09Event(format: .contactID, code: "999", qualifier: qualifier, category: category, description: "x")
    }

    @Test func newAlarmEventsRaiseTheirKindAndTheRestIsHistory() {
        let kinds = DC09EventCategory.allCases.map { ($0, DC09AlarmClassifier.kind(of: Self.event($0))) }
        #expect(kinds.filter { $0.1 != nil }.map(\.0) == [.fire, .panic, .duress, .medical, .burglary, .tamper, .environmental, .trouble, .unknown])
        #expect(DC09AlarmClassifier.kind(of: Self.event(.unknown)) == .technical)
        #expect(DC09AlarmClassifier.kind(of: Self.event(.fire)) == .fire)
        #expect(DC09AlarmClassifier.kind(of: Self.event(.fire, .restore)) == nil)
        #expect(DC09AlarmClassifier.kind(of: Self.event(.burglary, .status)) == nil)
        #expect(DC09AlarmClassifier.kind(of: Self.event(.openClose)) == nil)
    }

    @Test func theDescriptionSaysTheCodeAndWhatCameWithIt() {
        let event = DC09Event(format: .sia, code: "BA", qualifier: .new, category: .burglary, description: "burglary alarm", zone: 3, user: 7, text: "Hall")
        #expect(DC09AlarmClassifier.description(of: event) == "Burglary alarm (SIA BA, user 7): Hall")
        let restore = DC09Event(format: .contactID, code: "130", qualifier: .restore, category: .burglary, description: "burglary")
        #expect(DC09AlarmClassifier.description(of: restore) == "Burglary (Contact ID 130, restore)")
    }
}
