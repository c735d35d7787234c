import NIOCore
import NIOPosix
import Testing
@testable import Satel
@testable import SatelSimulator

/// The simulator's record of when a change was made and when the client was first told of it (the worker
/// benchmark's "poll reached the simulator" instant).
@Suite struct ChangeTimelineTests {
    @Test func aChangeIsServedByTheFirstPollThatFlagsItAndOnlyThen() async throws {
        let panel = PanelSimulator(configuration: .default, eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        func ask(_ request: SatelRequest) async throws {
            _ = try await panel.eventLoop.submit { panel.handleOnLoop(request.frame) }.get()
        }
        // A fresh module flags everything; read the zones so the next flag means something new.
        try await ask(.readState(.zonesViolation, extended: false))
        try await panel.perform(.violateZone(3))
        try await panel.perform(.setTemperature(zone: 1, celsius: 20))
        try await ask(.readIntegraVersion)
        var timeline = try await panel.changeTimeline()
        #expect(timeline.entries.map(\.sequence) == [1, 2])
        #expect(timeline.entries[0].commands.contains(StateCommand.zonesViolation.rawValue))
        #expect(timeline.entries.allSatisfy { $0.servedAt == nil }, "an answer that does not show the change does not serve it")

        try await ask(.readNewData(answerLength: 6))
        timeline = try await panel.changeTimeline()
        let violation = timeline.entries[0]
        #expect(violation.servedAt.map { $0 >= violation.madeAt } == true)
        #expect(timeline.entries[1].commands.isEmpty && timeline.entries[1].servedAt == nil, "no bitmap changed: never served")

        try await ask(.readState(.zonesViolation, extended: false))
        #expect(try await panel.changeTimeline().entries[0].servedAt == violation.servedAt, "the first answer counts")
    }

    @Test func theOldestEntriesGoFirstAndSequenceNumbersKeepCounting() {
        var timeline = ChangeTimeline(capacity: 2)
        for micros in [10, 20, 30] as [Int64] {
            timeline.recordChange(commands: [0], at: micros)
        }
        #expect(timeline.entries.map(\.sequence) == [2, 3])
        timeline.answersServed([.newData(NewDataFlags(commands: [0], byteCount: 6))], at: { 40 })
        #expect(timeline.entries.map(\.servedAt) == [40, 40])
        #expect(timeline.summary == "changes 2:20:40 3:30:40")
    }
}
