import ArgumentParser
import Database
import Foundation
import Logging
import MigrationSupport

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run from several processes at once).")

    @Option(help: "postgresql://user@host:port/database (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "File holding the database password (default: <secrets>/postgres_password).")
    var passwordFile: String?

    @Option(help: "Directory of NNNN_name.sql files and manifest.sha256.")
    var migrations = "migrations"

    func run() async throws {
        let logger = Logger(label: "stam.migrate")
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        let passwordPath = passwordFile ?? SecretFiles.path("postgres_password")
        let configuration = try DatabaseConfiguration(
            url: url, passwordFile: FileManager.default.fileExists(atPath: passwordPath) ? passwordPath : nil)
        do {
            let report = try await MigrationRunner(configuration: configuration, logger: logger)
                .run(directory: try MigrationDirectory(path: migrations))
            print("migrate: \(report.applied.count) applied (\(report.applied.joined(separator: ", "))), \(report.alreadyApplied.count) already applied, on \(configuration.redactedURL)")
        } catch let error as MigrationRunner.RefusedError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        } catch let error as MigrationFileError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
