import Testing
@testable import Satel
@testable import SatelSimulator

/// Walking the event log forward from a caller's cursor, across the ring's wrap and past overwrites.
@Suite struct EventLogWalkTests {
    typealias Loop = ConnectionStateMachineTests.Loop

    static func panel(capacity: Int) -> SimulatedPanelConfiguration {
        var configuration = SimulatedPanelConfiguration.default
        configuration.eventLogCapacity = capacity
        return configuration
    }

    static func log(_ sources: ClosedRange<Int>, into panel: inout SimulatedPanel) {
        for source in sources {
            _ = panel.apply(.logEvent(code: 999, restore: false, partition: 1, source: source), now: 1_778_012_310)
        }
    }

    /// A connection to `panel` (its log as the test wrote it) whose first full read, walk included, is done.
    static func connected(to panel: SimulatedPanel, start: EventLogStart, newestFirst: Int = 1000) -> Loop {
        var loop = Loop(start: start, panel: panel.configuration, newestFirst: newestFirst)
        loop.panel = panel
        loop.panel.connectionOpened()
        loop.run(loop.machine.connected())
        return loop
    }

    /// The cursor a caller would have stored after handling the record with `source`.
    static func cursor(of source: Int, in panel: SimulatedPanel) -> EventLogCursor {
        var index = EventLogIndex.newest
        while true {
            let answer = panel.eventLog.answer(for: index)
            precondition(answer.record.isPresent, "source \(source) not in the log")
            if answer.record.source == source { return EventLogCursor(index: answer.index, record: answer.record) }
            index = answer.index
        }
    }

    @Test func resumesAfterTheCallersCursor() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 8))
        Self.log(1...5, into: &panel)
        let loop = Self.connected(to: panel, start: .after(Self.cursor(of: 2, in: panel)))
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [[3, 4, 5]])
        #expect(loop.eventBatches.first?.gap == false)
        #expect(loop.eventBatches.first?.cursor == Self.cursor(of: 5, in: panel))
    }

    /// The caller stored a cursor whose record it no longer has: the walk reads every record after that index (and
    /// the next walk goes on from the newest, with its record), never from the newest alone.
    @Test func resumesAfterAnIndexAloneAndThenAfterAFullCursor() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 8))
        Self.log(1...5, into: &panel)
        var loop = Self.connected(to: panel, start: .afterIndex(Self.cursor(of: 2, in: panel).index))
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [[3, 4, 5]])
        #expect(loop.eventBatches.first?.gap == false)
        #expect(loop.eventBatches.first?.cursor == Self.cursor(of: 5, in: panel))
        // The next walk stops at the full cursor.
        loop.reports = []
        _ = loop.panel.apply(.logEvent(code: 999, restore: false, partition: 1, source: 6), now: loop.now)
        loop.poll()
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [[6]])
    }

    @Test func walksAcrossTheRingWrap() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 8))
        Self.log(1...6, into: &panel)
        let cursor = Self.cursor(of: 6, in: panel)
        #expect(cursor.index == EventLogIndex(rawValue: 5))
        // Five more: slots 6, 7, then 0, 1, 2 after the wrap.
        Self.log(7...11, into: &panel)
        let loop = Self.connected(to: panel, start: .after(cursor))
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [[7, 8, 9, 10, 11]])
        #expect(loop.eventBatches.first?.events.map(\.index.rawValue) == [6, 7, 0, 1, 2])
        #expect(loop.eventBatches.first?.gap == false)
    }

    @Test func reportsAGapWhenTheRingOverwroteTheCursor() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 8))
        Self.log(1...6, into: &panel)
        let cursor = Self.cursor(of: 6, in: panel)
        // Nine more records: slot 5 (the cursor's) now holds a newer record, 7 is lost for good.
        Self.log(7...15, into: &panel)
        let loop = Self.connected(to: panel, start: .after(cursor))
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [Array(8...15)])
        #expect(loop.eventBatches.first?.gap == true)
    }

    /// Issue 18 point 6: a backlog of 198 records behind the cursor arrives newest first (the newest 32 at once,
    /// then batches of 100, each oldest first) and only the last batch moves the cursor; longer than one batch
    /// is no gap (it was: the walk stopped at its limit and skipped the rest).
    @Test func theNewestRecordsArriveFirstAndOnlyTheLastBatchMovesTheCursor() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 512))
        Self.log(1...200, into: &panel)
        var loop = Self.connected(to: panel, start: .after(Self.cursor(of: 2, in: panel)), newestFirst: 32)
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [Array(169...200), Array(69...168), Array(3...68)])
        #expect(loop.eventBatches.map(\.cursor) == [nil, nil, Self.cursor(of: 200, in: panel)])
        #expect(loop.eventBatches.allSatisfy { !$0.gap })
        // Followed from the new cursor like before.
        Self.log(201...201, into: &loop.panel)
        loop.poll()
        #expect(loop.eventBatches.last?.events.map(\.record.source) == [201])
    }

    @Test func newestRecordsGivesTheLastFew() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 64))
        Self.log(1...20, into: &panel)
        var loop = Self.connected(to: panel, start: .newestRecords(4))
        #expect(loop.eventBatches.map { $0.events.map(\.record.source) } == [[17, 18, 19, 20]])
        // Then it follows new records like any client.
        Self.log(21...21, into: &loop.panel)
        loop.poll()
        #expect(loop.eventBatches.last?.events.map(\.record.source) == [21])
    }

    @Test func newestSkipsHistory() {
        var panel = SimulatedPanel(configuration: Self.panel(capacity: 64))
        Self.log(1...20, into: &panel)
        var loop = Self.connected(to: panel, start: .newest)
        #expect(loop.eventBatches.isEmpty)
        Self.log(21...22, into: &loop.panel)
        loop.poll()
        #expect(loop.eventBatches.last?.events.map(\.record.source) == [21, 22])
    }
}
