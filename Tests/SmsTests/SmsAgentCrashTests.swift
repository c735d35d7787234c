import Foundation
import LocalStack
import Sms
import TestSupport
import Testing

/// A real `stam sms-agent` child killed with SIGKILL: in the middle of a concatenated message (its first
/// parts already moved from the modem to the part store) and in the middle of a batch. After a restart
/// every message is stored exactly once.
@Suite(.postgres, .rabbitmq, .serialized) struct SmsAgentCrashTests {
    static let panel = SmsAddress(kind: .international, value: "+48600100200")

    func startAgent(_ fixture: SmsFixture, secrets: String, name: String) -> LocalProcess? {
        try? LocalProcess(
            name: name, executable: StamBinary.path,
            arguments: ["sms-agent", "--device", fixture.simulator.devicePath, "--state-directory", "\(fixture.directory)/state",
                        "--command-timeout", "1", "--poll-interval", "2"],
            environment: ["RABBITMQ_URL": TestRabbitMQ.current!.server.url, "STAM_SECRETS_DIR": secrets],
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
}
