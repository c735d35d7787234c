import Foundation
import Logging
import PostgresNIO

/// The database side of panel leases (see docs/WORKER.md, panel leases): the fencing token of the
/// lease a worker holds is stored on the panel row, and a write from an older lease is refused. The lease
/// itself lives in Redis (`Leases`); this is what keeps a worker that lost it without noticing (a paused
/// process) from writing anyway. Column names are those of the generated `Panel` entity.
public enum PanelFencing {
    /// Records a new lease on the panel row. Returns false when the row already carries a newer token (a newer
    /// owner claimed it), the same token for another worker, or the panel does not exist: the caller must not use
    /// the lease. The same grant claiming again (its session starting over) is accepted.
    public static func claim(panelID: UUID, fencingToken: Int64, workerID: String, on connection: PostgresConnection,
                             logger: Logger) async throws -> Bool {
        let rows = try await connection.query("""
            UPDATE panels SET fencing_token = \(fencingToken), owner_worker = \(workerID), updated_at = now()
            WHERE id = \(panelID)
              AND (fencing_token < \(fencingToken) OR (fencing_token = \(fencingToken) AND owner_worker = \(workerID)))
            RETURNING 1
            """, logger: logger)
        return try await rows.decode(Int.self).reduce(0) { count, _ in count + 1 } == 1
    }

    /// The first statement of every write transaction of a lease holder: true when the lease is still the
    /// panel's current one, and then the row stays share-locked until the transaction ends, so a newer
    /// owner's `claim` waits for this transaction instead of overtaking it. False: roll back and stop.
    ///
    /// - Parameter idleTimeoutMilliseconds: also sets the transaction's `idle_in_transaction_session_timeout`
    ///   (as `SET LOCAL` would, so it works through PgBouncer's transaction pooling) in the same round trip.
    public static func hold(panelID: UUID, fencingToken: Int64, idleTimeoutMilliseconds: Int? = nil,
                            on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let timeout = idleTimeoutMilliseconds.map(String.init)
        let rows = try await connection.query("""
            SELECT CASE WHEN \(timeout)::text IS NULL THEN '' ELSE set_config('idle_in_transaction_session_timeout', \(timeout), true) END
            FROM panels WHERE id = \(panelID) AND fencing_token = \(fencingToken) FOR SHARE
            """, logger: logger)
        return try await rows.decode(String.self).reduce(0) { count, _ in count + 1 } == 1
    }
}
