import Foundation
import Logging
import PostgresNIO

/// Where a service's database is: `postgresql://user@host:port/database[?sslmode=...&sslrootcert=...]` plus the
/// password read from a secret file (Docker secret or the local stack's `.stam/secrets/`), never from the URL or
/// environment. TLS as libpq spells it (see `PostgresTLS`); the deployment uses verify-full.
/// `prepared_statements=true` lets the repositories use named prepared statements (`DatabaseContext`): only for a
/// URL whose connections keep their session (PostgreSQL itself), never one through PgBouncer's transaction pooling.
public struct DatabaseConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var password: String?
    public var tls: PostgresTLS
    /// `prepared_statements` in the URL; false unless given.
    public var preparedStatements: Bool

    public init(host: String, port: Int, username: String, database: String, password: String?, tls: PostgresTLS = .disabled,
                preparedStatements: Bool = false) {
        self.preparedStatements = preparedStatements
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.password = password
        self.tls = tls
    }

    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public var url: String
        public var reason: String
        public var description: String { "invalid database URL '\(url)': \(reason)" }
    }

    /// Parses `postgresql://user@host:port/db`. A password inside the URL is refused: it would end up in
    /// process listings and logs.
    public init(url: String, passwordFile: String?) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw InvalidURL(url: url, reason: "expected postgresql://user@host:port/database")
        }
        if components.password != nil {
            throw InvalidURL(url: "postgresql://\(components.user ?? "")@\(components.host ?? "")", reason: "put the password in a secret file, not in the URL")
        }
        guard let host = components.host, !host.isEmpty else { throw InvalidURL(url: url, reason: "no host") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw InvalidURL(url: url, reason: "no database name") }
        var mode = PostgresTLS.Mode.disable
        var rootCertificate: String?
        var preparedStatements = false
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value.flatMap(PostgresTLS.Mode.init(rawValue:)) else {
                    throw InvalidURL(url: url, reason: "sslmode must be one of \(PostgresTLS.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                mode = value
            case "sslrootcert": rootCertificate = item.value
            case "prepared_statements":
                guard let value = item.value.flatMap(Bool.init) else {
                    throw InvalidURL(url: url, reason: "prepared_statements must be true or false")
                }
                preparedStatements = value
            default: throw InvalidURL(url: url, reason: "unknown parameter '\(item.name)' (known: sslmode, sslrootcert, prepared_statements)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.database = database
        self.preparedStatements = preparedStatements
        self.password = try passwordFile.map(Self.readSecret)
        do {
            self.tls = try PostgresTLS(mode: mode, rootCertificate: rootCertificate)
        } catch {
            throw InvalidURL(url: "postgresql://\(username)@\(host):\(port)/\(database)", reason: "\(error)")
        }
    }

    /// A secret file's content without the trailing newline editors add.
    public static func readSecret(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return String(text.reversed().drop { $0 == "\n" || $0 == "\r" }.reversed())
    }

    public var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls.connectionTLS)
    }

    /// For a connection pool (`PostgresClient`, which needs `run()` in a long-running task).
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls.clientTLS)
    }

    /// A pool on this configuration whose connections are spread over NIO's event loops (`SpreadingEventLoopGroup`).
    /// Needs `run()` in a long-running task, as any `PostgresClient`.
    public func makeClient(backgroundLogger: Logger) -> PostgresClient {
        PostgresClient(configuration: clientConfiguration, eventLoopGroup: SpreadingEventLoopGroup.singleton, backgroundLogger: backgroundLogger)
    }

    public var redactedURL: String {
        "postgresql://\(username)@\(host):\(port)/\(database)" + (tls.mode == .disable ? "" : "?sslmode=\(tls.mode.rawValue)")
    }
}
