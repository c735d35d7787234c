import ArgumentParser
import Database
import Foundation
import Logging
import MigrationSupport

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run from several processes at once).")

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "File holding the database password (default: <secrets>/postgres_password).")
    var passwordFile: String?

    @Option(help: "Directory of NNNN_name.sql files and manifest.sha256.")
    var migrations = "migrations"

    func run() async throws {
        let logger = Logger(label: "stam.migrate")
        let configuration = try databaseOptions.configuration(passwordFile: passwordFile)
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
