import Database
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import Satel
import ServiceLifecycle
import StamCore

/// Executes requested commands on the panels this worker owns. The `commands` row is the truth; the
/// `worker.commands` queue only wakes the executor early.
///
/// Routing: a command may be delivered to any worker. The owner's executor sweeps PostgreSQL for requested
/// commands of the panels it owns (when woken by the queue or a panel coming online, and every
/// `commandSweepInterval`), so a command delivered to a non-owner waits at most one sweep; nothing needs to
/// know who owns what, and a worker dying between delivery and execution loses nothing.
///
/// At most once on the panel: `requested -> sent` is one conditional UPDATE committed before the panel is
/// asked, so two sweeps (or two workers across a handover) cannot both send it. A worker that dies after
/// `sent` leaves the row `sent` (the outcome is unknown; the panel's event log tells the operator what
/// happened). A command past `expires_at` is marked `expired` by any worker and never sent.
///
/// Fencing: the claim (`requested -> sent`) and the result hold the panel's fencing token (`PanelFencing.hold`),
/// so a worker whose lease has passed to another (a paused process that has not noticed yet) neither sends a
/// command to a panel it no longer owns nor writes a result over the new owner's. Expiry needs no token: it
/// and the claim are conditional UPDATEs on opposite sides of `expires_at`, so at most one of them changes a row.
final class CommandExecutor: Sendable {
    private let client: PostgresClient
    private let repositories: Repositories
    private let outbox: OutboxNotifier
    private let metrics: WorkerMetrics
    private let sessions: @Sendable () -> [UUID: PanelSession]
    private let interval: Duration
    /// Each database step of a command is bounded (`DatabaseDeadline`): a database that went silent must not hold
    /// the executor, nor a graceful shutdown behind it.
    private let databaseTimeout: Duration
    /// The executor asks PostgreSQL every `interval` whatever its panels do, so it is the worker's probe of the
    /// database: failing for this long, the worker gives all its panels up (see `run`).
    private let databaseOutageLimit: Duration
    /// How long after its expiry a `sent` command without a result is given up as "outcome unknown": longer than
    /// a panel answer plus the result's write can take.
    private let unknownOutcomeGrace: Duration
    private let logger: Logger
    /// Set by the command queue and by panels coming online; the sweep loop waits on it between sweeps.
    private let wakeUp = WakeUpSignal()

    init(client: PostgresClient, repositories: Repositories, outbox: OutboxNotifier, metrics: WorkerMetrics, interval: Duration,
         databaseTimeout: Duration, databaseOutageLimit: Duration, unknownOutcomeGrace: Duration, logger: Logger,
         sessions: @escaping @Sendable () -> [UUID: PanelSession]) {
        self.databaseTimeout = databaseTimeout
        self.databaseOutageLimit = databaseOutageLimit
        self.unknownOutcomeGrace = unknownOutcomeGrace
        self.client = client
        self.repositories = repositories
        self.outbox = outbox
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
        self.sessions = sessions
    }

    func wake() { wakeUp.signal() }

    /// Sweeps until shut down. A worker cut off from PostgreSQL whose panels are quiet writes nothing, so its
    /// sessions never notice the outage and keep their leases, while the commands of their panels wait for it
    /// until they expire. The sweep fails instead: failing for `databaseOutageLimit`, it gives every panel up, and
    /// a worker that reaches the database takes them and runs their commands.
    func run() async {
        var failingSince: ContinuousClock.Instant?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await expireOverdue()
                try await sweep()
                failingSince = nil
            } catch {
                logger.warning("command sweep failed", metadata: ["error": "\(error)"])
                let now = ContinuousClock.now
                let since = failingSince ?? now
                failingSince = since
                if now - since >= databaseOutageLimit, !Task.isShuttingDownGracefully {
                    let owned = sessions()
                    logger.error("the database has been unreachable too long; giving every panel to another worker",
                                 metadata: ["failing_for": "\(now - since)", "panels": "\(owned.count)"])
                    for session in owned.values { await session.relinquish() }
                    failingSince = nil
                }
            }
            // Woken at once by a command or a panel coming online (it was a flag read every 20 ms: up to 20 ms
            // added to every command), by a graceful shutdown, or after `interval`.
            await withGracefulShutdownHandler {
                await wakeUp.wait(upTo: interval)
            } onGracefulShutdown: { [wakeUp] in
                wakeUp.signal()
            }
        }
    }

    /// Fails every requested command past its expiry, whoever owns its panel (an offline panel's commands
    /// must not wait for it and then run late); and every command left `sent` past its expiry plus
    /// `unknownOutcomeGrace` (its worker died, was fenced out or lost the database between sending it and recording
    /// the panel's answer) as "outcome unknown", so no command stays `sent` for ever. Both in database time.
    func expireOverdue() async throws {
        let (client, logger, outbox) = (self.client, self.logger, self.outbox)
        let graceSeconds = Double(unknownOutcomeGrace.components.seconds) + Double(unknownOutcomeGrace.components.attoseconds) / 1e18
        let ended = try await DatabaseDeadline.run("expiring commands", timeout: databaseTimeout) { () -> [(CommandStatus, String)] in
            try await OutboxTransaction.run(on: client, notifier: outbox, logger: logger) { transaction -> [(CommandStatus, String)] in
                let connection = transaction.connection
                let rows = try await connection.query("""
                    UPDATE commands
                    SET status = CASE WHEN status = \(CommandStatus.requested.rawValue) THEN \(CommandStatus.expired.rawValue)
                                      ELSE \(CommandStatus.failed.rawValue) END,
                        completed_at = now(),
                        result_text = CASE WHEN status = \(CommandStatus.requested.rawValue) THEN \(Self.expiredText)
                                           ELSE \(Self.unknownOutcomeText) END
                    WHERE (status = \(CommandStatus.requested.rawValue) AND expires_at <= now())
                       OR (status = \(CommandStatus.sent.rawValue) AND expires_at + make_interval(secs => \(graceSeconds)) <= now())
                    RETURNING id, panel_id, status, result_text, (SELECT site_id FROM panels WHERE panels.id = commands.panel_id)
                    """, logger: logger)
                var ended: [(UUID, UUID, String, String, UUID?)] = []
                for try await row in rows.decode((UUID, UUID, String, String, UUID?).self) { ended.append(row) }
                var outcomes: [(CommandStatus, String)] = []
                for (id, panelID, rawStatus, text, siteID) in ended {
                    let status = CommandStatus(rawValue: rawStatus) ?? .failed
                    try await transaction.enqueue(CommandCompleted(commandId: id, panelId: panelID, siteId: siteID, status: status, resultCode: nil,
                                                                   resultText: text, at: Date()))
                    outcomes.append((status, id.uuidString))
                }
                return outcomes
            }
        }
        // Counted and announced once committed, not when written.
        guard !ended.isEmpty else { return }
        for (status, id) in ended {
            metrics.command(status.rawValue)
            if status == .failed {
                logger.warning("command sent but no result recorded before its expiry: outcome unknown", metadata: ["command": "\(id)"])
            }
        }
        logger.info("commands expired", metadata: ["count": "\(ended.count)"])
    }

    static let expiredText = "expired before the panel could execute it"
    static let unknownOutcomeText = "outcome unknown: sent to the panel, but no result was recorded before it expired"

    /// Runs the requested commands of owned, connected panels: panels in parallel, each panel's in order.
    func sweep() async throws {
        let ready = sessions().filter { $0.value.isConnected }
        guard !ready.isEmpty else { return }
        let (client, logger, panels) = (self.client, self.logger, Array(ready.keys))
        let byPanel = try await DatabaseDeadline.run("finding requested commands", timeout: databaseTimeout) { () -> [UUID: [UUID]] in
            let rows = try await client.query("""
                SELECT id, panel_id FROM commands
                WHERE status = \(CommandStatus.requested.rawValue) AND expires_at > now() AND panel_id = ANY(\(panels))
                ORDER BY requested_at
                """, logger: logger)
            var byPanel: [UUID: [UUID]] = [:]
            for try await (id, panelID) in rows.decode((UUID, UUID).self) { byPanel[panelID, default: []].append(id) }
            return byPanel
        }
        await withTaskGroup(of: Void.self) { group in
            for (panelID, ids) in byPanel {
                guard let session = ready[panelID] else { continue }
                group.addTask {
                    for id in ids {
                        do {
                            try await self.execute(id, on: session)
                        } catch {
                            self.logger.warning("command failed to run", metadata: ["command": "\(id)", "error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    private func execute(_ commandID: UUID, on session: PanelSession) async throws {
        // Decrypted here, used once, never logged (UserCode's description masks the digits).
        let (client, repositories, logger, timeout, outbox) = (self.client, self.repositories, self.logger, databaseTimeout, self.outbox)
        let panel = try await DatabaseDeadline.run("loading the panel", timeout: timeout) {
            try await repositories.panels.find(id: session.panelID)
        }
        let claimed = try await DatabaseDeadline.run("claiming the command", timeout: timeout) {
            try await client.withTransaction(logger: logger) { connection -> Command? in
            guard try await PanelFencing.hold(panelID: session.panelID, fencingToken: session.fencingToken, on: connection, logger: logger) else {
                logger.notice("command not claimed: the panel's lease has passed to another worker", metadata: ["command": "\(commandID)"])
                return nil
            }
            let rows = try await connection.query("""
                UPDATE commands SET status = \(CommandStatus.sent.rawValue)
                WHERE id = \(commandID) AND status = \(CommandStatus.requested.rawValue) AND expires_at > now()
                RETURNING id
                """, logger: logger)
            var updated = false
            for try await _ in rows.decode(UUID.self) { updated = true }
            guard updated else { return nil }
            return try await repositories.commands.find(id: commandID, on: connection)
            }
        }
        guard let command = claimed else { return }
        let status: CommandStatus
        var resultCode: Int?
        var resultText: String
        do {
            guard let secret = panel?.userCode, let code = UserCode(secret.revealed) else {
                throw WorkerError(.invalidCommand, "the panel has no usable user code")
            }
            let control = try PanelCommandTranslator.controlCommand(kind: command.kind, armMode: command.armMode, targets: command.targets)
            let result = try await session.execute(control, code: code)
            resultCode = Int(result.rawValue)
            resultText = result.meaning
            status = result.isSuccess ? .succeeded : .failed
        } catch let error as WorkerError {
            status = .failed
            resultText = error.message
        } catch {
            // The request may or may not have reached the panel; the operator sees why it is uncertain.
            status = .failed
            resultText = "no answer from the panel: \(error)"
        }
        let text = String(resultText.prefix(200))
        let (finalStatus, finalCode) = (status, resultCode)
        // Not recorded in time (or not at all): the row stays `sent` and `expireOverdue` fails it as "outcome unknown".
        let recorded = try await DatabaseDeadline.run("recording the command's result", timeout: timeout) {
            try await OutboxTransaction.run(on: client, notifier: outbox, logger: logger) { transaction -> Bool in
            let (connection, status, resultCode) = (transaction.connection, finalStatus, finalCode)
            // Only the lease that sent it records the result; a fenced-out worker leaves the row `sent`.
            guard try await PanelFencing.hold(panelID: session.panelID, fencingToken: session.fencingToken, on: connection, logger: logger) else {
                return false
            }
            try await connection.query("""
                UPDATE commands SET status = \(status.rawValue), result_code = \(resultCode), result_text = \(text), completed_at = now()
                WHERE id = \(commandID) AND status = \(CommandStatus.sent.rawValue)
                """, logger: logger)
            try await transaction.enqueue(CommandCompleted(commandId: commandID, panelId: command.panelId, siteId: panel?.siteId, status: status,
                                                           resultCode: resultCode, resultText: text, at: Date()))
            return true
            }
        }
        guard recorded else {
            logger.warning("command result not recorded: the panel's lease passed to another worker while it ran",
                           metadata: ["command": "\(commandID)", "status": "\(status.rawValue)"])
            return
        }
        metrics.command(status.rawValue)
        logger.info("command executed", metadata: [
            "command": "\(commandID)", "kind": "\(command.kind.rawValue)", "status": "\(status.rawValue)",
            "result_code": "\(resultCode.map(String.init) ?? "-")",
        ])
    }
}
