import Foundation
import Generated
import Logging
import Messaging
import PostgresNIO
import Satel
import StamCore
import Testing
import Worker

extension WorkerEndToEndTests {
    /// Inserts a command row and publishes its CommandRequested as the relay would.
    /// - Parameter deliveries: how often the one message is published (more than once: a redelivery, same message id;
    ///   none: the relay never published it, or the broker lost it).
    func request(_ fixture: WorkerFixture, panel: UUID, kind: CommandKind, targets: [Int], armMode: Int? = nil,
                 expiresIn seconds: Int = 60, deliveries: Int = 1) async throws -> UUID {
        let operatorID = UUID()
        let commandID = UUID()
        try await fixture.execute("""
            INSERT INTO operators (id, login, display_name, password_hash) VALUES ('\(operatorID)', 'op-\(operatorID.uuidString.prefix(8))', 'Operator', '\\x00')
            ON CONFLICT DO NOTHING
            """)
        let targetsJSON = "[" + targets.map(String.init).joined(separator: ",") + "]"
        try await fixture.execute("""
            INSERT INTO commands (id, panel_id, kind, arm_mode, targets, requested_by, expires_at)
            VALUES ('\(commandID)', '\(panel)', '\(kind.rawValue)', \(armMode.map(String.init) ?? "NULL"), '\(targetsJSON)'::jsonb,
                    '\(operatorID)', now() + interval '\(seconds) seconds')
            """)
        let event = CommandRequested(commandId: commandID, panelId: panel, kind: kind, armMode: armMode,
                                     targets: .array(targets.map { .number(Double($0)) }), requestedBy: operatorID,
                                     expiresAt: Date().addingTimeInterval(Double(seconds)))
        let publisher = Publisher(configuration: fixture.stack.amqpConfiguration, topology: StamTopology.messaging, logger: fixture.logger)
        let message = OutgoingMessage(
            exchange: CommandRequested.exchange, routingKey: CommandRequested.routingKey, messageId: UUID().uuidString,
            type: CommandRequested.eventName, timestamp: Date(), body: Array(try JSONEncoder().encode(event)))
        if deliveries > 0 {
            _ = try await publisher.publish(Array(repeating: message, count: deliveries))
        }
        await publisher.close()
        return commandID
    }

    func status(_ fixture: WorkerFixture, _ command: UUID) async throws -> String {
        try await fixture.strings("""
            SELECT status || '/' || coalesce(result_code::text, '-') FROM commands WHERE id = '\(command)'
            """).first ?? "missing"
    }

    @Test func armThenDisarmThroughTheQueueAndAWrongCodeGivesThePanelsResult() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            let arm = try await request(fixture, panel: panelID, kind: .arm, targets: [2], armMode: 0)
            try await eventually("arm command done") {
                let now = try await status(fixture, arm)
                return now != "requested/-" && now != "sent/-"
            }
            #expect(try await status(fixture, arm) == "succeeded/0")
            #expect(try await simulated.inspect { $0.bitmaps[.partitionsArmed]!.contains(2) })
            try await eventually("partition 2 armed in the database") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(panelID)' AND number = 2") == ["mode0"]
            }
            let disarm = try await request(fixture, panel: panelID, kind: .disarm, targets: [2])
            try await eventually("disarm command done") { try await status(fixture, disarm).hasPrefix("succeeded") }
            // 0xFF: "command accepted, will be processed", as the module answers a disarm.
            #expect(try await status(fixture, disarm) == "succeeded/255")
            #expect(try await simulated.inspect { !$0.bitmaps[.partitionsArmed]!.contains(2) })

            // An expired command is never sent.
            let late = try await request(fixture, panel: panelID, kind: .arm, targets: [3], armMode: 0, expiresIn: -1)
            try await eventually("expired command failed") { try await status(fixture, late) == "expired/-" }
            #expect(try await simulated.inspect { !$0.bitmaps[.partitionsArmed]!.contains(3) })

            // The panel refuses a wrong user code with its own result code (0x01: user code not found).
            try await fixture.withConnection { connection in
                let sealed = try fixture.secrets.seal(Secret("9999"), table: "panels", column: "user_code", rowId: "\(panelID)")
                _ = try await connection.query("UPDATE panels SET user_code = \(sealed) WHERE id = \(panelID)", logger: fixture.logger)
            }
            let refused = try await request(fixture, panel: panelID, kind: .arm, targets: [1], armMode: 0)
            try await eventually("refused command done") { try await status(fixture, refused).hasPrefix("failed") }
            #expect(try await status(fixture, refused) == "failed/1")
            #expect(try await simulated.inspect { !$0.bitmaps[.partitionsArmed]!.contains(1) })
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'CommandCompleted'") == 4)
        #expect(try await fixture.int("SELECT count(*)::int FROM processed_messages WHERE consumer = 'worker.commands'") == 4)
    }

    /// docs/RELIABILITY.md, `worker.commands` duplicate delivery: the message that wakes the worker arrives twice
    /// (same message id); the command runs once on the panel (a switch of an output toggles it once).
    @Test func aCommandDeliveredTwiceRunsOnce() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            #expect(try await simulated.inspect { !$0.bitmaps[.outputsState]!.contains(1) })
            let command = try await request(fixture, panel: panelID, kind: .outputsSwitch, targets: [1], deliveries: 2)
            try await eventually("the command done") { try await status(fixture, command).hasPrefix("succeeded") }
            try await eventually("both deliveries consumed") {
                try await fixture.int("SELECT count(*)::int FROM processed_messages WHERE consumer = 'worker.commands'") == 1
                    && fixture.stack.rabbitmq.ctl(["list_queues", "-p", fixture.stack.rabbitmq.virtualHost, "--no-table-headers", "name", "messages"]).contains("worker.commands\t0")
            }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(try await simulated.inspect { $0.bitmaps[.outputsState]!.contains(1) })
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'CommandCompleted'") == 1)
    }

    /// A worker whose lease has passed to another without its noticing (here: the panel row carries a newer
    /// fencing token, which is what the new owner's claim writes) still believes it owns the panel and is
    /// connected; it must not send the panel a command. The command stays requested for the owner, then expires.
    @Test func aWorkerFencedOutOfAPanelSendsItNoCommand() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await fixture.execute("UPDATE panels SET fencing_token = fencing_token + 1000, owner_worker = 'newer-owner' WHERE id = '\(panelID)'")
            let arm = try await request(fixture, panel: panelID, kind: .arm, targets: [4], armMode: 0, expiresIn: 4)
            try await eventually("the fenced command expired") { try await status(fixture, arm) == "expired/-" }
            #expect(try await simulated.inspect { !$0.bitmaps[.partitionsArmed]!.contains(4) })
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM commands WHERE status = 'sent'") == 0)
    }
}
