import ArgumentParser
import Foundation
import Generated

/// `stam snapshot`: production's data for STAGE, anonymised (`StageSnapshot`, docs/DEPLOYMENT.md section 2.1).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy production's data to STAGE with every personal value replaced.",
        discussion: """
            Reads production (a database URL, or a dump the backups made), anonymises it in a private PostgreSQL of
            its own, checks that no original value of a field marked personal in the schema is left, and restores
            the result into the stage database (which must be empty) and/or writes it as a dump. Replacements are
            keyed with --key-file: the same key and data give the same bytes, equal values stay equal. Secrets
            (panel keys, user codes, code words, passwords) become null and panel addresses too, so STAGE never
            reaches real premises. Run as root (it starts PostgreSQL as the postgres user).
            """)

    @Option(help: "Production: a PostgreSQL URL to dump (read-only use), or a pg_dump -Fc file.")
    var from: String

    @Option(help: "File holding the password for --from.")
    var fromPasswordFile: String?

    @Option(help: "The stage database's URL, as its owner; the database must be empty.")
    var to: String?

    @Option(help: "File holding the password for --to.")
    var toPasswordFile: String?

    @Option(help: "Also write the anonymised data to this file (pg_dump -Fc), e.g. for a stage host elsewhere.")
    var dump: String?

    @Option(help: "The environment the copy is for; its 'snapshot_key' in schema/deployment.yaml names the key.")
    var environment = "stage"

    @Option(help: "The anonymisation key, a file of at least 32 bytes (default: the environment's snapshot_key secret).")
    var keyFile: String?

    func validate() throws {
        if keyFile == nil && StamSecrets.snapshotKeys[environment] == nil {
            throw ValidationError("environment '\(environment)' has no snapshot_key in schema/deployment.yaml; give --key-file")
        }
        if to == nil && dump == nil { throw ValidationError("give --to (the stage database) or --dump (a file), or both") }
        if let to, to == from { throw ValidationError("--to is --from: the snapshot never writes to production") }
    }

    func run() async throws {
        let keyFile = keyFile ?? StamSecrets.snapshotKeys[environment] ?? ""
        let key: Data
        do {
            key = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        } catch {
            throw ValidationError("cannot read the key file \(keyFile): \(error.localizedDescription); `stam secrets init` creates it")
        }
        let source: StageSnapshot.Source = FileManager.default.fileExists(atPath: from)
            ? .dump(path: from) : .database(url: from, passwordFile: fromPasswordFile)
        let snapshot = StageSnapshot(source: source, key: key, target: to.map { .init(url: $0, passwordFile: toPasswordFile) }, dumpFile: dump)
        do {
            let report = try await snapshot.run()
            print("snapshot: \(report.columns) personal columns of \(report.tables) tables replaced and checked"
                  + (report.restoredInto.map { "; restored into \($0)" } ?? "") + (report.dumpFile.map { "; written to \($0)" } ?? ""))
        } catch let failure as StageSnapshot.Failure {
            FileHandle.standardError.write(Data("stam snapshot: error: \(failure.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}
