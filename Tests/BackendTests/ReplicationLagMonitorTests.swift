import Backend
import Database
import Foundation
import DevStack
import Logging
import Testing
import TestSupport

/// `pg_replication_lag_seconds` against a real streaming standby of the suite's PostgreSQL: 0 while caught
/// up, growing while replay is paused with WAL waiting, `pg_replica_up` 0 once the standby is gone.
@Suite(.postgres, .integration, .tags(.integration)) struct ReplicationLagMonitorTests {
    let logger = Logger(label: "test.replication-lag")

    @Test func lagIsZeroWhenCaughtUpGrowsWhileReplayWaitsAndTheReplicaIsReportedDown() async throws {
        let postgres = try #require(TestPostgres.current)
        let (url, passwordFile) = try postgres.freshDatabase()
        let database = String(url.split(separator: "/").last!)
        try postgres.server.superuserSQL("CREATE TABLE ticks (n int); INSERT INTO ticks VALUES (1)", database: database)
        let standby = PostgresServer(directory: "\(postgres.runDirectory)/standby-\(UUID().uuidString.prefix(8))",
                                     port: try FreePort.find())
        try standby.initializeAsStandby(of: postgres.server)
        try await standby.start()
        defer { standby.stop() }

        let replica = try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(standby.port)/\(database)", passwordFile: passwordFile)
        let metrics = BackendMetrics()
        let monitor = ReplicationLagMonitor(replica: replica, metrics: metrics, interval: .milliseconds(100), logger: logger)
        let task = Task { try await monitor.run() }
        defer { task.cancel() }

        func gauge(_ name: String) -> Double? {
            metrics.registry.emitToString().split(separator: "\n")
                .first { $0.hasPrefix("\(name) ") }
                .flatMap { Double($0.split(separator: " ")[1]) }
        }
        func waitFor(_ what: String, _ condition: () throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while try !condition() {
                guard ContinuousClock.now < deadline else { Issue.record("timed out waiting for \(what)"); return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        try await waitFor("the caught-up standby to report lag 0") { gauge("pg_replica_up") == 1 && gauge("pg_replication_lag_seconds") == 0 }

        // A replayed transaction to measure from (row 1 came with the base backup, row 2 is streamed), some
        // time passes, then replay stops while WAL keeps coming.
        try postgres.server.superuserSQL("INSERT INTO ticks VALUES (2)", database: database)
        try await waitFor("row 2 replayed") { try standby.superuserSQL("SELECT count(*) FROM ticks", database: database).hasPrefix("2") }
        try await Task.sleep(for: .milliseconds(1500))
        try standby.superuserSQL("SELECT pg_wal_replay_pause()")
        try postgres.server.superuserSQL("INSERT INTO ticks VALUES (3)", database: database)
        try await waitFor("lag of at least a second while replay is paused") { (gauge("pg_replication_lag_seconds") ?? 0) >= 1 }

        try standby.superuserSQL("SELECT pg_wal_replay_resume()")
        try await waitFor("lag back to 0 after replay resumes") { gauge("pg_replication_lag_seconds") == 0 }

        standby.stop()
        try await waitFor("the stopped replica reported down") { gauge("pg_replica_up") == 0 }
    }
}
