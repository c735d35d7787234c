import Database
import Foundation
import LocalStack
import Logging
import MigrationSupport
import ServiceLifecycle

/// What `stam up` runs: starts the environment's services natively on loopback, keeps them up until
/// SIGINT/SIGTERM, then stops them in reverse order. For now the environment is the database: a private
/// PostgreSQL 15, migrated; the other services of the topology join as their issues land.
struct LocalStackSupervisor: Service {
    let projectRoot: String
    let environment: String
    let logger: Logger
    /// Stop right after start-up (used by scripts and tests that only need the migrated database).
    let exitWhenReady: Bool

    func run() async throws {
        let paths = LocalStackPaths(projectRoot: projectRoot)
        try FileManager.default.createDirectory(atPath: paths.root, withIntermediateDirectories: true)
        try String(getpid()).write(toFile: paths.supervisorPID, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: paths.supervisorPID) }

        let postgres = PostgresServer(directory: paths.postgres, port: try FreePort.find())
        logger.info("starting PostgreSQL 15", metadata: ["dir": "\(postgres.directory)", "port": "\(postgres.port)"])
        try await postgres.start()
        defer { postgres.stop() }

        let password = try paths.secret("postgres_password")
        try postgres.ensureDatabase("stam", owner: "app", password: password)
        let url = "postgresql://app@127.0.0.1:\(postgres.port)/stam"
        let configuration = try DatabaseConfiguration(url: url, passwordFile: "\(paths.secrets)/postgres_password")
        let report = try await MigrationRunner(configuration: configuration, logger: logger)
            .run(directory: try MigrationDirectory(path: "\(projectRoot)/migrations"))
        try """
            DATABASE_URL=\(url)
            STAM_SECRETS_DIR=\(paths.secrets)
            """.write(toFile: paths.environmentFile, atomically: true, encoding: .utf8)

        print("""

            stam \(environment) stack is up
              PostgreSQL 15  \(url)  (password in \(paths.secrets)/postgres_password)
              migrations     \(report.applied.count) applied now, \(report.alreadyApplied.count) already applied
              environment    source \(paths.environmentFile) to use it from a shell

            """)
        print(try postgres.superuserSQL(
            "SELECT rpad(table_name, 22) || ' ' || count(*) || ' columns' FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name",
            database: "stam"))
        if exitWhenReady { return }
        print("Press Ctrl-C to stop.")
        try await gracefulShutdown()
        logger.info("stopping the local stack")
    }
}
