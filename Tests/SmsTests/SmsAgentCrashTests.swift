import Foundation
import DevStack
import Sms
import TestSupport
import Testing

/// A real `stam sms-agent` child killed with SIGKILL: in the middle of a concatenated message (its first
/// parts already moved from the modem to the part store) and in the middle of a batch. After a restart
/// every message is stored exactly once.
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct SmsAgentCrashTests {
    static let panel = SmsAddress(kind: .international, value: "+48600100200")

    func startAgent(_ fixture: SmsFixture, secrets: String, name: String, environment: [String: String] = [:]) -> LocalProcess? {
        try? LocalProcess(
            name: name, executable: StamBinary.path,
            arguments: ["sms-agent", "--device", fixture.simulator.devicePath, "--state-directory", "\(fixture.directory)/state",
                        "--command-timeout", "1", "--poll-interval", "2"],
            environment: ["RABBITMQ_URL": TestRabbitMQ.current!.server.url, "STAM_SECRETS_DIR": secrets].merging(environment) { $1 },
            logFile: "\(fixture.directory)/\(name).log")
    }

    @Test func killedMidMessageAndMidBatchDeliversEverythingOnceAfterRestart() async throws {
        let fixture = try await SmsFixture.make(name: "crash")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        let secrets = "\(fixture.directory)/secrets"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try rabbit.server.password.write(toFile: "\(secrets)/rabbitmq_password", atomically: true, encoding: .utf8)
        let long = String(repeating: "Alarm pozarowy, strefa 12. ", count: 12)
        let parts = SmsPduEncoder().deliver(text: long, from: Self.panel, at: SmsTimestamp(date: Date(), offsetQuarterHours: 8), reference: 200)
        #expect(parts.count == 3)
        let consumer = fixture.consumer()
        func count() async throws -> Int { try await fixture.number("SELECT count(*) FROM sms_messages") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }

            // Two of three parts: the agent moves them to its part store and deletes them from the modem.
            fixture.simulator.deliver(pdus: Array(parts.prefix(2)))
            let first = try #require(startAgent(fixture, secrets: secrets, name: "agent-1"))
            try await fixture.wait { fixture.simulator.storedPDUs.isEmpty }
            #expect(fixture.simulator.storedPDUs.isEmpty)
            kill(first.pid, SIGKILL)
            first.stop(signal: SIGKILL)

            // The last part arrives while no agent runs, with a batch of ordinary messages.
            fixture.simulator.deliver(pdus: [parts[2]])
            for index in 0..<25 { fixture.simulator.deliver(text: "batch \(index)", from: Self.panel) }
            let second = try #require(startAgent(fixture, secrets: secrets, name: "agent-2"))
            try await fixture.wait { try await count() >= 5 }
            kill(second.pid, SIGKILL)
            second.stop(signal: SIGKILL)
            for index in 25..<40 { fixture.simulator.deliver(text: "batch \(index)", from: Self.panel) }

            let third = try #require(startAgent(fixture, secrets: secrets, name: "agent-3"))
            defer { third.stop(signal: SIGKILL) }
            try await fixture.wait { try await count() >= 41 && fixture.simulator.storedPDUs.isEmpty }
            group.cancelAll()
        }
        #expect(try await count() == 41)
        #expect(try await fixture.number("SELECT count(DISTINCT body) FROM sms_messages") == 41)
        #expect(try await fixture.strings("SELECT body FROM sms_messages WHERE body LIKE 'Alarm pozarowy%'") == [long])
        #expect(fixture.simulator.storedPDUs.isEmpty)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "\(fixture.directory)/state/parts")) ?? []
        #expect(leftovers.filter { $0.hasSuffix(".json") }.isEmpty)
    }

    /// docs/RELIABILITY.md, agent clock: the part timeout (1 h) compares a part's stored wall-clock time with now,
    /// so a clock jumping forward gives up on a concatenated message early: its first part is published alone as a
    /// partial message, and the part arriving afterwards starts a group of its own, published as a second partial
    /// message when the clock passes its timeout too. Split, but nothing is lost or doubled. (A real `stam sms-agent`
    /// on a `FakeClock`.)
    @Test func anAgentWhoseClockJumpsSplitsAConcatenatedMessageButLosesNothing() async throws {
        let fixture = try await SmsFixture.make(name: "clock")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        let secrets = "\(fixture.directory)/secrets"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try rabbit.server.password.write(toFile: "\(secrets)/rabbitmq_password", atomically: true, encoding: .utf8)
        let clock = try FakeClock(directory: fixture.directory)
        let parts = SmsPduEncoder().deliver(text: String(repeating: "Awaria zasilania, centrala 7. ", count: 8), from: Self.panel,
                                            at: SmsTimestamp(date: Date(), offsetQuarterHours: 8), reference: 77)
        #expect(parts.count == 2)
        let consumer = fixture.consumer()
        func bodies() async throws -> [String] { try await fixture.strings("SELECT body FROM sms_messages ORDER BY received_at") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            let agent = try #require(startAgent(fixture, secrets: secrets, name: "agent-clock", environment: clock.environment))
            defer { agent.stop(signal: SIGKILL) }
            fixture.simulator.deliver(pdus: [parts[0]])
            try await fixture.wait { fixture.simulator.storedPDUs.isEmpty }
            try await Task.sleep(for: .seconds(2))
            #expect(try await bodies().isEmpty)
            // Two hours forward: the first part's group is past its timeout at once.
            try clock.jump(by: .seconds(2 * 3600))
            try await fixture.wait { try await bodies().count == 1 }
            fixture.simulator.deliver(pdus: [parts[1]])
            try await fixture.wait { fixture.simulator.storedPDUs.isEmpty }
            try clock.jump(by: .seconds(4 * 3600))
            try await fixture.wait { try await bodies().count == 2 }
            group.cancelAll()
        }
        let stored = try await bodies()
        #expect(stored.count == 2)
        #expect(stored.first?.hasPrefix("Awaria zasilania, centrala 7.") == true)
        #expect(stored.first?.contains("[…part 2 of 2 missing…]") == true)
        #expect(stored.last?.hasPrefix("[…part 1 of 2 missing…]") == true)
        #expect(fixture.simulator.storedPDUs.isEmpty)
    }

    /// docs/RELIABILITY.md, `SmsAgent` paused (SIGSTOP): messages that arrive meanwhile wait on the SIM, none is read
    /// or deleted; paused past the broker's heartbeat timeout (10 s, two missed: the broker drops the connection),
    /// the agent resumes, reconnects and delivers each once.
    @Test func pausedPastTheBrokersHeartbeatTheAgentDeliversWhatWaitedOnTheSimOnce() async throws {
        let fixture = try await SmsFixture.make(name: "paused")
        defer { Task { await fixture.cleanUp() } }
        let rabbit = try #require(TestRabbitMQ.current)
        let secrets = "\(fixture.directory)/secrets"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try rabbit.server.password.write(toFile: "\(secrets)/rabbitmq_password", atomically: true, encoding: .utf8)
        let consumer = fixture.consumer()
        func count() async throws -> Int { try await fixture.number("SELECT count(*) FROM sms_messages") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            let agent = try #require(startAgent(fixture, secrets: secrets, name: "agent-paused"))
            defer {
                kill(agent.pid, SIGCONT)
                agent.stop(signal: SIGKILL)
            }
            fixture.simulator.deliver(text: "before the pause", from: Self.panel)
            try await fixture.wait { try await count() == 1 }
            kill(agent.pid, SIGSTOP)
            for index in 0..<5 { fixture.simulator.deliver(text: "while paused \(index)", from: Self.panel) }
            try await Task.sleep(for: .seconds(25))
            #expect(fixture.simulator.storedPDUs.count == 5)
            #expect(try await count() == 1)
            kill(agent.pid, SIGCONT)
            try await fixture.wait { try await count() >= 6 && fixture.simulator.storedPDUs.isEmpty }
            group.cancelAll()
        }
        #expect(try await count() == 6)
        #expect(try await fixture.number("SELECT count(DISTINCT body) FROM sms_messages") == 6)
    }
}
