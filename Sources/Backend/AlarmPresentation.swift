import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import StamCore
import Synchronization

/// Records when each alarm was first pushed to a console (`alarms.presented_at`, a handling KPI: stored ->
/// presented): the live feed tells it after an `AlarmRaised` reached at least one console of this backend, and it
/// writes the times in batches, keeping only the first (another backend, or a later push, may come second).
///
/// Crash: times not yet written are lost and the alarm's `presented_at` stays empty (the KPI report counts it as
/// not presented); nothing else depends on it.
public final class AlarmPresentation: Service, Sendable {
    let client: PostgresClient
    let logger: Logger
    let interval: Duration
    private let pending = Mutex<[UUID: Date]>([:])

    public init(client: PostgresClient, interval: Duration = .milliseconds(500), logger: Logger) {
        self.client = client
        self.interval = interval
        self.logger = logger
    }

    /// `event` reached `consoles` consoles now.
    func delivered(_ event: LiveEvent, to consoles: Int, at time: Date = Date()) {
        guard consoles > 0, event.name == "AlarmRaised", case .object(let payload) = event.payload,
              case .string(let text)? = payload["alarm_id"], let id = UUID(uuidString: text) else { return }
        pending.withLock { batch in if batch[id] == nil { batch[id] = time } }
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            try? await flush()
        }
        try? await flush()
    }

    /// Writes what is pending; on a failure keeps it for the next try.
    func flush() async throws {
        let batch = pending.withLock { batch in defer { batch.removeAll() } ; return batch }
        guard !batch.isEmpty else { return }
        let ids = Array(batch.keys)
        let times = ids.map { batch[$0]! }
        do {
            // Hand SQL: a conditional batch update (only where still empty) no repository method says.
            try await client.query("""
                UPDATE alarms a SET presented_at = v.at
                FROM unnest(\(ids)::uuid[], \(times)::timestamptz[]) AS v(id, at)
                WHERE a.id = v.id AND a.presented_at IS NULL
                """, logger: logger)
        } catch {
            pending.withLock { current in current.merge(batch) { newer, _ in newer } }
            logger.warning("recording when alarms reached a console failed; retrying", metadata: ["alarms": "\(ids.count)", "error": "\(error)"])
            throw error
        }
    }
}
