import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A long-running client for one panel: connects, identifies the panel, has the module push what changes (or polls
/// for new data where it does not), reads what changed, follows the event log, and reconnects with jittered back-off
/// when the link fails.
///
/// State changes come out of `updates` (one consumer), a report at a time; control commands go in through `execute`.
/// Run it in a `ServiceGroup`: graceful shutdown closes the link and ends `updates`.
public final class SatelClient: Service, Sendable {
    public let configuration: SatelClientConfiguration
    /// Everything the client observes, in order, one report per element: the updates that belong together, handled
    /// together (a pushed state change and the records of the event-log walk it started: the worker writes them in one
    /// transaction). Finishes when `run()` returns.
    public let updates: AsyncStream<[PanelUpdate]>
    private let continuation: AsyncStream<[PanelUpdate]>.Continuation
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var channel: (any Channel)?
        var tracker = PanelStateTracker()
        var walker: EventLogWalker
        var snapshot = PanelSnapshot()
        var shuttingDown = false
        var issues = 0
    }

    public init(
        configuration: SatelClientConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "satel.client"), bufferingPolicy: AsyncStream<[PanelUpdate]>.Continuation.BufferingPolicy = .unbounded
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        (updates, continuation) = AsyncStream.makeStream(of: [PanelUpdate].self, bufferingPolicy: bufferingPolicy)
        state = NIOLockedValueBox(State(walker: EventLogWalker(
            start: configuration.eventLogStart, recordsPerBatch: configuration.maximumEventsPerBatch)))
    }

    /// The latest known panel state.
    public var snapshot: PanelSnapshot {
        state.withLockedValue { $0.snapshot }
    }

    /// Malformed or unexpected frames seen so far (each also reported as `.protocolIssue`).
    public var protocolIssueCount: Int {
        state.withLockedValue { $0.issues }
    }

    public func run() async throws {
        defer { continuation.finish() }
        try await withGracefulShutdownHandler {
            try await connectLoop()
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Closes the link and stops reconnecting; `run()` returns soon after.
    public func shutdown() {
        let channel = state.withLockedValue { state -> (any Channel)? in
            state.shuttingDown = true
            return state.channel
        }
        channel?.close(promise: nil)
    }

    /// Sends a control command with a user code and returns the panel's result code (check `isSuccess`;
    /// `meaning` says why not). Throws `SatelClientError` when there is no link or it failed meanwhile.
    public func execute(_ command: ControlCommand, code: UserCode) async throws -> ResultCode {
        let response = try await send(.control(command, code: code))
        guard case .result(let result) = response else {
            throw SatelClientError(code: .protocolViolation, message: "a control command was answered with \(response)")
        }
        return result
    }

    /// Sends any request in turn with the client's own (one request in flight) and returns the answer;
    /// an `EF` result comes back as `.result`. A request the module never answers (0x7D for a zone that is
    /// not a temperature zone) times out and drops the link, as any missing answer does.
    public func send(_ request: SatelRequest) async throws -> SatelResponse {
        guard let channel = state.withLockedValue({ $0.channel }), channel.isActive else {
            throw SatelClientError(code: .notConnected, message: "not connected to the panel")
        }
        let promise = channel.eventLoop.makePromise(of: SatelResponse.self)
        channel.writeAndFlush(CallerRequest(request: request, promise: promise)).whenFailure { _ in
            promise.fail(SatelClientError(code: .notConnected, message: "the connection closed before the request was sent"))
        }
        return try await promise.futureResult.get()
    }

    private var isShuttingDown: Bool {
        state.withLockedValue { $0.shuttingDown }
    }

    private func connectLoop() async throws {
        var failures = 0
        var attempt = 0
        while !isShuttingDown && !Task.isCancelled {
            attempt += 1
            continuation.yield([.connection(.connecting(attempt: attempt))])
            let (error, synchronized) = await connectOnce()
            if isShuttingDown || Task.isCancelled { break }
            failures = synchronized ? 1 : failures + 1
            guard configuration.reconnect else {
                continuation.yield([.connection(.disconnected(error, retryIn: nil))])
                return
            }
            let delay = configuration.backoff.delay(
                afterFailures: failures, busy: error.code == .moduleBusy, unit: Double.random(in: 0...1))
            logger.info("panel link down", metadata: ["panel": "\(configuration.host):\(configuration.port)", "reason": "\(error)", "retryIn": "\(delay)"])
            continuation.yield([.connection(.disconnected(error, retryIn: delay))])
            try await sleepUnlessShuttingDown(seconds: delay)
        }
        continuation.yield([.connection(.disconnected(SatelClientError(code: .shuttingDown, message: "client stopped"), retryIn: nil))])
    }

    /// One connection's life: returns why it ended and whether it got as far as a full read.
    private func connectOnce() async -> (SatelClientError, Bool) {
        let (stateMachine, integrationKey) = state.withLockedValue { state in
            (ConnectionStateMachine(
                configuration: .init(
                    requestTimeout: configuration.requestTimeout, pollInterval: configuration.pollInterval,
                    followEventLog: configuration.followEventLog, watchedCommands: configuration.watchedCommands,
                    watchedTroubles: configuration.watchedTroubles, encrypted: configuration.integrationKey != nil,
                    firstPollDelay: .nanoseconds(Int64.random(in: 1...max(1, configuration.pollInterval.nanoseconds))),
                    mode: configuration.mode, keepaliveInterval: configuration.keepaliveInterval,
                    firstKeepaliveDelay: .nanoseconds(Int64.random(in: 1...max(1, configuration.keepaliveInterval.nanoseconds)))),
                tracker: state.tracker, walker: state.walker), configuration.integrationKey.map(IntegrationKey.init))
        }
        let synchronized = NIOLockedValueBox(false)
        let outcome = NIOLockedValueBox<SatelClientError?>(nil)
        let report: @Sendable ([PanelUpdate], PanelSnapshot) -> Void = { [continuation, state] updates, snapshot in
            state.withLockedValue { state in
                state.snapshot = snapshot
                state.issues += updates.count { if case .protocolIssue = $0 { true } else { false } }
            }
            if updates.contains(where: { if case .connection(.synchronized) = $0 { true } else { false } }) {
                synchronized.withLockedValue { $0 = true }
            }
            continuation.yield(updates)
        }
        let finished: @Sendable (SatelClientError?, PanelStateTracker, EventLogWalker) -> Void = { [state] error, tracker, walker in
            outcome.withLockedValue { $0 = error }
            state.withLockedValue { state in
                state.tracker = tracker
                state.walker = walker
                state.snapshot = tracker.snapshot
            }
        }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(configuration.connectTimeout)
                // A TCP-level option: `.socketOption(.tcp_nodelay)` sets SO_DEBUG (the same number at
                // SOL_SOCKET), which only root may, so a worker running as its image's user could not connect.
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(BusyBannerSniffer())
                        if let integrationKey {
                            try sync.addHandler(IntegrationEncryptionHandler(key: integrationKey, role: .client))
                        }
                        try sync.addHandler(ByteToMessageHandler(SatelFrameDecoder()))
                        try sync.addHandler(MessageToByteHandler(SatelFrameEncoder()))
                        try sync.addHandler(SatelClientChannelHandler(stateMachine: stateMachine, report: report, finished: finished))
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            return (SatelClientError(code: .unreachable, message: "cannot connect to \(configuration.host):\(configuration.port): \(error)"), false)
        }
        let closeNow = state.withLockedValue { state -> Bool in
            state.channel = channel
            return state.shuttingDown
        }
        if closeNow { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
        state.withLockedValue { $0.channel = nil }
        let error = outcome.withLockedValue { $0 }
            ?? SatelClientError(code: .connectionClosed, message: "the module closed the connection")
        return (error, synchronized.withLockedValue { $0 })
    }

    private func sleepUnlessShuttingDown(seconds: Double) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline && !isShuttingDown {
            try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }
}
