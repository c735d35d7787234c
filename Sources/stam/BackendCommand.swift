import ArgumentParser
import Backend
import Database
import Foundation
import Logging
import Persistence

/// `stam backend`: the operator API (generated routes, login, health, OpenAPI) over a PostgreSQL pool.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend", abstract: "Serve the operator API (HTTP) on a port.")

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on.")
    var port = 8000

    /// The backend's `ports.metrics` in schema/deployment.yaml, which the generated prometheus.yml scrapes.
    static let defaultMetricsPort = 9100

    @Option(help: "Port of /metrics, /healthz and /readyz, apart from the API's (0: any free port).")
    var metricsPort = BackendCommand.defaultMetricsPort

    @Option(help: "Address the metrics server listens on.")
    var metricsHost = "0.0.0.0"

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "postgresql://user@host:port/database of the nodes reports may run on, comma-separated; each report runs on the first in recovery (default: $DATABASE_REPLICA_URL; none: the primary, with a warning).")
    var replicaURL: String?

    /// The broker of live events and SMS.
    @OptionGroup var brokerOptions: BrokerOptions

    /// The Redis of live panel state.
    @OptionGroup var redisOptions: RedisOptions

    @Option(help: "Name of this backend; its live queue is backend.live.<instance> (default: host name and PID).")
    var instance: String?

    @Option(help: "Proxies whose X-Real-IP names the client (addresses, networks, host names; comma-separated; default: $STAM_TRUSTED_PROXIES; none: every request is its TCP peer's).")
    var trustedProxies: String?

    @Flag(inversion: .prefixedNo, help: "Keep the answers of the lists the schema marks list_cache in memory (see ListCache).")
    var listCache = true

    func run() async throws {
        var logger = Logger(label: "stam.backend")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        // Candidates, comma-separated: reports run on whichever of them is in recovery at the time.
        let replicas = try (replicaURL ?? environment["DATABASE_REPLICA_URL"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { try DatabaseConfiguration(url: $0, passwordFile: SecretFiles.existing("postgres_password")) }
        try await BackendProcess.run(.init(
            instance: instance ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())",
            database: try databaseOptions.configuration(), replicas: replicas, broker: try brokerOptions.configuration(),
            redis: try redisOptions.configuration(), secrets: try SecretBox(keyFile: SecretFiles.path("encryption_key")),
            jwtPublicKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_public_key"), encoding: .utf8),
            jwtPrivateKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_private_key"), encoding: .utf8),
            host: host, port: port, metricsHost: metricsHost, metricsPort: metricsPort, listCache: listCache,
            trustedProxies: trustedProxies ?? environment["STAM_TRUSTED_PROXIES"]), logger: logger)
    }
}
