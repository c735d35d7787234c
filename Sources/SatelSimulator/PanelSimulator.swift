import Satel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// One simulated panel with its ETHM-1 module, bound to one event loop: the connection to it, scenario
/// timers and control calls all run there, so its state needs no locks.
public final class PanelSimulator: Sendable {
    public let configuration: SimulatedPanelConfiguration
    public let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<State>

    struct State {
        var panel: SimulatedPanel
        var activeChannel: (any Channel)?
        var statistics = PanelSimulatorStatistics()
        var timeline = ChangeTimeline()
        var clientsOpen = 0
    }

    public init(configuration: SimulatedPanelConfiguration, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        state = .makeBoxSendingValue(
            State(panel: SimulatedPanel(configuration: configuration)), as: State.self, eventLoop: eventLoop)
    }

    // MARK: Control API

    /// Makes something happen at the premises (a zone violated, a tamper, a trouble…); a connected client in
    /// monitoring mode gets the resulting pushes.
    public func perform(_ action: PanelAction) async throws {
        try await eventLoop.submit { self.applyOnLoop(action) }.get()
    }

    /// Reads the panel's state (for tests and the control API).
    public func inspect<Result: Sendable>(_ body: @escaping @Sendable (SimulatedPanel) -> Result) async throws -> Result {
        try await eventLoop.submit { body(self.state.value.panel) }.get()
    }

    /// Drops the current client, as a network cut would (for reconnect tests).
    public func closeConnection() async throws {
        let channel = try await eventLoop.submit { self.state.value.activeChannel }.get()
        try? await channel?.close()
    }

    /// The counters, on the panel's loop.
    var statisticsOnLoop: PanelSimulatorStatistics { state.value.statistics }

    public func statistics() async throws -> PanelSimulatorStatistics {
        try await eventLoop.submit { self.state.value.statistics }.get()
    }

    /// When each action was applied and when the client was first told of it (see `ChangeTimeline`).
    public func changeTimeline() async throws -> ChangeTimeline {
        try await eventLoop.submit { self.state.value.timeline }.get()
    }

    /// The control port's `changes` line.
    func changeSummary() -> EventLoopFuture<String> {
        eventLoop.submit { self.state.value.timeline.summary }
    }

    /// The future form of `perform`, for callers on an event loop (the control port).
    func performOnLoop(_ action: PanelAction) -> EventLoopFuture<Void> {
        eventLoop.submit { self.applyOnLoop(action) }
    }

    /// One line saying what matters to an operator: armed partitions, violated zones, alarms, outputs.
    func stateSummary() -> EventLoopFuture<String> {
        eventLoop.submit {
            let panel = self.state.value.panel
            func list(_ command: StateCommand) -> String {
                "[" + panel.bitmaps[command]!.numbers.map(String.init).joined(separator: ",") + "]"
            }
            return "state armed=\(list(.partitionsArmed)) violated=\(list(.zonesViolation)) zoneAlarms=\(list(.zonesAlarm)) "
                + "partitionAlarms=\(list(.partitionsAlarm)) fireAlarms=\(list(.partitionsFireAlarm)) "
                + "bypassed=\(list(.zonesBypass)) outputs=\(list(.outputsState)) events=\(panel.eventLog.count)"
                + " connected=\(self.state.value.activeChannel != nil)"
        }
    }

    // MARK: On the event loop

    func applyOnLoop(_ action: PanelAction) {
        let before = state.value.panel.bitmaps
        let pushes = state.value.panel.apply(action, now: Self.now())
        let after = state.value.panel.bitmaps
        let touched = after.compactMap { command, bitmap in before[command] == bitmap ? nil : command.rawValue }.sorted()
        state.value.timeline.recordChange(commands: touched, at: Self.nowMicroseconds())
        send(pushes)
    }

    /// Takes the connection slot for `channel`; false when another client holds it (the module is busy).
    func claimSlot(for channel: any Channel) -> Bool {
        eventLoop.preconditionInEventLoop()
        state.value.clientsOpen += 1
        state.value.statistics.peakConcurrentClients = max(state.value.statistics.peakConcurrentClients, state.value.clientsOpen)
        let state = self.state
        channel.closeFuture.whenComplete { _ in state.value.clientsOpen -= 1 }
        guard state.value.activeChannel == nil else {
            state.value.statistics.connectionsRefused += 1
            return false
        }
        state.value.activeChannel = channel
        state.value.statistics.connectionsAccepted += 1
        state.value.panel.connectionOpened()
        return true
    }

    func releaseSlot(for channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard let active = state.value.activeChannel, active === channel else { return }
        state.value.activeChannel = nil
        state.value.panel.connectionClosed()
    }

    /// Answers one decoded frame; returns the frames to write back.
    func handleOnLoop(_ frame: SatelFrame) -> [SatelFrame] {
        state.value.statistics.framesReceived += 1
        let answers: [SatelResponse]
        do {
            let request = try SatelRequest(frame: frame)
            state.value.statistics.requestsByCommand[frame.command, default: 0] += 1
            answers = state.value.panel.handle(request, now: Self.now())
        } catch {
            state.value.statistics.requestsRejected += 1
            answers = state.value.panel.answerToUnknown()
        }
        state.value.statistics.framesSent += answers.count
        state.value.timeline.answersServed(answers, at: Self.nowMicroseconds)
        return answers.map(\.frame)
    }

    func recordMalformed() {
        state.value.statistics.malformedFrames += 1
    }

    func recordIdleDisconnect() {
        state.value.statistics.idleDisconnects += 1
    }

    private func send(_ pushes: [SatelResponse]) {
        guard !pushes.isEmpty, let channel = state.value.activeChannel else { return }
        state.value.statistics.framesSent += pushes.count
        state.value.statistics.framesPushed += pushes.count
        state.value.timeline.answersServed(pushes, at: Self.nowMicroseconds)
        for push in pushes {
            channel.write(push.frame, promise: nil)
        }
        channel.flush()
    }

    static func now() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }

    static func nowMicroseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
    }
}
