import Foundation
import DevStack
import Sms
import TestSupport
import Testing

/// Real `stam sms-agent` and `stam sms-consumer` processes seen from outside, the way Prometheus and the
/// deployment's health checks see them: `/metrics` moves with what the modem delivers, `/readyz` follows the
/// modem and the broker (and, for the consumer, PostgreSQL).
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct SmsObservabilityTests {
    static let panel = SmsAddress(kind: .international, value: "+48600100200")

    /// The value of one sample line (`name{labels} value`) in a /metrics body.
    func sample(_ body: String, _ series: String) -> Double? {
        body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// Scrapes `path` until `condition` holds for the answer (or `limit` passes) and returns the last answer.
    func poll(_ port: Int, _ path: String, within limit: Duration = .seconds(60),
              until condition: (HTTPGet.Response) -> Bool) async -> HTTPGet.Response? {
        let deadline = ContinuousClock.now + limit
        var last: HTTPGet.Response?
        while ContinuousClock.now < deadline {
            last = try? await HTTPGet.get(port: port, path: path)
            if let last, condition(last) { return last }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    func secrets(_ fixture: SmsFixture) throws -> String {
        let directory = "\(fixture.directory)/secrets"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestRabbitMQ.current!.server.password.write(toFile: "\(directory)/rabbitmq_password", atomically: true, encoding: .utf8)
        try (fixture.database.password ?? "").write(toFile: "\(directory)/postgres_password", atomically: true, encoding: .utf8)
        return directory
    }

    func startAgent(_ fixture: SmsFixture, secrets: String, metricsPort: Int) throws -> LocalProcess {
        try LocalProcess(
            name: "sms-agent", executable: StamBinary.path,
            arguments: ["sms-agent", "--device", fixture.simulator.devicePath, "--state-directory", "\(fixture.directory)/state",
                        "--command-timeout", "1", "--poll-interval", "2",
                        "--metrics-port", String(metricsPort), "--metrics-host", "127.0.0.1"],
            environment: ["RABBITMQ_URL": TestRabbitMQ.current!.server.url, "STAM_SECRETS_DIR": secrets],
            logFile: "\(fixture.directory)/sms-agent.log")
    }

    /// One SMS moves `sms_received_total` and `sms_published_total` to 1 and sets the last-received time; an
    /// undecodable PDU is counted as a decode error (and still received). `/readyz` fails naming the modem
    /// while it is unplugged and naming RabbitMQ while the broker is down, and passes again after each.
    @Test func theAgentsMetricsMoveAndReadyzFollowsTheModemAndTheBroker() async throws {
        let fixture = try await SmsFixture.make(name: "agent-metrics")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        let port = try FreePort.find()
        let agent = try startAgent(fixture, secrets: try secrets(fixture), metricsPort: port)
        defer { agent.stop() }

        let ready = await poll(port, "/readyz") { $0.status == 200 }
        #expect(ready?.status == 200)
        #expect(try await HTTPGet.get(port: port, path: "/healthz").status == 200)
        let idle = try await HTTPGet.get(port: port, path: "/metrics")
        #expect(idle.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(sample(idle.body, "sms_received_total") == 0)
        #expect(sample(idle.body, "sms_last_received_timestamp_seconds") == 0)
        #expect(sample(idle.body, "sms_modem_ready") == 1)

        let before = Date().timeIntervalSince1970
        fixture.simulator.deliver(text: "Alarm strefa 1", from: Self.panel)
        let one = await poll(port, "/metrics") { sample($0.body, "sms_published_total") == 1 }?.body ?? ""
        let after = Date().timeIntervalSince1970
        #expect(sample(one, "sms_received_total") == 1)
        #expect(sample(one, "sms_published_total") == 1)
        #expect(sample(one, "sms_decode_errors_total") == 0)
        let lastReceived = try #require(sample(one, "sms_last_received_timestamp_seconds"))
        #expect(lastReceived >= before.rounded(.down) && lastReceived <= after.rounded(.up))

        let encoded = SmsPduEncoder().deliver(text: "cut short", from: Self.panel, at: SmsTimestamp(date: Date(), offsetQuarterHours: 0))
        fixture.simulator.deliver(pdus: [String(encoded[0].dropLast(4))])
        let garbage = await poll(port, "/metrics") { sample($0.body, "sms_published_total") == 2 }?.body ?? ""
        #expect(sample(garbage, "sms_decode_errors_total") == 1)
        #expect(sample(garbage, "sms_received_total") == 2)
        #expect(sample(garbage, "sms_modem_reopens_total") == 0)

        await fixture.simulator.disappear()
        let unplugged = await poll(port, "/readyz") { $0.status == 503 }
        #expect(unplugged?.status == 503)
        #expect(unplugged?.body.contains("\"failing\":[\"modem\"]") == true)
        try await fixture.simulator.reappear()
        let replugged = await poll(port, "/readyz") { $0.status == 200 }
        #expect(replugged?.status == 200)
        #expect((sample(try await HTTPGet.get(port: port, path: "/metrics").body, "sms_modem_reopens_total") ?? 0) >= 1)

        rabbit.server.stopBroker(signal: SIGTERM)
        let brokerDown = await poll(port, "/readyz") { $0.status == 503 }
        #expect(brokerDown?.body.contains("\"failing\":[\"rabbitmq\"]") == true)
        try await rabbit.server.startBroker()
        let brokerBack = await poll(port, "/readyz") { $0.status == 200 }
        #expect(brokerBack?.status == 200)
    }

    /// The consumer process counts what it consumed, the alarms it raised and the repeats it skipped (the
    /// same PDU read from the modem twice has the same message id), and is ready while PostgreSQL and
    /// RabbitMQ are.
    @Test func theConsumersMetricsCountMessagesAlarmsAndDuplicates() async throws {
        let fixture = try await SmsFixture.make(name: "consumer-metrics")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        // sms.inbox is the suite's: another test's messages may wait there.
        try rabbit.server.ctl(["purge_queue", "-p", rabbit.server.virtualHost, "sms.inbox"])
        try await fixture.execute("INSERT INTO sites (code, name, contact_phone) VALUES ('S1', 'Bank', '+48 600 100 200')")
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'fire')")
        let secrets = try secrets(fixture)
        let port = try FreePort.find()
        let consumer = try LocalProcess(
            name: "sms-consumer", executable: StamBinary.path,
            arguments: ["sms-consumer", "--database-url", fixture.databaseURL, "--metrics-port", String(port), "--metrics-host", "127.0.0.1"],
            environment: ["RABBITMQ_URL": rabbit.server.url, "STAM_SECRETS_DIR": secrets],
            logFile: "\(fixture.directory)/sms-consumer.log")
        defer { consumer.stop() }
        let agent = try startAgent(fixture, secrets: secrets, metricsPort: try FreePort.find())
        defer { agent.stop() }

        let ready = await poll(port, "/readyz") { $0.status == 200 }
        #expect(ready?.status == 200)
        let alarm = SmsPduEncoder().deliver(text: "ALARM strefa 2", from: Self.panel, at: SmsTimestamp(date: Date(), offsetQuarterHours: 4))
        fixture.simulator.deliver(pdus: alarm)
        fixture.simulator.deliver(text: "test łączności", from: SmsAddress(kind: .international, value: "+48500000001"))
        let two = await poll(port, "/metrics") { sample($0.body, "consumer_messages_consumed_total{consumer=\"sms-consumer\"}") == 2 }?.body ?? ""
        #expect(sample(two, "consumer_messages_consumed_total{consumer=\"sms-consumer\"}") == 2)
        #expect(sample(two, "sms_alarms_raised_total") == 1)
        #expect(sample(two, "consumer_duplicates_skipped_total{consumer=\"sms-consumer\"}") == 0)

        // The network delivers the alarm SMS again, byte for byte: same content, same message id.
        fixture.simulator.deliver(pdus: alarm)
        let repeated = await poll(port, "/metrics") { sample($0.body, "consumer_duplicates_skipped_total{consumer=\"sms-consumer\"}") == 1 }?.body ?? ""
        #expect(sample(repeated, "consumer_duplicates_skipped_total{consumer=\"sms-consumer\"}") == 1)
        #expect(sample(repeated, "consumer_messages_consumed_total{consumer=\"sms-consumer\"}") == 2)
        #expect(sample(repeated, "sms_alarms_raised_total") == 1)
        #expect(sample(repeated, "consumer_dead_lettered_total{consumer=\"sms-consumer\"}") == 0)
        #expect(try await fixture.number("SELECT count(*) FROM sms_messages") == 2)
        #expect(try await fixture.number("SELECT count(*) FROM alarms") == 1)
    }
}
