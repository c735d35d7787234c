import Alarms
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Path supervision of DC-09 accounts: a path (`dc09_paths`: one receiver an account sends to) silent for longer than
/// its account's `link_test_period_s` raises one `trouble` alarm for the account's panel, and the path's next frame
/// restores it (`AlarmRestored`, a timeline line; the alarm stays for an operator to close). A communicator whose
/// primary path fails keeps reporting over its secondary, so the panel's own no-signal supervision sees nothing: this
/// is what tells the operator that one of the two is gone. Silence on every path is the panel's `no_signal` as well
/// (`SignalSupervisor`, on `signal_period_s`).
///
/// Every receiver runs one, as every backend runs a `SignalSupervisor`: each pass claims the paths it changes
/// `FOR UPDATE SKIP LOCKED`, and the path, the alarm and its events commit together. Crash at any step: before the
/// commit nothing happened and the next pass (of this receiver or the other) does it; after, all is there.
public struct DC09PathSupervisor: Service {
    let client: PostgresClient
    let repositories: Repositories
    let notifier: OutboxNotifier?
    let interval: Duration
    let logger: Logger
    let raiser: AlarmRaiser

    static let batch = 200

    public init(client: PostgresClient, repositories: Repositories, notifier: OutboxNotifier?, interval: Duration = .seconds(5), logger: Logger) {
        self.client = client
        self.repositories = repositories
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
        raiser = AlarmRaiser(repositories: repositories)
    }

    public func run() async throws {
        await PeriodicPass.run(every: interval, logger: logger, failure: "DC-09 path supervision pass failed") {
            let pass = try await superviseDue()
            return pass.failed == Self.batch || pass.restored == Self.batch
        }
    }

    public struct Pass: Sendable, Equatable {
        public var failed = 0
        public var restored = 0

        public init(failed: Int = 0, restored: Int = 0) {
            self.failed = failed
            self.restored = restored
        }
    }

    struct SilentPath {
        var id: UUID
        var receiver: String
        var account: String
        var periodSeconds: Int
        var lastSignal: Date
        var panelID: UUID
        var siteID: UUID
        var panelName: String
    }

    /// One pass at `asOf` (nil: the database's time). Tests pass a later `asOf` instead of waiting out a period.
    @discardableResult
    public func superviseDue(asOf: Date? = nil) async throws -> Pass {
        var pass = Pass()
        pass.failed = try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let silent = try await Self.claimSilent(asOf: asOf, on: transaction.connection, logger: logger)
            for path in silent {
                let since = ISO8601DateFormatter().string(from: path.lastSignal)
                let title = "DC-09 path failure - \(path.panelName): nothing from account \(path.account) via \(path.receiver) for over \(path.periodSeconds) s (last \(since))"
                let alarm = try await raiser.raise(
                    .init(siteID: path.siteID, panelID: path.panelID, kind: .trouble, priority: AlarmKind.trouble.defaultPriority,
                          title: String(title.prefix(200))),
                    correlation: .none, in: transaction).alarmID
                _ = try await repositories.dc09Paths.update(id: path.id, set: [.failureAlarmId(alarm)], on: transaction.connection)
            }
            return silent.count
        }
        pass.restored = try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let signalling = try await Self.claimSignalling(asOf: asOf, on: transaction.connection, logger: logger)
            for path in signalling {
                _ = try await repositories.dc09Paths.update(id: path.id, set: [.failureAlarmId(nil)], on: transaction.connection)
                try await raiser.restore(alarm: path.alarm, siteID: path.siteID, panelID: path.panelID, text: "DC-09 path via \(path.receiver) restored",
                                         at: path.lastSignal, in: transaction)
            }
            return signalling.count
        }
        if pass.failed + pass.restored > 0 {
            logger.notice("DC-09 path supervision", metadata: ["failed": "\(pass.failed)", "restored": "\(pass.restored)"])
        }
        return pass
    }

    /// Paths of enabled, supervised accounts silent past the period with no failure recorded, locked. Hand SQL: a
    /// per-row interval over a join and a `SKIP LOCKED` claim no repository method says.
    static func claimSilent(asOf: Date?, on connection: PostgresConnection, logger: Logger) async throws -> [SilentPath] {
        let rows = try await connection.query("""
            SELECT p.id, p.receiver_instance, a.account, a.link_test_period_s, p.last_signal_at, n.id, n.site_id, n.name
            FROM dc09_paths p JOIN dc09_accounts a ON a.id = p.account_id JOIN panels n ON n.id = a.panel_id
            WHERE a.enabled AND a.link_test_period_s IS NOT NULL AND p.failure_alarm_id IS NULL
              AND p.last_signal_at <= coalesce(\(asOf), now()) - make_interval(secs => a.link_test_period_s)
            ORDER BY p.id
            LIMIT \(unescaped: String(batch))
            FOR UPDATE OF p SKIP LOCKED
            """, logger: logger)
        var paths: [SilentPath] = []
        for try await (id, receiver, account, period, last, panel, site, name) in rows.decode((UUID, String, String, Int, Date, UUID, UUID, String).self) {
            paths.append(SilentPath(id: id, receiver: receiver, account: account, periodSeconds: period, lastSignal: last, panelID: panel,
                                    siteID: site, panelName: name))
        }
        return paths
    }

    /// Paths with a failure recorded that have signalled within the period again (or whose account is no longer
    /// supervised), locked.
    static func claimSignalling(asOf: Date?, on connection: PostgresConnection, logger: Logger) async throws
        -> [(id: UUID, alarm: UUID, receiver: String, lastSignal: Date, panelID: UUID, siteID: UUID)] {
        let rows = try await connection.query("""
            SELECT p.id, p.failure_alarm_id, p.receiver_instance, p.last_signal_at, n.id, n.site_id
            FROM dc09_paths p JOIN dc09_accounts a ON a.id = p.account_id JOIN panels n ON n.id = a.panel_id
            WHERE p.failure_alarm_id IS NOT NULL
              AND (a.link_test_period_s IS NULL
                   OR p.last_signal_at > coalesce(\(asOf), now()) - make_interval(secs => a.link_test_period_s))
            ORDER BY p.id
            LIMIT \(unescaped: String(batch))
            FOR UPDATE OF p SKIP LOCKED
            """, logger: logger)
        var paths: [(id: UUID, alarm: UUID, receiver: String, lastSignal: Date, panelID: UUID, siteID: UUID)] = []
        for try await (id, alarm, receiver, last, panel, site) in rows.decode((UUID, UUID, String, Date, UUID, UUID).self) {
            paths.append((id, alarm, receiver, last, panel, site))
        }
        return paths
    }
}
