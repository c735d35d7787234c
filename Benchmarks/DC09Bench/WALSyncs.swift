import Logging
import PostgresNIO

/// PostgreSQL's WAL flushes so far and the milliseconds they took (`pg_stat_wal`, with `track_wal_io_timing`): every
/// ACK waits for its commit's flush, and on a disk shared with other work (another test's PostgreSQL) the flush is
/// where the wait grows.
struct WALSyncs {
    var count = 0
    var milliseconds = 0.0

    static func read(_ stack: DC09BenchStack, logger: Logger) async throws -> WALSyncs {
        let connection = try await stack.connect(logger)
        do {
            var result = WALSyncs()
            let rows = try await connection.query("SELECT wal_sync::int8, wal_sync_time::float8 FROM pg_stat_wal", logger: logger)
            for try await (count, milliseconds) in rows.decode((Int64, Double).self) { result = WALSyncs(count: Int(count), milliseconds: milliseconds) }
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Mean milliseconds per flush since `earlier`, nil without one.
    func meanMilliseconds(since earlier: WALSyncs) -> Double? {
        count > earlier.count ? (milliseconds - earlier.milliseconds) / Double(count - earlier.count) : nil
    }
}
