import NIOCore
import Testing
@testable import Satel
@testable import SatelSimulator

/// The client against the real simulator over TCP on loopback.
@Suite(.timeLimit(.minutes(1))) struct SatelClientTests {
    static let code = UserCode("1234")!
    static func partitions(_ numbers: Int...) -> ObjectBitmap { ObjectBitmap(numbers: numbers, byteCount: 4) }

    @Test func identifiesThePanelAndReadsItsState() async throws {
        try await ClientHarness.run { harness in
            let identity = try await harness.waitFor { update -> PanelIdentity? in
                if case .identified(let identity) = update { return identity }
                return nil
            }.0
            #expect(identity.model == .integra128)
            #expect(identity.module?.firmware.raw == "20520180111")
            try await harness.waitForSynchronized()
            let snapshot = harness.client.snapshot
            #expect(snapshot.bitmaps[.zonesViolation] == ObjectBitmap(byteCount: 16))
            #expect(snapshot.clock != nil)
            #expect(snapshot.troubles.isEmpty)
        }
    }

    @Test func reportsZoneChangesMadeAtThePanel() async throws {
        try await ClientHarness.run { harness in
            let start = try await harness.waitForSynchronized()
            try await harness.panel.perform(.violateZone(3))
            let change = try await harness.waitFor(from: start) { update -> StateChange? in
                if case .stateChanged(let change) = update, change.command == .zonesViolation, !change.isInitial { return change }
                return nil
            }.0
            #expect(change.entered == [3] && change.left.isEmpty && change.current == [3])
            try await harness.panel.perform(.restoreZone(3))
            try await harness.waitFor(from: start) { update -> Void? in
                if case .stateChanged(let change) = update, change.command == .zonesViolation, change.left == [3] { return () }
                return nil
            }
        }
    }

    @Test func armWithAWrongCodeGivesUserCodeNotFound() async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            let result = try await harness.client.execute(.arm(mode: .mode0, partitions: Self.partitions(1)), code: UserCode("4321")!)
            #expect(result == .userCodeNotFound)
            #expect(result.meaning == "requesting user code not found")
            #expect(try await harness.panel.inspect { $0.bitmaps[.partitionsArmed]!.isEmpty })
        }
    }

    struct ControlCase: CustomTestStringConvertible, Sendable {
        let name: String
        let command: ControlCommand
        let expected: ResultCode
        /// The state bitmap that must show the effect, and the objects it must then hold.
        let effect: (StateCommand, [Int])?
        var testDescription: String { name }
    }

    static let controlCases: [ControlCase] = ArmMode.allCases.flatMap { mode in
        [
            ControlCase(name: "arm \(mode.name)", command: .arm(mode: mode, partitions: partitions(1, 2)), expected: .ok, effect: (.partitionsArmed, [1, 2])),
            ControlCase(name: "force arm \(mode.name)", command: .arm(mode: mode, partitions: partitions(3), force: true), expected: .ok, effect: (.partitionsArmed, [3])),
        ]
    } + [
        ControlCase(name: "arm mode 2 bits", command: .arm(mode: .mode2, partitions: partitions(4)), expected: .ok, effect: (.partitionsArmedMode2, [4])),
        ControlCase(name: "disarm", command: .disarm(partitions: partitions(1)), expected: .accepted, effect: nil),
        ControlCase(name: "clear alarm", command: .clearAlarm(partitions: partitions(1)), expected: .accepted, effect: nil),
        ControlCase(name: "bypass", command: .bypassZones(ObjectBitmap(numbers: [5, 6], byteCount: 16)), expected: .accepted, effect: (.zonesBypass, [5, 6])),
        ControlCase(name: "isolate", command: .isolateZones(ObjectBitmap(numbers: [7], byteCount: 16)), expected: .accepted, effect: (.zonesIsolate, [7])),
        ControlCase(name: "outputs on", command: .outputsOn(ObjectBitmap(numbers: [2, 8], byteCount: 16)), expected: .accepted, effect: (.outputsState, [2, 8])),
        ControlCase(name: "outputs switch 32-byte list", command: .outputsSwitch(ObjectBitmap(numbers: [4], byteCount: 32)), expected: .accepted, effect: (.outputsState, [4])),
        ControlCase(name: "open doors", command: .openDoors(ObjectBitmap(numbers: [1], byteCount: 8)), expected: .accepted, effect: nil),
        ControlCase(name: "clear trouble memory", command: .clearTroubleMemory, expected: .accepted, effect: nil),
        ControlCase(name: "set clock", command: .setClock(ClockSetting(year: 2030, month: 1, day: 1, hour: 0, minute: 0, second: 0)), expected: .accepted, effect: nil),
    ]

    @Test(arguments: controlCases)
    func everyControlCommandRoundTrips(_ testCase: ControlCase) async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            let result = try await harness.client.execute(testCase.command, code: Self.code)
            #expect(result == testCase.expected)
            if let (command, objects) = testCase.effect {
                try await harness.waitForSnapshot { $0.objects(command) == objects }
            }
        }
    }

    @Test func unbypassAndOutputsOffUndoTheirCounterparts() async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            _ = try await harness.client.execute(.bypassZones(ObjectBitmap(numbers: [5], byteCount: 16)), code: Self.code)
            _ = try await harness.client.execute(.outputsOn(ObjectBitmap(numbers: [1], byteCount: 16)), code: Self.code)
            try await harness.waitForSnapshot { $0.objects(.zonesBypass) == [5] && $0.objects(.outputsState) == [1] }
            #expect(try await harness.client.execute(.unbypassZones(ObjectBitmap(numbers: [5], byteCount: 16)), code: Self.code) == .accepted)
            #expect(try await harness.client.execute(.outputsOff(ObjectBitmap(numbers: [1], byteCount: 16)), code: Self.code) == .accepted)
            try await harness.waitForSnapshot { $0.objects(.zonesBypass).isEmpty && $0.objects(.outputsState).isEmpty }
        }
    }

    @Test func anAlarmIsSeenAndCleared() async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            #expect(try await harness.client.execute(.arm(mode: .mode0, partitions: Self.partitions(1)), code: Self.code) == .ok)
            try await harness.panel.perform(.violateZone(2))
            try await harness.waitForSnapshot { $0.objects(.partitionsAlarm) == [1] && $0.objects(.zonesAlarm) == [2] }
            let events = try await harness.waitFor { update -> EventBatch? in
                if case .events(let batch) = update, batch.events.contains(where: { $0.record.code == 130 }) { return batch }
                return nil
            }.0
            let alarm = try #require(events.events.last { $0.record.code == 130 })
            #expect(alarm.record.source == 2 && alarm.record.partition == 1)
            #expect(try await harness.client.execute(.clearAlarm(partitions: Self.partitions(1)), code: Self.code) == .accepted)
            try await harness.waitForSnapshot { $0.objects(.partitionsAlarm).isEmpty && $0.objects(.partitionsAlarmMemory) == [1] }
        }
    }

    @Test func readsThe32ByteFormsOfA256Plus() async throws {
        let scenario = SimulatorScenario(panel: .standard(model: .integra256Plus, zoneCount: 256, partitionCount: 8, outputCount: 256))
        try await ClientHarness.run(simulator: SimulatorConfiguration(port: 0, scenario: scenario)) { harness in
            try await harness.waitForSynchronized()
            #expect(harness.client.snapshot.identity?.uses32ByteLists == true)
            #expect(harness.client.snapshot.bitmaps[.zonesViolation]?.bytes.count == 32)
            try await harness.panel.perform(.violateZone(200))
            try await harness.waitForSnapshot { $0.objects(.zonesViolation) == [200] }
            #expect(try await harness.client.execute(.outputsOn(ObjectBitmap(numbers: [250], byteCount: 32)), code: Self.code) == .accepted)
            try await harness.waitForSnapshot { $0.objects(.outputsState) == [250] }
        }
    }

    @Test func aSecondClientIsToldTheModuleIsBusy() async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            let second = SatelClient(configuration: ClientHarness.clientConfiguration(port: try harness.server.boundPorts()[0]) {
                $0.reconnect = false
            })
            try await second.run()
            var reasons: [SatelClientError] = []
            for await report in second.updates {
                for case .connection(.disconnected(let error, _)) in report { reasons.append(error) }
            }
            #expect(reasons.first?.code == .moduleBusy)
            // The first client keeps its link.
            #expect(try await harness.client.execute(.outputsOn(ObjectBitmap(numbers: [1], byteCount: 16)), code: Self.code) == .accepted)
        }
    }

    @Test func aDroppedConnectionIsReconnectedAndResynchronised() async throws {
        try await ClientHarness.run { harness in
            let first = try await harness.waitForSynchronized()
            try await harness.panel.closeConnection()
            let dropped = try await harness.waitFor(from: first) { update -> SatelClientError? in
                if case .connection(.disconnected(let error, let retry)) = update, retry != nil { return error }
                return nil
            }
            #expect(dropped.0.code == .connectionClosed)
            // A change made while the link is down must be reported after the reconnect.
            try await harness.panel.perform(.violateZone(9))
            try await harness.waitForSynchronized(from: dropped.1)
            try await harness.waitForSnapshot { $0.objects(.zonesViolation) == [9] }
            #expect(try await harness.panel.statistics().connectionsAccepted >= 2)
        }
    }

    @Test func aModuleThatStopsAnsweringIsDroppedAndReconnected() async throws {
        try await ClientHarness.run(client: { $0.requestTimeout = .milliseconds(300) }) { harness in
            let first = try await harness.waitForSynchronized()
            try await harness.panel.perform(.setAnswering(false))
            let dropped = try await harness.waitFor(from: first) { update -> SatelClientError? in
                if case .connection(.disconnected(let error, _)) = update { return error }
                return nil
            }
            #expect(dropped.0.code == .noAnswer)
            try await harness.panel.perform(.setAnswering(true))
            try await harness.waitForSynchronized(from: dropped.1)
        }
    }

    @Test func controlsWithoutALinkFailPlainly() async throws {
        let client = SatelClient(configuration: ClientHarness.clientConfiguration(port: 1))
        await #expect {
            _ = try await client.execute(.clearTroubleMemory, code: Self.code)
        } throws: { error in
            (error as? SatelClientError)?.code == .notConnected
        }
    }
}

/// Issue 21 point 1 over TCP: the client and the simulator's ETHM-1 agree on monitoring mode, and the module's answers
/// decide between pushes and polls.
@Suite(.timeLimit(.minutes(1))) struct SatelClientPushTests {
    static func deliveries(_ harness: ClientHarness) -> [StateDelivery] {
        harness.updates.compactMap { if case .stateDelivery(let delivery) = $0 { delivery } else { nil } }
    }

    /// Polls every 15 s and keepalives every 20 s: a change that arrives before either was pushed. The module's
    /// counters prove it: after the tamper it got the event-log walk's reads and nothing else, and the record came.
    @Test func aTamperArrivesAsAPushWithoutAPoll() async throws {
        try await ClientHarness.run(client: {
            $0.pollInterval = .seconds(15)
            $0.keepaliveInterval = .seconds(20)
        }) { harness in
            let start = try await harness.waitForSynchronized()
            #expect(Self.deliveries(harness).first?.isPushed == true)
            let before = try await harness.panel.statistics()
            try await harness.panel.perform(.tamperZone(3))
            try await harness.waitFor(from: start) { update -> Void? in
                if case .stateChanged(let change) = update, change.command == .zonesTamper, change.entered == [3] { return () }
                return nil
            }
            try await harness.waitFor(from: start) { update -> Void? in
                if case .events(let batch) = update, batch.events.contains(where: { $0.record.source == 3 }) { return () }
                return nil
            }
            let after = try await harness.panel.statistics()
            var asked = after.requestsByCommand
            for (command, count) in before.requestsByCommand { asked[command, default: 0] -= count }
            asked = asked.filter { $0.value != 0 }
            #expect(Set(asked.keys) == [SatelCommandCode.readEvent.rawValue], "only the walk after the push: \(asked)")
            #expect(after.framesPushed > before.framesPushed)
        }
    }

    @Test(arguments: [MonitoringPolicy.refuse, .answerAsPoll, .ignore])
    func aModuleThatDoesNotPushIsPolled(_ policy: MonitoringPolicy) async throws {
        var simulator = SimulatorConfiguration(port: 0)
        simulator.scenario.panel.monitoringPolicy = policy
        try await ClientHarness.run(simulator: simulator, client: { $0.requestTimeout = .milliseconds(300) }) { harness in
            let start = try await harness.waitForSynchronized()
            #expect(Self.deliveries(harness) == [.polled(policy == .ignore ? .unanswered : .refused)])
            try await harness.panel.perform(.violateZone(5))
            try await harness.waitForSnapshot { $0.objects(.zonesViolation) == [5] }
            #expect(harness.updates[start...].allSatisfy { if case .connection(.disconnected) = $0 { false } else { true } })
            #expect(try await harness.panel.statistics().framesPushed == 0)
        }
    }

    @Test func aModuleThatStopsPushingIsPolledAfterItsNextKeepalive() async throws {
        try await ClientHarness.run(client: { $0.keepaliveInterval = .milliseconds(200) }) { harness in
            let start = try await harness.waitForSynchronized()
            try await harness.panel.perform(.setMonitoringPolicy(.stopPushing))
            try await harness.panel.perform(.violateZone(6))
            try await harness.waitForSnapshot { $0.objects(.zonesViolation) == [6] }
            #expect(Self.deliveries(harness).last == .polled(.stoppedPushing))
            let before = try await harness.panel.statistics().requestsByCommand[SatelCommandCode.newData.rawValue] ?? 0
            try await harness.panel.perform(.restoreZone(6))
            try await harness.waitForSnapshot { $0.objects(.zonesViolation).isEmpty }
            #expect((try await harness.panel.statistics().requestsByCommand[SatelCommandCode.newData.rawValue] ?? 0) > before)
            #expect(harness.updates[start...].allSatisfy { if case .connection(.disconnected) = $0 { false } else { true } })
        }
    }
}
