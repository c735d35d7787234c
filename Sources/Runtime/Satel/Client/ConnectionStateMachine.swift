import NIOCore

/// The client's side of one connection as a value type: every event returns the actions the channel
/// handler must carry out (send, schedule, report, complete, close), in the manner of postgres-nio's
/// `ConnectionStateMachine`. It never touches a socket or a clock, so every path is testable directly.
///
/// One request is in flight at a time (doc §7.4). Control commands jump the queue of reads. An unanswered state
/// read is asked once more (its late answer is the same command's, so nothing is mistaken); silent again, the module
/// is asked who it is (0x7E, which every module answers): answered, the read is marked unsupported for the connection,
/// as modules with older firmware stay silent on commands they do not know; unanswered, the link is dead. A read this
/// connection already got an answer to is never given up (silence then is a stall: the link is closed and the next
/// one reads everything again). Any other timeout closes the link, because a late answer could otherwise be taken
/// for the next request's.
///
/// After the full read the module is asked to push the watched states (monitoring mode, 0x7F with 12 or 14 bytes,
/// doc §3.7) unless the panel is configured `poll`. Accepted (`EF 00`), polling stops: pushed frames are folded in as
/// they come, each one that changed something starts an event-log walk, and a keepalive (0x7F, 5-7 bytes) every
/// `keepaliveInterval` keeps the module's 25 s idle limit at bay, walks the log, and checks the pushes: what it flags
/// "new data" is read, and a monitored state whose read brings data the pushes had not brought means the module stopped
/// pushing, and the connection falls back to polling. A refused or unanswered request (0x7E answered after it) polls too; an
/// unanswered keepalive is a dead link.
///
/// A pushed state change is reported together with the records of the walk it starts (`heldForWalk`): the worker
/// writes one report in one transaction, so an alarm the records raise does not wait behind a commit of the change
/// alone (StackBench, 2,000 panels: that commit, with the synchronous replica, and the live-state write after it were
/// most of the 33 ms p50 between the push and the alarm's transaction).
struct ConnectionStateMachine {
    struct Configuration: Sendable {
        var requestTimeout: TimeAmount
        var pollInterval: TimeAmount
        var followEventLog: Bool
        var watchedCommands: [StateCommand]
        var watchedTroubles: [TroublePart]
        var encrypted = false
        /// From the full read to the first poll (nil: one poll interval). The client draws it at random
        /// within one interval, so panels that connected together (a worker restart) do not poll together
        /// for the rest of the connection.
        var firstPollDelay: TimeAmount? = nil
        var mode: StateDeliveryMode = .poll
        /// Between keepalives while the module pushes; well inside the module's 25 s idle limit (doc §7.3).
        var keepaliveInterval: TimeAmount = .seconds(10)
        /// From the full read to the first keepalive (nil: one keepalive interval), drawn like `firstPollDelay`: 2,000
        /// panels that connected within seconds of each other otherwise sent their keepalives (and event-log reads) in
        /// one burst every interval, and the worker's transactions stalled for hundreds of ms in it (StackBench).
        var firstKeepaliveDelay: TimeAmount? = nil
    }

    enum Action: Equatable {
        case send(SatelRequest, sequence: UInt64, timeout: TimeAmount)
        case schedulePoll(after: TimeAmount, generation: UInt64)
        case report([PanelUpdate])
        case completeRequest(id: UInt64, Result<SatelResponse, SatelClientError>)
        case close(SatelClientError)
    }

    enum Phase: Equatable {
        case waitingForConnection
        case identifying
        case synchronizing
        case ready
        case closed
    }

    private enum Purpose: Equatable {
        case identifyIntegra
        case identifyModule
        case read
        case poll
        case eventLog
        /// A request from the caller (a control command or a one-off read such as a name).
        case caller(id: UInt64)
        /// 0x7E after a read went unanswered twice, or the monitoring request once: is the module there at all?
        /// Carries the request to give up.
        case livenessCheck(SatelRequest)
        /// 0x7F with 12 or 14 bytes: push these states from now on.
        case startMonitoring(NewDataFlags)
        /// 0x7F while the module pushes: keeps the link alive and shows whether the pushes still come.
        case keepalive
    }

    private enum Monitoring: Equatable {
        case notAsked
        case pushing(NewDataFlags)
        case polling
    }

    private struct InFlight {
        var request: SatelRequest
        var sequence: UInt64
        var purpose: Purpose
        var attempt = 1
    }

    private let configuration: Configuration
    private(set) var phase: Phase = .waitingForConnection
    private(set) var tracker: PanelStateTracker
    private(set) var walker: EventLogWalker
    private var integraVersion: IntegraVersion?
    private var inFlight: InFlight?
    private var callerRequests: [(id: UInt64, request: SatelRequest)] = []
    private var reads: [(request: SatelRequest, purpose: Purpose)] = []
    private var walkPending = false
    private var nextWalkIndex: EventLogIndex?
    /// Walks of the event log started and ended on this connection.
    private var walksStarted = 0
    private var walksEnded = 0
    /// Pushed state changes waiting for the end of walk number `heldUntilWalk` (the first to start after them), to
    /// be reported with its records; released earlier by anything else reported (order is kept), a close, or when no
    /// walk is coming.
    private var heldForWalk: [PanelUpdate] = []
    private var heldUntilWalk = 0
    private var cycleActive = false
    private var pollOverdue = false
    private var sequence: UInt64 = 0
    private var pollGeneration: UInt64 = 0
    private var closeReason: SatelClientError?
    private var anyFrameReceived = false
    /// Reads (by command code) the module has answered on this connection: never given up for silence.
    private var answeredReads: Set<UInt8> = []
    private var monitoring = Monitoring.notAsked
    /// Monitored commands a keepalive found flagged, read since: data they bring that the client did not have is a
    /// change the module did not push.
    private var keepaliveReads: Set<UInt8> = []

    /// Frames that arrived without being asked for (monitoring pushes, unsolicited 0x8C).
    private(set) var unsolicitedFrames = 0

    init(configuration: Configuration, tracker: PanelStateTracker = PanelStateTracker(), walker: EventLogWalker) {
        self.configuration = configuration
        self.tracker = tracker
        self.walker = walker
    }

    // MARK: Events

    mutating func connected() -> [Action] {
        guard phase == .waitingForConnection else { return [] }
        phase = .identifying
        tracker.forgetUnsupported()
        answeredReads = []
        monitoring = .notAsked
        keepaliveReads = []
        return [.report([.connection(.connected)]), send(.readIntegraVersion, purpose: .identifyIntegra)]
    }

    mutating func frameReceived(_ frame: SatelFrame) -> [Action] {
        releasingHeld(handleFrame(frame))
    }

    private mutating func handleFrame(_ frame: SatelFrame) -> [Action] {
        guard phase != .closed && phase != .waitingForConnection else { return [] }
        anyFrameReceived = true
        if let current = inFlight, case .livenessCheck = current.purpose, frame.command == SatelCommandCode.result.rawValue {
            // A late `EF` to the read being given up, not the answer to 0x7E: the module is there, and refuses it.
            unsolicitedFrames += 1
            return []
        }
        if let current = inFlight, completes(current, frame) {
            inFlight = nil
            let response: SatelResponse
            do {
                response = try SatelResponse(frame: frame)
            } catch {
                return answerUnreadable(current, error: error)
            }
            return answered(current, with: response)
        }
        // Not the answer we wait for: a monitoring push or an unsolicited record. Fold in what we can.
        unsolicitedFrames += 1
        guard let response = try? SatelResponse(frame: frame) else {
            return [.report([.protocolIssue("unsolicited frame not understood: \(frame)")])]
        }
        return pushed(response, command: frame.command)
    }

    /// A frame the module sent by itself. While it pushes, a change (or a pushed record) is followed by a walk of the
    /// event log, since the panel logs what changed its state; polling walks on every cycle anyway.
    private mutating func pushed(_ response: SatelResponse, command: UInt8) -> [Action] {
        let updates = tracker.apply(response)
        guard isPushing else { return updates.isEmpty ? [] : [.report(updates)] }
        var isRecord = false
        if case .event = response { isRecord = true }
        guard configuration.followEventLog && phase == .ready && (!updates.isEmpty || isRecord) else {
            return updates.isEmpty ? [] : [.report(updates)]
        }
        walkPending = true
        if !updates.isEmpty {
            // Reported with the records of the next walk to start (see `releasingHeld`); an earlier change still held
            // keeps its own walk, so nothing is held for longer than one walk after it.
            if heldForWalk.isEmpty { heldUntilWalk = walksStarted + 1 }
            heldForWalk += updates
        }
        return sendNext()
    }

    /// Releases the held pushed changes into these actions when their walk has ended, when these actions report
    /// anything else or close the link (the held changes go first: updates keep their order), or when no walk is
    /// coming. Merged into the first report, they reach the worker as one report with the walk's records.
    private mutating func releasingHeld(_ actions: [Action]) -> [Action] {
        guard !heldForWalk.isEmpty else { return actions }
        let reportAt = actions.firstIndex { if case .report = $0 { true } else { false } }
        let closes = actions.contains { if case .close = $0 { true } else { false } }
        let walking = walkPending || nextWalkIndex != nil || inFlight?.purpose == .eventLog
        guard reportAt != nil || closes || phase == .closed || walksEnded >= heldUntilWalk || !walking else { return actions }
        let held = heldForWalk
        heldForWalk = []
        var actions = actions
        if let reportAt, case .report(let updates) = actions[reportAt] {
            actions[reportAt] = .report(held + updates)
        } else {
            actions.insert(.report(held), at: 0)
        }
        return actions
    }

    /// Whether a frame answers the request in flight: its own answer code or `EF`; for the monitoring request also a
    /// new-data list (firmware that reads only the first bytes takes it for a poll). While the module pushes, an event
    /// record answers a read of the log only if it echoes the index asked for: a module in monitoring mode also pushes
    /// records by itself (doc §3.7, §6.6), and one taken for the walk's answer would end the walk as a "loop" with the
    /// cursor on the newest record, the records still behind it never read.
    private func completes(_ current: InFlight, _ frame: SatelFrame) -> Bool {
        let command = frame.command
        if command == SatelCommandCode.result.rawValue { return true }
        if command == current.request.answerCode.rawValue {
            guard isPushing, case .readEvent(let asked) = current.request, frame.data.count == EventLogAnswer.answerLength else { return true }
            return EventLogIndex(bytes: frame.data[11..<14]) == asked
        }
        if case .startMonitoring = current.purpose { return command == SatelCommandCode.newData.rawValue }
        return false
    }

    mutating func malformedReceived(_ error: SatelFramingError) -> [Action] {
        releasingHeld(handleMalformed(error))
    }

    private mutating func handleMalformed(_ error: SatelFramingError) -> [Action] {
        guard phase != .closed else { return [] }
        return [.report([.protocolIssue(error.description)])]
    }

    mutating func requestTimedOut(sequence timedOut: UInt64) -> [Action] {
        releasingHeld(handleTimeout(sequence: timedOut))
    }

    private mutating func handleTimeout(sequence timedOut: UInt64) -> [Action] {
        guard let current = inFlight, current.sequence == timedOut, phase != .closed else { return [] }
        if configuration.encrypted && current.purpose == .identifyIntegra && !anyFrameReceived {
            // An encrypted module that cannot decrypt our first request says nothing at all (doc §8.5).
            return close(SatelClientError(
                code: .wrongIntegrationKey,
                message: "no answer to the first encrypted request: wrong integration key, or encryption is off at the module"))
        }
        if current.purpose == .read && !answeredReads.contains(current.request.commandCode.rawValue) {
            sequence += 1
            if current.attempt == 1 {
                inFlight = InFlight(request: current.request, sequence: sequence, purpose: .read, attempt: 2)
                return [.send(current.request, sequence: sequence, timeout: configuration.requestTimeout)]
            }
            inFlight = InFlight(request: .readIntegraVersion, sequence: sequence, purpose: .livenessCheck(current.request))
            return [.send(.readIntegraVersion, sequence: sequence, timeout: configuration.requestTimeout)]
        }
        if case .startMonitoring = current.purpose {
            // Modules that do not know monitoring mode may say nothing: is the module still there?
            sequence += 1
            inFlight = InFlight(request: .readIntegraVersion, sequence: sequence, purpose: .livenessCheck(current.request))
            return [.send(.readIntegraVersion, sequence: sequence, timeout: configuration.requestTimeout)]
        }
        if current.purpose == .keepalive {
            return close(SatelClientError(
                code: .noAnswer, message: "no answer to the keepalive (new data) while the module pushes: the link is dead"))
        }
        if case .livenessCheck(let given) = current.purpose {
            return close(SatelClientError(
                code: .noAnswer, message: "no answer to \(given.commandCode.name) (twice) nor to the module's version: the link is dead"))
        }
        return close(SatelClientError(
            code: .noAnswer, message: "no answer to \(current.request.commandCode.name) in time"))
    }

    /// Marks a read the module does not serve; reported the first time on this connection.
    private mutating func unsupported(_ request: SatelRequest, reason: UnsupportedCommand.Reason) -> [Action] {
        let code = request.commandCode
        guard !tracker.snapshot.unsupportedCommands.contains(code.rawValue) else { return [] }
        tracker.markUnsupported(code.rawValue)
        return [.report([.commandUnsupported(UnsupportedCommand(code: code.rawValue, name: code.name, reason: reason))])]
    }

    mutating func pollDue(generation: UInt64) -> [Action] {
        releasingHeld(handlePollDue(generation: generation))
    }

    private mutating func handlePollDue(generation: UInt64) -> [Action] {
        guard generation == pollGeneration, phase == .ready else { return [] }
        guard !cycleActive else {
            // Still busy with the previous cycle: start the next one as soon as it ends.
            pollOverdue = true
            return []
        }
        return startCycle()
    }

    /// A request from the caller; it goes before any queued read.
    mutating func callerRequested(id: UInt64, request: SatelRequest) -> [Action] {
        releasingHeld(handleCallerRequest(id: id, request: request))
    }

    private mutating func handleCallerRequest(id: UInt64, request: SatelRequest) -> [Action] {
        switch phase {
        case .closed, .waitingForConnection:
            return [.completeRequest(id: id, .failure(closeReason ?? SatelClientError(code: .notConnected, message: "not connected to the panel")))]
        case .identifying, .synchronizing, .ready:
            callerRequests.append((id, request))
            return sendNext()
        }
    }

    /// The link failed with an error seen by the pipeline (busy banner, wrong key, I/O).
    mutating func errorCaught(_ error: any Error) -> [Action] {
        releasingHeld(handleError(error))
    }

    private mutating func handleError(_ error: any Error) -> [Action] {
        if let integration = error as? SatelIntegrationError {
            switch integration.code {
            case .moduleBusy:
                return close(SatelClientError(code: .moduleBusy, message: "the module is busy with another client", bytes: integration.bytes))
            case .encryptionIDMismatch, .encryptedPDUTooShort:
                return close(SatelClientError(
                    code: .wrongIntegrationKey, message: "encrypted answers do not decrypt: wrong integration key?",
                    bytes: integration.bytes))
            case .frameTooLongToEncrypt:
                return close(SatelClientError(code: .protocolViolation, message: "frame too long to encrypt"))
            }
        }
        return close(SatelClientError(code: .connectionClosed, message: "connection error: \(error)"))
    }

    /// The channel is gone; fails whatever was waiting.
    mutating func closed() -> [Action] {
        releasingHeld(handleClosed())
    }

    private mutating func handleClosed() -> [Action] {
        let reason = closeReason ?? SatelClientError(code: .connectionClosed, message: "the module closed the connection")
        closeReason = reason
        phase = .closed
        var actions: [Action] = []
        if let current = inFlight, case .caller(let id) = current.purpose {
            actions.append(.completeRequest(id: id, .failure(reason)))
        }
        inFlight = nil
        for request in callerRequests {
            actions.append(.completeRequest(id: request.id, .failure(reason)))
        }
        callerRequests = []
        reads = []
        return actions
    }

    var snapshot: PanelSnapshot { tracker.snapshot }
    var failure: SatelClientError? { closeReason }

    // MARK: Answers

    private mutating func answered(_ current: InFlight, with response: SatelResponse) -> [Action] {
        var actions: [Action] = []
        switch current.purpose {
        case .identifyIntegra:
            guard case .integraVersion(let version) = response else {
                return close(SatelClientError(code: .protocolViolation, message: "the module did not identify the panel (0x7E answered \(response))"))
            }
            integraVersion = version
            return [send(.readModuleVersion, purpose: .identifyModule)]
        case .identifyModule:
            var module: ModuleVersion?
            if case .moduleVersion(let version) = response { module = version }
            let identity = PanelIdentity(integra: integraVersion!, module: module)
            tracker.setIdentity(identity)
            actions.append(.report([.identified(identity)]))
            phase = .synchronizing
            queueInitialReads(identity: identity)
        case .read:
            if case .result = response {
                // An `EF` instead of the data: this firmware lacks the command; do not ask again.
                actions += unsupported(current.request, reason: .refused)
            } else {
                let code = current.request.commandCode.rawValue
                answeredReads.insert(code)
                let updates = tracker.apply(response)
                if !updates.isEmpty { actions.append(.report(updates)) }
                if keepaliveReads.remove(code) != nil && !updates.isEmpty && isPushing {
                    // Flagged, not pushed, and different from what the client had: the module no longer pushes.
                    actions += fallBack(.stoppedPushing)
                }
            }
        case .livenessCheck(let given):
            // The module answers, just not that request: carry on without it.
            actions += givenUp(given)
        case .startMonitoring(let selection):
            switch response {
            case .result(let code) where code.isSuccess:
                monitoring = .pushing(selection)
                actions.append(.report([.stateDelivery(.pushed(commands: selection.commands))]))
            case .newData(let flags):
                // Taken for a poll (firmware that reads only the first bytes): no pushes; read what it flags.
                actions += fallBack(.refused)
                queueFlaggedReads(flags)
            default:
                actions += fallBack(.refused)
            }
        case .keepalive:
            guard case .newData(let flags) = response else {
                return close(SatelClientError(code: .protocolViolation, message: "0x7F answered \(response)"))
            }
            // Everything flagged is read, as a poll would. A monitored command among it is checked when its answer comes:
            // the same data as pushed is a flag the module did not clear; new data is a change it did not push.
            if case .pushing(let selection) = monitoring {
                keepaliveReads = Set(flags.commands.filter { selection.contains($0) })
            }
            queueFlaggedReads(flags)
        case .poll:
            guard case .newData(let flags) = response else {
                return close(SatelClientError(code: .protocolViolation, message: "0x7F answered \(response)"))
            }
            queueFlaggedReads(flags)
        case .eventLog:
            if case .event(let answer) = response {
                switch walker.handle(answer) {
                case .request(let index):
                    nextWalkIndex = index
                case .deliver(let batch, let index):
                    actions.append(.report([.events(batch)]))
                    nextWalkIndex = index
                case .finished(let batch):
                    nextWalkIndex = nil
                    walksEnded += 1
                    // Also without records: the cursor moves past what earlier batches of the walk handed over.
                    if let batch, !batch.events.isEmpty || batch.cursor != nil { actions.append(.report([.events(batch)])) }
                }
            } else {
                nextWalkIndex = nil
                walksEnded += 1
            }
        case .caller(let id):
            actions.append(.completeRequest(id: id, .success(response)))
            // After a control, look at the panel right away rather than at the next tick: the operator
            // waits for the effect.
            // A module that pushes shows the effect by itself.
            if case .control = current.request, case .result(let code) = response, code.isSuccess, phase == .ready, !cycleActive,
                !isPushing
            {
                return actions + startCycle()
            }
        }
        return actions + sendNext()
    }

    private mutating func answerUnreadable(_ current: InFlight, error: any Error) -> [Action] {
        var actions: [Action] = [.report([.protocolIssue("\(error)")])]
        switch current.purpose {
        case .identifyIntegra, .poll, .keepalive:
            return actions + close(SatelClientError(code: .protocolViolation, message: "unreadable answer: \(error)"))
        case .identifyModule:
            return answered(current, with: .result(.otherError))
        case .livenessCheck(let given):
            actions += givenUp(given)  // it answered something: it is there
        case .startMonitoring:
            actions += fallBack(.refused)
        case .caller(let id):
            actions.append(.completeRequest(id: id, .failure(SatelClientError(code: .protocolViolation, message: "unreadable answer: \(error)"))))
        case .read:
            actions += unsupported(current.request, reason: .unreadable)
        case .eventLog:
            nextWalkIndex = nil
            walksEnded += 1
        }
        return actions + sendNext()
    }

    /// The request a liveness check was about, given up: the module answers, just not that.
    private mutating func givenUp(_ request: SatelRequest) -> [Action] {
        if case .startMonitoring = request { return fallBack(.unanswered) }
        return unsupported(request, reason: .unanswered)
    }

    private var isPushing: Bool {
        if case .pushing = monitoring { true } else { false }
    }

    /// Polls for the rest of the connection (a new connection asks for pushes again). When the module stopped
    /// pushing, polling starts at once rather than at the next keepalive.
    private mutating func fallBack(_ reason: StateDelivery.PollingReason) -> [Action] {
        let wasPushing = isPushing
        monitoring = .polling
        var actions: [Action] = [.report([.stateDelivery(.polled(reason))])]
        if wasPushing && phase == .ready {
            pollGeneration += 1
            actions.append(.schedulePoll(after: configuration.pollInterval, generation: pollGeneration))
        }
        return actions
    }

    /// The states to have pushed: the watched ones the module answered (none it does not serve). 14 bytes when the
    /// module's new-data list has 7 (troubles part 8), else 12.
    private func monitoringSelection() -> NewDataFlags {
        let snapshot = tracker.snapshot
        let unsupported = snapshot.unsupportedCommands
        var commands = configuration.watchedCommands.filter { snapshot.bitmaps[$0] != nil }.map(\.rawValue)
        commands += configuration.watchedTroubles.filter { snapshot.troubleParts[$0] != nil }.map(\.rawValue)
        commands = commands.filter { !unsupported.contains($0) }
        let width = max(snapshot.identity?.newDataAnswerLength ?? 6, (commands.map { Int($0) / 8 + 1 }.max() ?? 0))
        return NewDataFlags(commands: commands, byteCount: width >= 7 ? 7 : 6)
    }

    // MARK: Scheduling

    private mutating func queueInitialReads(identity: PanelIdentity) {
        cycleActive = true
        walkPending = true
        // Every firmware knows the commands below 0x28; newer ones are read when the panel flags them.
        for command in configuration.watchedCommands where command.rawValue < 0x28 {
            reads.append((.readState(command, extended: identity.uses32ByteLists), .read))
        }
        for part in configuration.watchedTroubles where part.rawValue < 0x28 {
            reads.append((.readTroubles(part), .read))
        }
        reads.append((.readClockAndStatus, .read))
        reads.append((.readNewData(answerLength: identity.newDataAnswerLength), .poll))
    }

    /// Starts a cycle and arms the timer for the next one now, so cycles keep a fixed rate however long each takes:
    /// a poll (0x7F every poll interval) or, while the module pushes, a keepalive (0x7F every keepalive interval).
    /// Both walk the event log.
    private mutating func startCycle() -> [Action] {
        cycleActive = true
        pollOverdue = false
        walkPending = configuration.followEventLog
        reads.append((.readNewData(answerLength: tracker.snapshot.identity?.newDataAnswerLength ?? 6), isPushing ? .keepalive : .poll))
        pollGeneration += 1
        let interval = isPushing ? configuration.keepaliveInterval : configuration.pollInterval
        return [.schedulePoll(after: interval, generation: pollGeneration)] + sendNext()
    }

    private mutating func queueFlaggedReads(_ flags: NewDataFlags) {
        let extended = tracker.snapshot.identity?.uses32ByteLists ?? false
        let unsupported = tracker.snapshot.unsupportedCommands
        for command in configuration.watchedCommands where flags.contains(command.rawValue) && !unsupported.contains(command.rawValue) {
            reads.append((.readState(command, extended: extended), .read))
        }
        for part in configuration.watchedTroubles where flags.contains(part.rawValue) && !unsupported.contains(part.rawValue) {
            reads.append((.readTroubles(part), .read))
        }
    }

    /// Sends the next request if none is in flight: the caller's first, then reads, then the event-log walk.
    private mutating func sendNext() -> [Action] {
        guard inFlight == nil, phase == .synchronizing || phase == .ready else { return [] }
        if !callerRequests.isEmpty {
            let request = callerRequests.removeFirst()
            return [send(request.request, purpose: .caller(id: request.id))]
        }
        if !reads.isEmpty {
            let read = reads.removeFirst()
            return [send(read.request, purpose: read.purpose)]
        }
        if let index = nextWalkIndex {
            nextWalkIndex = nil
            return [send(.readEvent(index), purpose: .eventLog)]
        }
        if walkPending {
            walkPending = false
            if case .request(let index) = walker.start() {
                walksStarted += 1
                return [send(.readEvent(index), purpose: .eventLog)]
            }
        }
        guard cycleActive else { return [] }
        if phase == .synchronizing && monitoring == .notAsked {
            let selection = monitoringSelection()
            if configuration.mode != .poll && !selection.isEmpty {
                return [send(.startMonitoring(selection), purpose: .startMonitoring(selection))]
            }
            monitoring = .polling
            let reason: StateDelivery.PollingReason = configuration.mode == .poll ? .configured : .nothingToWatch
            return [.report([.stateDelivery(.polled(reason))])] + sendNext()
        }
        cycleActive = false
        if phase == .synchronizing {
            phase = .ready
            // The first poll cycle starts (at most) one interval after the full read; pushes are checked on a keepalive.
            pollGeneration += 1
            let first = isPushing ? configuration.firstKeepaliveDelay ?? configuration.keepaliveInterval
                : configuration.firstPollDelay ?? configuration.pollInterval
            return [.report([.connection(.synchronized)]), .schedulePoll(after: first, generation: pollGeneration)]
        }
        guard pollOverdue else { return [] }
        return startCycle()
    }

    private mutating func send(_ request: SatelRequest, purpose: Purpose) -> Action {
        sequence += 1
        inFlight = InFlight(request: request, sequence: sequence, purpose: purpose)
        return .send(request, sequence: sequence, timeout: configuration.requestTimeout)
    }

    private mutating func close(_ reason: SatelClientError) -> [Action] {
        guard phase != .closed else { return [] }
        if closeReason == nil { closeReason = reason }
        return [.close(closeReason!)]
    }
}
