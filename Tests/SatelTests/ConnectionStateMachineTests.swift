import NIOCore
import Testing
@testable import Satel
@testable import SatelSimulator

/// The pure state machine driven directly by a `SimulatedPanel`: no sockets, no clocks.
@Suite struct ConnectionStateMachineTests {
    static let configuration = ConnectionStateMachine.Configuration(
        requestTimeout: .seconds(5), pollInterval: .seconds(1), followEventLog: true,
        watchedCommands: SatelClientConfiguration.defaultWatchedCommands, watchedTroubles: [.part1])

    /// Plays requests to the panel and answers back until the machine has nothing to send.
    struct Loop {
        var machine: ConnectionStateMachine
        var panel: SimulatedPanel
        var sent: [SatelRequest] = []
        var reports: [PanelUpdate] = []
        /// The same updates as reported, one element per `.report`: what the worker writes in one transaction.
        var reportGroups: [[PanelUpdate]] = []
        var requests: [UInt64: Result<SatelResponse, SatelClientError>] = [:]
        var pollGeneration: UInt64?
        var pollDelays: [TimeAmount] = []
        var closedWith: SatelClientError?
        var pendingSequence: UInt64?
        /// A frame the module sends by itself just before it answers the read of this log index (once).
        var pushedBeforeAnswering: (index: EventLogIndex, frame: SatelFrame)?
        let now: Int64 = 1_778_012_310

        init(start: EventLogStart = .newest, panel: SimulatedPanelConfiguration = .default,
             configuration: ConnectionStateMachine.Configuration = ConnectionStateMachineTests.configuration, newestFirst: Int = 1000) {
            machine = ConnectionStateMachine(
                configuration: configuration,
                walker: EventLogWalker(start: start, recordsPerBatch: 100, newestFirst: newestFirst))
            self.panel = SimulatedPanel(configuration: panel)
            self.panel.connectionOpened()
        }

        mutating func run(_ actions: [ConnectionStateMachine.Action]) {
            var queue = actions
            while !queue.isEmpty {
                let action = queue.removeFirst()
                switch action {
                case .send(let request, let sequence, _):
                    sent.append(request)
                    pendingSequence = sequence
                    if let pushed = pushedBeforeAnswering, request == .readEvent(pushed.index) {
                        pushedBeforeAnswering = nil
                        queue += machine.frameReceived(pushed.frame)
                    }
                    for answer in panel.handle(request, now: now) {
                        queue += machine.frameReceived(answer.frame)
                    }
                case .schedulePoll(let delay, let generation):
                    pollGeneration = generation
                    pollDelays.append(delay)
                case .report(let updates):
                    reports += updates
                    reportGroups.append(updates)
                case .completeRequest(let id, let result):
                    requests[id] = result
                case .close(let error):
                    closedWith = error
                }
            }
        }

        mutating func poll() {
            guard let generation = pollGeneration else { return }
            pollGeneration = nil
            run(machine.pollDue(generation: generation))
        }

        var eventBatches: [EventBatch] {
            reports.compactMap { if case .events(let batch) = $0 { batch } else { nil } }
        }
    }

    @Test func connectingIdentifiesThenReadsEverythingThenSchedulesAPoll() {
        var loop = Loop()
        loop.run(loop.machine.connected())
        #expect(loop.sent.prefix(2) == [.readIntegraVersion, .readModuleVersion])
        #expect(loop.machine.phase == .ready)
        #expect(loop.reports.contains(.connection(.synchronized)))
        #expect(loop.pollGeneration != nil)
        for command in SatelClientConfiguration.defaultWatchedCommands where command.rawValue < 0x28 {
            #expect(loop.sent.contains(.readState(command)))
        }
        // 0x2A is newer firmware's: read only because the panel flagged it.
        #expect(loop.sent.contains(.readState(.partitionsArmedMode1)))
    }

    /// Panels that connected together must not poll together forever: the first poll comes after the
    /// drawn delay, every later one a full interval after the previous.
    @Test func theFirstPollComesAfterTheFirstPollDelayThenEveryInterval() {
        var configuration = Self.configuration
        configuration.firstPollDelay = .milliseconds(137)
        var loop = Loop(configuration: configuration)
        loop.run(loop.machine.connected())
        #expect(loop.pollDelays == [.milliseconds(137)])
        loop.poll()
        loop.poll()
        #expect(loop.pollDelays == [.milliseconds(137), .seconds(1), .seconds(1)])
    }

    @Test func aPollReadsOnlyWhatChanged() {
        var loop = Loop()
        loop.run(loop.machine.connected())
        loop.sent = []
        _ = loop.panel.apply(.violateZone(4), now: loop.now)
        loop.poll()
        #expect(loop.sent == [.readNewData(answerLength: 6), .readState(.zonesViolation), .readEvent(.newest)])
        loop.sent = []
        loop.poll()
        #expect(loop.sent == [.readNewData(answerLength: 6), .readEvent(.newest)])
    }

    @Test func newEventsAreReportedOldestFirstAfterTheStartingPoint() {
        var loop = Loop()
        loop.run(loop.machine.connected())
        #expect(loop.eventBatches.isEmpty)
        for source in 1...3 {
            _ = loop.panel.apply(.logEvent(code: 999, restore: false, partition: 1, source: source), now: loop.now)
        }
        loop.poll()
        #expect(loop.eventBatches.last?.events.map(\.record.source) == [1, 2, 3])
        _ = loop.panel.apply(.logEvent(code: 999, restore: false, partition: 1, source: 4), now: loop.now)
        loop.poll()
        #expect(loop.eventBatches.last?.events.map(\.record.source) == [4])
        #expect(loop.eventBatches.allSatisfy { !$0.gap })
    }

    /// Issue 21 point 2: a module that stays silent on one read (older firmware) is asked once more, then read
    /// without it for the rest of the connection; the client says so once; a new connection asks again.
    @Test func anUnansweredReadIsAskedOnceMoreThenLeftOutForTheConnection() throws {
        var loop = Loop()
        _ = loop.panel.apply(.setSilentCommands([StateCommand.zonesTamper.rawValue]), now: loop.now)
        loop.run(loop.machine.connected())
        #expect(loop.sent.last == .readState(.zonesTamper))
        loop.run(loop.machine.requestTimedOut(sequence: try #require(loop.pendingSequence)))
        #expect(loop.sent.suffix(2) == [.readState(.zonesTamper), .readState(.zonesTamper)], "asked once more")
        #expect(loop.closedWith == nil)
        let before = loop.sent.count
        loop.run(loop.machine.requestTimedOut(sequence: try #require(loop.pendingSequence)))
        #expect(loop.sent[before] == .readIntegraVersion, "the module is asked who it is before the read is given up")
        #expect(loop.closedWith == nil, "a module that answers the rest is not a dead link")
        #expect(loop.machine.phase == .ready && loop.reports.contains(.connection(.synchronized)))
        let unsupported = loop.reports.compactMap { if case .commandUnsupported(let command) = $0 { command } else { nil } }
        #expect(unsupported == [UnsupportedCommand(code: 0x01, name: StateCommand.zonesTamper.name, reason: .unanswered)])
        #expect(loop.sent.contains(.readState(.partitionsArmed)), "the full read carried on")
        // A tamper later: the panel flags it, the client does not ask for it again on this connection.
        _ = loop.panel.apply(.tamperZone(3), now: loop.now)
        loop.sent = []
        loop.poll()
        #expect(!loop.sent.contains(.readState(.zonesTamper)), "\(loop.sent)")
        #expect(loop.closedWith == nil)
        // The next connection asks everything again (the module may have been updated).
        _ = loop.machine.closed()
        var next = Loop()
        next.machine = ConnectionStateMachine(configuration: Self.configuration, tracker: loop.machine.tracker,
                                              walker: EventLogWalker(start: .newest, recordsPerBatch: 100, newestFirst: 1000))
        next.run(next.machine.connected())
        #expect(next.machine.phase == .ready && next.sent.contains(.readState(.zonesTamper)))
        #expect(next.machine.snapshot.unsupportedCommands.isEmpty)
    }

    /// The read being given up answers `EF` late, while the module is asked who it is: that `EF` is not taken as the
    /// answer to 0x7E; the version that follows is, and the read is marked refused by its silence.
    @Test func aLateRefusalDuringTheLivenessCheckIsNotTakenForItsAnswer() throws {
        var loop = Loop()
        _ = loop.panel.apply(.setSilentCommands([StateCommand.zonesTamper.rawValue]), now: loop.now)
        loop.run(loop.machine.connected())
        loop.run(loop.machine.requestTimedOut(sequence: try #require(loop.pendingSequence)))
        // Silent on 0x7E for a moment too, so the check is in flight when the late EF comes.
        _ = loop.panel.apply(.setSilentCommands([StateCommand.zonesTamper.rawValue, SatelRequest.readIntegraVersion.commandCode.rawValue]), now: loop.now)
        loop.run(loop.machine.requestTimedOut(sequence: try #require(loop.pendingSequence)))
        #expect(loop.sent.last == .readIntegraVersion)
        #expect(loop.machine.frameReceived(SatelResponse.result(.otherError).frame).isEmpty, "the late EF completes nothing")
        _ = loop.panel.apply(.setSilentCommands([StateCommand.zonesTamper.rawValue]), now: loop.now)
        var answer: [ConnectionStateMachine.Action] = []
        for response in loop.panel.handle(.readIntegraVersion, now: loop.now) { answer += loop.machine.frameReceived(response.frame) }
        loop.run(answer)
        #expect(loop.closedWith == nil && loop.machine.phase == .ready)
        #expect(loop.machine.snapshot.unsupportedCommands == [StateCommand.zonesTamper.rawValue])
    }

    /// A module that answers nothing is still a dead link: a read unanswered twice is only given up when the module
    /// still answers 0x7E; and a read it answered before on this connection is never given up (a stall closes).
    @Test func aModuleThatAnswersNothingIsStillADeadLink() throws {
        // Identified, then silent on every state read, then on 0x7E too: the read is asked twice, the module's
        // version once, and the link closes.
        var silent = Loop()
        let stateCodes = Set(StateCommand.allCases.map(\.rawValue))
        _ = silent.panel.apply(.setSilentCommands(stateCodes), now: silent.now)
        silent.run(silent.machine.connected())
        _ = silent.panel.apply(.setSilentCommands(stateCodes.union([SatelRequest.readIntegraVersion.commandCode.rawValue])), now: silent.now)
        silent.sent = []
        silent.run(silent.machine.requestTimedOut(sequence: try #require(silent.pendingSequence)))
        silent.run(silent.machine.requestTimedOut(sequence: try #require(silent.pendingSequence)))
        #expect(silent.closedWith == nil)
        #expect(silent.sent.last == .readIntegraVersion, "is the module there at all?")
        let closing = silent.machine.requestTimedOut(sequence: try #require(silent.pendingSequence))
        guard case .close(let error) = closing.first else { Issue.record("no close: \(closing)"); return }
        #expect(error.code == .noAnswer)
        #expect(!silent.reports.contains { if case .commandUnsupported = $0 { true } else { false } }, "nothing marked unsupported")

        // A read answered earlier on this connection goes silent: a stall, not firmware; closed at once.
        var stalled = Loop()
        stalled.run(stalled.machine.connected())
        _ = stalled.panel.apply(.setSilentCommands([StateCommand.zonesViolation.rawValue]), now: stalled.now)
        _ = stalled.panel.apply(.violateZone(4), now: stalled.now)
        stalled.poll()
        #expect(stalled.sent.last == .readState(.zonesViolation))
        guard case .close? = stalled.machine.requestTimedOut(sequence: try #require(stalled.pendingSequence)).first else {
            Issue.record("a stalled read did not close"); return
        }

        // A poll that goes unanswered closes at once, as before.
        var polled = Loop()
        polled.run(polled.machine.connected())
        _ = polled.panel.apply(.setAnswering(false), now: polled.now)
        polled.poll()
        guard case .close? = polled.machine.requestTimedOut(sequence: try #require(polled.pendingSequence)).first else {
            Issue.record("an unanswered poll did not close"); return
        }
    }

    @Test func timeoutClosesAndFailsTheWaitingControl() {
        var loop = Loop()
        loop.run(loop.machine.connected())
        // A control goes out; pretend its answer never comes.
        let actions = loop.machine.callerRequested(id: 7, request: .control(.clearTroubleMemory, code: UserCode("1234")!))
        guard case .send(_, let sequence, _) = actions.first else { Issue.record("nothing sent"); return }
        #expect(loop.machine.requestTimedOut(sequence: sequence - 1).isEmpty)
        let closing = loop.machine.requestTimedOut(sequence: sequence)
        guard case .close(let error) = closing.first else { Issue.record("no close"); return }
        #expect(error.code == .noAnswer)
        let completions = loop.machine.closed()
        #expect(completions == [.completeRequest(id: 7, .failure(error))])
    }

    @Test func aFrameWithAnotherCommandIsTakenAsAPushNotAsTheAnswer() {
        var loop = Loop()
        loop.run(loop.machine.connected())
        let actions = loop.machine.callerRequested(id: 1, request: .control(.clearTroubleMemory, code: UserCode("1234")!))
        #expect(actions.count == 1)
        // A monitoring push of zone 9 arrives while the control waits for its EF.
        let push = SatelResponse.state(.zonesViolation, ObjectBitmap(numbers: [9], byteCount: 16))
        let pushed = loop.machine.frameReceived(push.frame)
        #expect(pushed.count == 1)
        #expect(loop.machine.snapshot.objects(.zonesViolation) == [9])
        let done = loop.machine.frameReceived(SatelResponse.result(.accepted).frame)
        #expect(done.first == .completeRequest(id: 1, .success(.result(.accepted))))
    }
}
