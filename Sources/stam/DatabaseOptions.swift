import ArgumentParser
import Database
import Foundation

/// `--database-url`, as every command that uses PostgreSQL takes it: the option, else `$DATABASE_URL`; the
/// password is the `postgres_password` secret when the file exists (a database may also trust the connection).
struct DatabaseOptions: ParsableArguments {
    @Option(help: "postgresql://user@host:port/database (default: $DATABASE_URL).")
    var databaseURL: String?

    /// - Parameter passwordFile: a password file instead of the secret (`stam migrate --password-file`).
    func configuration(passwordFile: String? = nil) throws -> DatabaseConfiguration {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        return try DatabaseConfiguration(url: url, passwordFile: passwordFile ?? SecretFiles.existing("postgres_password"))
    }
}
