import Database
import Foundation
import Generated
import Leases
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import Redis
import Satel

/// One owned panel: claims the row, connects a `SatelClient`, and turns every update into one committed
/// transaction, then the live state. Lives from `acquired` to `lost`; `stop()` closes the panel link at once.
///
/// Crash semantics, step by step:
/// - claim refused (a newer token on the row, e.g. Redis lost its counter): the fence is raised above the
///   row's token and the lock released, so the next grant is usable; this session never connects.
/// - panel read, then the process dies before commit: nothing of the batch is in PostgreSQL and the cursor
///   did not move; the next owner starts the client after the committed cursor and reads the same records.
/// - commit fails (database error): the client is shut down and rebuilt from the database, so the records
///   are read again (the client's own walker had moved on). Rows already committed by an earlier attempt
///   are skipped on `(panel_id, log_index)` with the same bytes.
/// - commit refused by the fencing check: another worker owns the panel; the link is closed and nothing
///   more is written. The lease manager reports `lost` when its renewal is refused.
/// - commit done, Redis write fails: the live state is stale until the next write or the refresher.
/// - the database unreachable or silent: every claim, load and commit gives up after `databaseWriteTimeout`
///   (`DatabaseDeadline`) and the session starts over; failing for `databaseOutageLimit` in a row, it gives the
///   panel's lease up (`relinquish`), so a worker that reaches the database watches the panel instead of this one
///   renewing a lease it cannot use.
final class PanelSession: Sendable {

    let panelID: UUID
    let fencingToken: Int64
    private let context: WorkerContext
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var stopped = false
        var client: SatelClient?
        var mirror: PanelMirror?
        var owned: OwnedPanel?
        var connected = false
        var everConnected = false
        /// When the database started failing this session (nil while it works).
        var failingSince: ContinuousClock.Instant?
        var mode = StateDeliveryMode.auto
    }

    init(panelID: UUID, fencingToken: Int64, context: WorkerContext) {
        self.panelID = panelID
        self.fencingToken = fencingToken
        self.context = context
        var logger = context.logger
        logger[metadataKey: "panel"] = "\(panelID)"
        logger[metadataKey: "fencing_token"] = "\(fencingToken)"
        self.logger = logger
    }

    /// Closes the panel link first (the lease is ending), then lets `run()` return.
    func stop() {
        let client = state.withLockedValue { state -> SatelClient? in
            state.stopped = true
            return state.client
        }
        client?.shutdown()
    }

    var isStopped: Bool { state.withLockedValue { $0.stopped } }

    /// True while the integration link is synchronized (commands can be sent).
    var isConnected: Bool { state.withLockedValue { $0.connected && !$0.stopped } }

    /// Sends a control command over this session's link.
    func execute(_ command: ControlCommand, code: UserCode) async throws -> ResultCode {
        guard let client = state.withLockedValue({ $0.stopped ? nil : $0.client }) else {
            throw SatelClientError(code: .notConnected, message: "the panel session is stopped")
        }
        return try await client.execute(command, code: code)
    }

    /// Rewrites `panel:<id>:state` when it is gone (Redis emptied or restarted).
    func refreshLiveStateIfMissing() async {
        guard let current = state.withLockedValue({ state -> (PanelMirror, OwnedPanel)? in
            guard !state.stopped, let mirror = state.mirror, let owned = state.owned else { return nil }
            return (mirror, owned)
        }) else { return }
        let (mirror, owned) = current
        do {
            if try await !context.liveState.exists(panelID) {
                logger.info("live state missing in Redis; rebuilding it")
                try await context.liveState.write(mirror, panel: owned)
            }
        } catch {
            logger.debug("live state check failed", metadata: ["error": "\(error)"])
        }
    }

    func run() async {
        while !isStopped && !Task.isCancelled {
            do {
                try await runOnce()
            } catch {
                switch WorkerError.unwrapping(error) {
                case let error as WorkerError where error.code == .fencingRefused:
                    context.metrics.fencingRefused()
                    logger.warning("write refused by the fencing check; closing the panel link", metadata: ["error": "\(error)"])
                    stop()
                case let error as WorkerError where error.code == .panelNotFound || error.code == .noModuleAddress:
                    logger.warning("panel row is gone or has no module address; not watching it", metadata: ["error": "\(error)"])
                    stop()
                case let error:
                    if !isStopped {
                        context.metrics.commitFailed()
                        logger.warning("panel transaction failed; re-reading from the committed cursor", metadata: ["error": "\(String(reflecting: error).prefix(300))"])
                        await giveUpAfterALongOutage()
                    }
                }
            }
            setConnected(false)
            // A short pause so a database outage is not a busy loop; the events wait in the panel's log.
            var waited = Duration.zero
            while !isStopped && waited < context.configuration.retryDelay {
                try? await Task.sleep(for: .milliseconds(50))
                waited += .milliseconds(50)
            }
        }
        setConnected(false)
    }

    /// Counts this failure into the current outage; an outage past `databaseOutageLimit` gives the lease up.
    private func giveUpAfterALongOutage() async {
        let now = ContinuousClock.now
        let since = state.withLockedValue { state -> ContinuousClock.Instant in
            if state.failingSince == nil { state.failingSince = now }
            return state.failingSince!
        }
        guard now - since >= context.configuration.databaseOutageLimit else { return }
        logger.error("the database has been unreachable for this panel too long; giving the panel to another worker",
                     metadata: ["failing_for": "\(now - since)"])
        await relinquish()
    }

    /// Closes the panel link and gives the lease up, so another worker takes the panel.
    func relinquish() async {
        stop()
        await context.relinquish(panelID, fencingToken)
    }

    private func databaseAnswered() { state.withLockedValue { $0.failingSince = nil } }

    private func runOnce() async throws {
        let timeout = context.configuration.databaseWriteTimeout
        guard try await DatabaseDeadline.run("the panel's claim", timeout: timeout, { try await self.claim() }) else { return stop() }
        let record = try await DatabaseDeadline.run("loading the panel", timeout: timeout) { [context, panelID] in
            try await context.panels.load(panelID: panelID)
        }
        databaseAnswered()
        let owned = OwnedPanel(id: panelID, siteID: record.siteID, fencingToken: fencingToken, workerID: context.configuration.workerID)
        var configuration = SatelClientConfiguration(
            host: record.host, port: record.port, integrationKey: record.integrationKey,
            pollInterval: context.configuration.pollInterval ?? .milliseconds(Int64(max(50, record.pollIntervalMilliseconds))),
            mode: context.configuration.stateDelivery ?? Self.deliveryMode(record.mode),
            // A quiet module that pushes is heard only at keepalives: often enough that its silence shows well within
            // the panel's signal period (the heartbeat touches `last_seen_at` while the link is up).
            keepaliveInterval: min(context.configuration.keepaliveInterval, .milliseconds(Int64(max(1, record.signalPeriodSeconds)) * 1000 / 3)),
            // Never read: the newest record is the starting point, committed at once so a cursor exists
            // from the first transaction on (the rest: `PanelRecord.eventLogStart`).
            eventLogStart: record.eventLogStart,
            // One panel transaction per batch: small enough to commit well within `databaseWriteTimeout`.
            maximumEventsPerBatch: 200)
        if record.cursorRecordMissing {
            logger.error("the stored event-log cursor names no stored record; reading every record after its index",
                         metadata: ["log_index": "\(record.storedCursorIndex ?? -1)"])
        }
        configuration.requestTimeout = context.configuration.panelRequestTimeout
        configuration.backoff = context.configuration.panelBackoff
        let client = SatelClient(configuration: configuration, logger: logger)
        let startNow = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }
            state.client = client
            state.mode = configuration.mode
            state.mirror = record.mirror
            state.owned = owned
            return true
        }
        guard startNow else { return }
        var mirror = record.mirror
        var needsBaseline = record.logNeverRead
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await client.run() }
            do {
                for await report in client.updates {
                    let received = ContinuousClock.now
                    let now = Date()
                    // A report's updates in one transaction where they merge (a pushed change and its walk's records).
                    var pending: PanelChanges?
                    for update in report {
                        let mirrorBefore = mirror
                        var changes = mirror.handle(update, at: now)
                        if needsBaseline {
                            switch update {
                            case .events: needsBaseline = false
                            case .connection(.synchronized):
                                // The first full read (walk included) found no record at all.
                                changes.emptyLogBaseline = true
                                needsBaseline = false
                            default: break
                            }
                        }
                        if isStopped, case .disconnected = changes.connection {
                            // Still written, with this lease's token: after a pause past the TTL the fencing
                            // check refuses it (and proves the paused worker cannot write).
                            changes.connection = .released
                        }
                        observe(update)
                        if pending?.absorb(changes) != true {
                            if let earlier = pending {
                                try await write(earlier, mirror: mirrorBefore, received: received, now: now, timeout: timeout, owned: owned)
                            }
                            pending = changes
                        }
                    }
                    if let pending {
                        try await write(pending, mirror: mirror, received: received, now: now, timeout: timeout, owned: owned)
                    }
                }
            } catch {
                client.shutdown()
                throw error
            }
            try await group.waitForAll()
        }
        state.withLockedValue { $0.client = nil }
    }

    /// Writes one transaction's changes, then the live state (the mirror as of the report being handled).
    private func write(_ changes: PanelChanges, mirror: PanelMirror, received: ContinuousClock.Instant, now: Date, timeout: Duration,
                       owned: OwnedPanel) async throws {
        if !changes.isEmpty {
            let hook = changes.logEvents.isEmpty ? nil : context.configuration.beforeEventCommit
            let outcome = try await DatabaseDeadline.run("the panel transaction", timeout: timeout) { [context, changes] in
                try await context.panels.commit(changes, for: owned, at: now, beforeCommit: hook)
            }
            databaseAnswered()
            context.metrics.raised(alarms: outcome.alarmsRaised)
            if outcome.alarmsRaised > 0 {
                logger.notice("alarm raised", metadata: ["count": "\(outcome.alarmsRaised)"])
            }
            context.metrics.observeLatency(seconds: Self.seconds(ContinuousClock.now - received))
        }
        state.withLockedValue { $0.mirror = mirror }
        if !changes.isEmpty || changes.liveStateChanged {
            do {
                try await context.liveState.write(mirror, panel: owned)
            } catch {
                logger.debug("live state write failed; the refresher retries", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Claims the row; when the row carries a newer token than this grant (Redis lost its fence counter),
    /// raises the counter above it and gives the lock back so the next grant works.
    private func claim() async throws -> Bool {
        if try await context.panels.claim(panelID: panelID, fencingToken: fencingToken, workerID: context.configuration.workerID) {
            return true
        }
        let stored = try await context.panels.storedFencingToken(panelID: panelID)
        logger.warning("claim refused: the panel row has a newer fencing token", metadata: ["stored": "\(stored ?? -1)"])
        if let stored, stored >= fencingToken {
            let id = panelID.uuidString.lowercased()
            let lease = PanelLease(panelID: id, ownerToken: context.leaseOwnerToken, keys: context.configuration.lease.keys,
                                   ttl: context.configuration.lease.ttl, safetyMargin: context.configuration.lease.safetyMargin)
            _ = try await lease.raiseFence(atLeast: stored, using: context.redis)
            try await PanelLease.release([id], ownerToken: context.leaseOwnerToken, keys: context.configuration.lease.keys,
                                         using: context.redis)
        }
        return false
    }

    private func observe(_ update: PanelUpdate) {
        switch update {
        case .connection(.synchronized):
            let (wasConnected, connectedBefore) = state.withLockedValue { state -> (Bool, Bool) in
                defer {
                    state.connected = true
                    state.everConnected = true
                }
                return (state.connected, state.everConnected)
            }
            context.metrics.panel(panelID, connected: true)
            if !wasConnected { context.metrics.connectedChanged(by: 1) }
            if connectedBefore && !wasConnected { context.metrics.reconnected() }
            context.commandsReady()
        case .connection(.disconnected):
            setConnected(false)
            context.metrics.panel(panelID, pushing: false)
        case .stateDelivery(let delivery):
            context.metrics.panel(panelID, pushing: delivery.isPushed)
            switch delivery {
            case .pushed(let commands):
                logger.info("the panel's module pushes its state changes", metadata: ["states": "\(commands.count)"])
            case .polled(.configured):
                logger.info("polling the panel, as configured")
            case .polled(let reason):
                context.metrics.pushFallback(reason.rawValue)
                // Configured `push`: someone expected this module to push, so say it louder.
                let message: Logger.Message = "the panel's module does not push its state changes; polling it instead"
                let metadata: Logger.Metadata = ["reason": "\(reason.rawValue)"]
                if state.withLockedValue({ $0.mode }) == .push { logger.warning(message, metadata: metadata) } else { logger.info(message, metadata: metadata) }
            }
        case .events(let batch):
            context.metrics.read(events: batch.events.count)
        case .protocolIssue:
            context.metrics.frameError()
        case .commandUnsupported(let command):
            // Once per connection and command (the client reports it once): the panel is read without it.
            logger.warning("the panel's module does not serve a read; carrying on without it",
                           metadata: ["command": "\(command.name)", "code": "\(String(format: "0x%02X", command.code))", "reason": "\(command.reason.rawValue)"])
            context.metrics.unsupportedCommand(command.name, reason: command.reason.rawValue)
        default:
            break
        }
    }

    static func deliveryMode(_ mode: PanelMode) -> StateDeliveryMode {
        switch mode {
        case .auto: .auto
        case .push: .push
        case .poll: .poll
        }
    }

    private func setConnected(_ connected: Bool) {
        let changed = state.withLockedValue { state -> Bool in
            defer { state.connected = connected }
            return state.connected != connected
        }
        context.metrics.panel(panelID, connected: connected)
        if changed && !connected { context.metrics.connectedChanged(by: -1) }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
