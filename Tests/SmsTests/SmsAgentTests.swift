import Foundation
import Generated
import DevStack
import Logging
import Messaging
import Prometheus
import SmsIngest
import Sms
import SmsSimulator
import TestSupport
import Testing

/// The agent against the simulated modem over a real pty, a real RabbitMQ and PostgreSQL, with the
/// consumer writing `sms_messages`: every message arrives exactly once, whatever the modem or the broker do.
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct SmsAgentTests {
    static let panel = SmsAddress(kind: .international, value: "+48600100200")

    /// Runs the agent and the consumer while `body` runs, then stops both.
    func running(_ fixture: SmsFixture, metrics: SmsMetrics, ingestMetrics: SmsIngestMetrics? = nil, partialTimeout: Duration = .seconds(3600),
                 device: String? = nil, _ body: () async throws -> Void) async throws {
        let agent = try fixture.agent(metrics: metrics, partialTimeout: partialTimeout, device: device)
        let consumer = fixture.consumer(metrics: ingestMetrics)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await agent.run() }
            group.addTask { try await consumer.run() }
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// An SMS from a panel's own GSM module (its `sim_phone`, written in any format) belongs to that panel and its
    /// site, also when the number is some other site's contact phone too; one from a site's contact phone to the
    /// site alone; an unknown or alphanumeric sender to nobody, and it raises no alarm.
    @Test func eachSmsIsAttributedToThePanelOrTheSiteThatSentIt() async throws {
        let fixture = try await SmsFixture.make(name: "attribution")
        defer { Task { await fixture.cleanUp() } }
        try await fixture.execute("INSERT INTO sites (code, name, contact_phone) VALUES ('S1', 'Bank', '+48 600 100 200'), ('S2', 'Shop', '511 222 333')")
        try await fixture.execute("""
            INSERT INTO panels (site_id, name, host, sim_phone)
            VALUES ((SELECT id FROM sites WHERE code = 'S1'), 'Vault', '10.0.0.9', '0048-511-222-333')
            """)
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'fire')")
        try await running(fixture, metrics: SmsMetrics()) {
            fixture.simulator.deliver(text: "ALARM from the panel", from: SmsAddress(kind: .international, value: "+48511222333"))
            fixture.simulator.deliver(text: "ALARM from the owner", from: Self.panel)
            fixture.simulator.deliver(text: "ALARM from nobody", from: SmsAddress(kind: .international, value: "+48700000001"))
            fixture.simulator.deliver(text: "ALARM promo", from: SmsAddress(kind: .alphanumeric, value: "SATEL"))
            // A name made of the panel's digits, as any SMS gateway lets anyone send: not a number, nobody's.
            fixture.simulator.deliver(text: "ALARM spoofed", from: SmsAddress(kind: .alphanumeric, value: "48511222333"))
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") >= 5 }
        }
        let attributed = try await fixture.strings("""
            SELECT m.body || ' | ' || coalesce(s.code, '-') || ' | ' || coalesce(p.name, '-') || ' | ' ||
                   coalesce((SELECT ps.code || '/' || coalesce(pp.name, '-') FROM alarms a JOIN sites ps ON ps.id = a.site_id
                             LEFT JOIN panels pp ON pp.id = a.panel_id WHERE a.title LIKE '%' || m.body), 'no alarm')
            FROM sms_messages m LEFT JOIN sites s ON s.id = m.site_id LEFT JOIN panels p ON p.id = m.panel_id ORDER BY m.body
            """)
        #expect(attributed == [
            "ALARM from nobody | - | - | no alarm",
            "ALARM from the owner | S1 | - | S1/-",
            "ALARM from the panel | S1 | Vault | S1/Vault",
            "ALARM promo | - | - | no alarm",
            "ALARM spoofed | - | - | no alarm",
        ])
        // The alarm's event names the panel too, for the consoles.
        let event = try await fixture.strings("SELECT payload::text FROM outbox WHERE event_name = 'AlarmRaised' AND payload->>'panel_id' IS NOT NULL")
        #expect(event.count == 1)
    }

    /// One number sending alarm texts without end (a spoofed number or a broken device) raises at most the
    /// limit's alarms in the window; the rest are stored as ignored and counted, and the operators' queue stays usable.
    @Test func aFloodFromOneSenderRaisesAtMostTheLimit() async throws {
        let fixture = try await SmsFixture.make(name: "flood")
        defer { Task { await fixture.cleanUp() } }
        try await fixture.execute("INSERT INTO sites (code, name, contact_phone) VALUES ('S1', 'Bank', '+48 600 100 200')")
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'fire')")
        let registry = PrometheusCollectorRegistry()
        let ingestMetrics = SmsIngestMetrics(registry: registry)
        let total = SmsIngest.senderAlarmLimit + 3
        try await running(fixture, metrics: SmsMetrics(), ingestMetrics: ingestMetrics) {
            for index in 0..<total {
                fixture.simulator.deliver(text: "ALARM \(index)", from: SmsAddress(kind: .international, value: "+48600100200"))
            }
            fixture.simulator.deliver(text: "ALARM other", from: SmsAddress(kind: .international, value: "+48600999888"))
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") >= total + 1 }
        }
        #expect(try await fixture.number("SELECT count(*) FROM alarms") == SmsIngest.senderAlarmLimit)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE status = 'ignored'") == 3)
        #expect(registry.emitToString().contains("sms_alarms_throttled_total 3"))
    }

    /// During a rolling update a newer backend may store a pattern whose kind this consumer's build does not know
    /// (its migration widened the CHECK; here the CHECK is dropped to store one). That row is skipped with a
    /// warning, like an invalid expression; the other patterns keep raising alarms and no message dead-letters.
    @Test func aPatternThisBuildCannotReadDoesNotStopTheOthers() async throws {
        let fixture = try await SmsFixture.make(name: "newer-pattern")
        defer { Task { await fixture.cleanUp() } }
        try await fixture.execute("INSERT INTO sites (code, name, contact_phone) VALUES ('S1', 'Bank', '+48 600 100 200')")
        try await fixture.execute("ALTER TABLE sms_alarm_patterns DROP CONSTRAINT sms_alarm_patterns_kind_check")
        try await fixture.execute("""
            INSERT INTO sms_alarm_patterns (pattern, kind, priority, title)
            VALUES ('alarm', 'kind_from_a_newer_schema', 'fire', 'Newer'), ('alarm', 'burglary', 'burglary', 'Burglary')
            """)
        try await running(fixture, metrics: SmsMetrics()) {
            fixture.simulator.deliver(text: "ALARM zone 1", from: Self.panel)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages WHERE status <> 'received'") >= 1 }
        }
        #expect(try await fixture.strings("SELECT kind || ' ' || priority || ' ' || title FROM alarms") == ["burglary burglary Burglary: ALARM zone 1"])
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE status = 'processed'") == 1)
    }

    /// 200 messages of every kind, delivered in bursts into a 30-slot SIM (so the network has to hold some
    /// back while the storage is full): each is stored once, with its text, and the modem ends empty.
    @Test func twoHundredMixedMessagesArriveExactlyOnce() async throws {
        let fixture = try await SmsFixture.make(name: "mixed")
        defer { Task { await fixture.cleanUp() } }
        try await fixture.execute("INSERT INTO sites (code, name, contact_phone) VALUES ('S1', 'Bank', '+48 600 100 200')")
        try await fixture.execute("""
            INSERT INTO sms_alarm_patterns (pattern, kind, priority)
            VALUES ('alarm|włamanie', 'burglary', 'fire'), ('([unclosed', 'fire', 'fire')
            """)
        var expected: [String] = []
        let metrics = SmsMetrics()
        try await running(fixture, metrics: metrics) {
            for index in 0..<200 {
                let sender: SmsAddress = switch index % 4 {
                case 0: Self.panel
                case 1: SmsAddress(kind: .alphanumeric, value: "SATEL")
                case 2: SmsAddress(kind: .national, value: "600\(100_000 + index)")
                default: SmsAddress(kind: .international, value: "+4860\(1_000_000 + index)")
                }
                var text = "msg \(index)"
                switch index % 5 {
                case 0: text += " ALARM strefa \(index % 8)"
                case 1: text += " zażółć gęślą jaźń 🚨"
                case 2: text += " " + String(repeating: "długa wiadomość [\(index)] € ", count: 6 + index % 7)
                case 3: text += " " + String(repeating: "0123456789", count: 17 + index % 30)
                default: text += " ok"
                }
                fixture.simulator.deliver(text: text, from: sender, offsetQuarterHours: index % 2 == 0 ? 8 : -20,
                                          sixteenBitReference: index % 3 == 0)
                expected.append(text)
                if index % 25 == 24 { try await Task.sleep(for: .milliseconds(100)) }
            }
            try await fixture.wait {
                try await fixture.number("SELECT count(*) FROM sms_messages") >= 200
                    && fixture.simulator.storedPDUs.isEmpty && fixture.simulator.waitingCount == 0
            }
        }
        let bodies = try await fixture.strings("SELECT body FROM sms_messages")
        #expect(bodies.count == 200)
        #expect(bodies.sorted() == expected.sorted())
        #expect(fixture.simulator.storedPDUs.isEmpty)
        #expect(metrics.snapshot().decodeErrors == 0)
        // Every fifth message came from the site's number with "ALARM" in it: one alarm each, with its event.
        let alarms = (0..<200).filter { $0 % 4 == 0 && $0 % 5 == 0 }.count
        #expect(try await fixture.number("SELECT count(*) FROM alarms WHERE kind = 'burglary' AND priority = 'fire'") == alarms)
        #expect(try await fixture.number("SELECT count(*) FROM outbox WHERE event_name = 'AlarmRaised'") == alarms)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE site_id IS NOT NULL") == 50)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE status = 'processed'") == alarms)
        #expect(try await fixture.number("SELECT count(*) FROM processed_messages") == 200)
    }

    /// Issue 18 point 10: on a SIM shared with a phone the agent publishes and deletes only received SMS-DELIVER
    /// messages; outgoing messages saved on the SIM (unsent, sent) and a status report stay where they are, each
    /// counted once however often the SIM is listed.
    @Test func outgoingMessagesAndStatusReportsStayOnTheSim() async throws {
        let fixture = try await SmsFixture.make(name: "shared-sim")
        defer { Task { await fixture.cleanUp() } }
        let submit = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
        let statusReport = "0006D70B911326880736F4111011719551401110117195714000"
        #expect(fixture.simulator.store(pdu: submit, status: 2) != nil)
        #expect(fixture.simulator.store(pdu: submit, status: 3) != nil)
        #expect(fixture.simulator.store(pdu: statusReport, status: 0) != nil)
        let metrics = SmsMetrics()
        try await running(fixture, metrics: metrics) {
            fixture.simulator.deliver(text: "received 1", from: Self.panel)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 1 && fixture.simulator.storedPDUs.count == 3 }
            // Two more lists (the poll interval is 2 s) must neither publish nor report them again.
            try await Task.sleep(for: .seconds(5))
            fixture.simulator.deliver(text: "received 2", from: Self.panel)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 2 && fixture.simulator.storedPDUs.count == 3 }
        }
        #expect(try await fixture.strings("SELECT body FROM sms_messages ORDER BY body") == ["received 1", "received 2"])
        #expect(fixture.simulator.storedPDUs == [submit, submit, statusReport])
        #expect(metrics.snapshot().leftOnSim == [.storedUnsent: 1, .storedSent: 1, .statusReport: 1])
        #expect(metrics.snapshot().decodeErrors == 0)
    }

    /// With the broker killed (SIGKILL) nothing leaves the modem; once it is back the consumer, which was
    /// connected when the broker died, reconnects and everything arrives once.
    @Test func brokerDownDeletesNothingUntilItIsBack() async throws {
        let fixture = try await SmsFixture.make(name: "broker-down")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        try rabbit.server.syncQuorumQueueRegistry()
        let metrics = SmsMetrics()
        try await running(fixture, metrics: metrics) {
            fixture.simulator.deliver(text: "before", from: Self.panel)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 1 }
            rabbit.server.stopBroker(signal: SIGKILL)
            for index in 0..<5 { fixture.simulator.deliver(text: "while down \(index)", from: Self.panel) }
            fixture.simulator.deliver(text: String(repeating: "long while down ", count: 20), from: Self.panel)
            // The agent has read messages and is trying to publish them...
            try await fixture.wait { metrics.snapshot().received >= 2 }
            #expect(metrics.snapshot().received >= 2)
            // ...yet every single-part message is still on the modem (the long one's parts may have moved to
            // the durable part store, which is allowed: they are safe there).
            let stored = Set(fixture.simulator.storedPDUs.compactMap { try? SmsDeliver.decode(hex: $0).text })
            #expect((0..<5).allSatisfy { stored.contains("while down \($0)") })
            #expect(metrics.snapshot().published == 1)
            try await rabbit.server.startBroker()
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") >= 7 && fixture.simulator.storedPDUs.isEmpty }
        }
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages") == 7)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE body LIKE 'long while down%'") == 1)
        #expect(fixture.simulator.storedPDUs.isEmpty)
    }

    /// Noise on the line, a modem that stops answering, one that disappears and comes back, a full
    /// storage and an undecodable PDU: each is recovered from and nothing is lost or doubled.
    @Test func garbageSilenceDisappearanceAndBadPdusAreRecovered() async throws {
        let fixture = try await SmsFixture.make(modem: SimulatedModem(pin: "4321", capacity: 5), name: "faults")
        defer { Task { await fixture.cleanUp() } }
        let metrics = SmsMetrics()
        let agent = try SmsAgent(
            configuration: .init(device: fixture.simulator.devicePath,
                                 modem: .init(pin: "4321", commandTimeout: .seconds(1), listTimeout: .seconds(2), registrationPollInterval: .milliseconds(200), pollInterval: .seconds(2)),
                                 stateDirectory: "\(fixture.directory)/state",
                                 reopenInitialDelay: .milliseconds(50), reopenMaximumDelay: .milliseconds(300)),
            publisher: Publisher(configuration: fixture.amqp, topology: fixture.topology, logger: fixture.logger),
            publication: .init(exchange: SmsReceived.exchange, routingKey: SmsReceived.routingKey,
                               eventName: SmsReceived.eventName, schemaVersion: SmsReceived.schemaVersion),
            metrics: metrics, logger: fixture.logger)
        let consumer = fixture.consumer()
        var sent = 0
        func count() async throws -> Int { try await fixture.number("SELECT count(*) FROM sms_messages") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await agent.run() }
            group.addTask { try await consumer.run() }

            fixture.simulator.misbehaviour.garbage = true
            for index in 0..<12 { fixture.simulator.deliver(text: "noisy \(index)", from: Self.panel) }
            sent += 12
            try await fixture.wait { try await count() == sent && fixture.simulator.storedPDUs.isEmpty }
            #expect(try await count() == sent)
            #expect(metrics.snapshot().garbageLines > 0)
            fixture.simulator.misbehaviour.garbage = false

            let reopens = metrics.snapshot().modemReopens
            fixture.simulator.misbehaviour.silent = true
            for index in 0..<3 { fixture.simulator.deliver(text: "silent \(index)", from: Self.panel) }
            sent += 3
            try await fixture.wait { metrics.snapshot().modemReopens > reopens }
            #expect(metrics.snapshot().modemReopens > reopens)
            #expect(fixture.simulator.storedPDUs.count == 3)
            fixture.simulator.misbehaviour.silent = false
            try await fixture.wait { try await count() == sent && fixture.simulator.storedPDUs.isEmpty }
            #expect(try await count() == sent)

            await fixture.simulator.disappear()
            let gone = metrics.snapshot().modemReopens
            try await fixture.wait { metrics.snapshot().modemReopens > gone + 1 }
            fixture.simulator.deliver(text: "while unplugged", from: Self.panel)
            fixture.simulator.misbehaviour.storageFull = true
            fixture.simulator.deliver(text: "held by the network", from: Self.panel)
            sent += 2
            try await fixture.simulator.reappear()
            try await fixture.wait { try await count() == sent - 1 }
            #expect(fixture.simulator.waitingCount == 1)
            fixture.simulator.misbehaviour.storageFull = false

            let broken = String(SmsPduEncoder().deliver(text: "cut short", from: Self.panel, at: SmsTimestamp(date: Date(), offsetQuarterHours: 0))[0].dropLast(4))
            fixture.simulator.deliver(pdus: [broken])
            sent += 1
            try await fixture.wait { try await count() == sent && fixture.simulator.storedPDUs.isEmpty }
            group.cancelAll()
        }
        #expect(try await count() == sent)
        #expect(try await fixture.number("SELECT count(DISTINCT body) FROM sms_messages") == sent)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages WHERE body LIKE '[undecodable SMS: truncated%'") == 1)
        #expect(metrics.snapshot().decodeErrors == 1)
        #expect(fixture.simulator.storedPDUs.isEmpty)
    }

    /// Parts that never complete are published as one partial message after the timeout.
    @Test func incompleteMessageIsPublishedAsPartialAfterTheTimeout() async throws {
        let fixture = try await SmsFixture.make(name: "partial")
        defer { Task { await fixture.cleanUp() } }
        let metrics = SmsMetrics()
        let pdus = SmsPduEncoder().deliver(text: String(repeating: "Napad w strefie 3. ", count: 25), from: Self.panel,
                                           at: SmsTimestamp(date: Date(), offsetQuarterHours: 4), reference: 9)
        #expect(pdus.count == 4)
        try await running(fixture, metrics: metrics, partialTimeout: .seconds(1)) {
            fixture.simulator.deliver(pdus: [pdus[2], pdus[0], pdus[3]])
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 1 }
        }
        let body = try #require(try await fixture.strings("SELECT body FROM sms_messages").first)
        #expect(body.contains("[…part 2 of 4 missing…]"))
        #expect(body.hasPrefix("Napad w strefie 3."))
        #expect(metrics.snapshot().partialMessages == 1)
        #expect(fixture.simulator.storedPDUs.isEmpty)
    }

    /// A modem behind a serial device server (ser2net, Moxa NPort), as the dev deployment has the simulator in
    /// its own container: the agent reads it over `tcp://`, with the same session, and a dropped connection
    /// is reopened like an unplugged modem.
    @Test func aModemBehindASerialDeviceServerIsReadOverTCP() async throws {
        let fixture = try await SmsFixture.make(name: "tcp")
        defer { Task { await fixture.cleanUp() } }
        let port = try await fixture.simulator.listen(host: "127.0.0.1", port: 0)
        let metrics = SmsMetrics()
        try await running(fixture, metrics: metrics, device: "tcp://127.0.0.1:\(port)") {
            fixture.simulator.deliver(text: "Alarm strefa 1", from: Self.panel)
            fixture.simulator.deliver(text: "Zażółć gęślą jaźń", from: Self.panel, coding: .ucs2)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 2 }
            await fixture.simulator.disappear()  // the connection drops; the agent reconnects
            fixture.simulator.deliver(text: "After the reconnect", from: Self.panel)
            try await fixture.wait { try await fixture.number("SELECT count(*) FROM sms_messages") == 3 }
        }
        #expect(Set(try await fixture.strings("SELECT body FROM sms_messages")) == ["Alarm strefa 1", "Zażółć gęślą jaźń", "After the reconnect"])
        #expect(fixture.simulator.storedPDUs.isEmpty)
        #expect(metrics.snapshot().modemReopens >= 1)
    }
}
