import APISupport
import ArgumentParser
import Backend
import Database
import Foundation
import Generated
import Hummingbird
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle

/// `stam backend`: the operator API (generated routes, login, health, OpenAPI) over a PostgreSQL pool.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend", abstract: "Serve the operator API (HTTP) on a port.")

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on.")
    var port = 8000

    @Option(help: "postgresql://user@host:port/database (default: $DATABASE_URL).")
    var databaseURL: String?

    func run() async throws {
        var logger = Logger(label: "stam.backend")
        logger.logLevel = .info
        guard let databaseURL = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        let database = try DatabaseConfiguration(url: databaseURL, passwordFile: SecretFiles.existing("postgres_password"))
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let secrets = try SecretBox(keyFile: SecretFiles.path("encryption_key"))
        let tokens = try await TokenService(
            publicKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_public_key"), encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_private_key"), encoding: .utf8))
        let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
        let probeLogger = logger
        let readiness = ReadinessCheck(probes: [
            ("postgresql", { try await client.query("SELECT 1", logger: probeLogger) }),
        ])
        let router = BackendRouter(repositories: repositories, tokens: tokens, readiness: readiness).build()
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "stam-backend"), logger: logger)
        logger.info("backend starting", metadata: ["database": "\(database.redactedURL)", "port": "\(port)"])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: application)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
