import APISupport
import ArgumentParser
import Database
import Foundation
import Leases
import Logging
import Messaging
import Observability
import Persistence
import Redis
import Satel
import ServiceLifecycle
import Worker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Own a share of the panels: read them into events, keep their live state, execute commands (run several).")

    @Option(help: "This worker's name in leases and panel rows (default: the host name and PID).")
    var workerID: String?

    @OptionGroup var databaseOptions: DatabaseOptions

    @OptionGroup var redisOptions: RedisOptions

    /// Without a broker, the worker runs without its command queue (commands are still found every sweep).
    @OptionGroup var brokerOptions: BrokerOptions

    @Option(help: "Port of /metrics, /healthz and /readyz (0: any free port).")
    var metricsPort = 9101  // the satel-worker's `ports.metrics` in schema/deployment.yaml, where Prometheus and the health check look

    @Option(help: "Address the metrics server listens on.")
    var metricsHost = "0.0.0.0"

    @Option(help: ArgumentHelp("A network (CIDR) the metrics port must not be reached from, e.g. the panel VLAN; repeatable (default: $STAM_METRICS_NOT_ON, comma-separated). The port then listens on every other local IPv4 address and loopback.",
                               valueName: "cidr"))
    var metricsNotOn: [String] = []

    @Option(help: "Panel lease TTL (10s, 2000ms, ...).")
    var leaseTTL = DurationArgument(seconds: 10)

    @Option(help: "Poll interval for every panel (default: each panel's poll_interval_ms).")
    var pollInterval: DurationArgument?

    @Option(help: "Command sweep interval.")
    var commandSweep = DurationArgument(milliseconds: 500)

    @Option(help: "Live-state check interval (rebuilds panel:<id>:state when Redis lost it).")
    var liveStateRefresh = DurationArgument(seconds: 5)

    @Option(help: "Longest pause between reconnection attempts to a panel (also after 'Busy').")
    var reconnectDelay = DurationArgument(seconds: 15)

    func run() async throws {
        var logger = Logger(label: "stam.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let environment = ProcessInfo.processInfo.environment
        let database = try databaseOptions.configuration()
        let redis = try redisOptions.configuration()
        let amqp = try brokerOptions.configurationIfGiven()
        let secrets = try SecretFiles.existing("encryption_key").map { try SecretBox(keyFile: $0) }
        let ttl = leaseTTL.duration
        var configuration = WorkerConfiguration(
            workerID: workerID ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())",
            lease: PanelLeaseConfiguration(ttl: ttl),
            pollInterval: pollInterval.map { .milliseconds(Int64($0.milliseconds)) },
            commandSweepInterval: commandSweep.duration,
            liveStateRefreshInterval: liveStateRefresh.duration)
        configuration.retryDelay = min(.seconds(1), ttl / 4)
        let reconnect = reconnectDelay.seconds
        configuration.panelBackoff = .init(initialDelay: min(1, reconnect), maximumDelay: max(reconnect, 0.05),
                                           busyDelay: reconnect, jitter: 0.2)
        if let marker = environment["STAM_WORKER_TEST_PAUSE_BEFORE_COMMIT"] {
            // The crash test's hook: announce that a transaction with events is written but not committed,
            // then wait to be killed. Never set in a deployment.
            logger.warning("test hook active: the first event transaction pauses before commit", metadata: ["marker": "\(marker)"])
            configuration.beforeEventCommit = {
                FileManager.default.createFile(atPath: marker, contents: Data("paused\n".utf8))
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
        }
        let worker = StamWorker(configuration: configuration, database: database, secrets: secrets, redis: redis, amqp: amqp,
                                logger: logger)
        let excluded = metricsNotOn.isEmpty
            ? (environment["STAM_METRICS_NOT_ON"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : metricsNotOn
        let ranges = try excluded.map { text in
            guard let range = IPAddressRange(text) else { throw ValidationError("--metrics-not-on '\(text)' is not a network such as 192.168.100.0/24") }
            return range
        }
        let hosts = ranges.isEmpty ? [metricsHost] : ListenAddresses.excluding(ranges)
        let observability = ObservabilityServer(configuration: .init(hosts: hosts, port: metricsPort), registry: worker.metrics.registry,
                                       readinessChecks: worker.readinessChecks(logger: logger), logger: logger)
        logger.info("worker starting", metadata: [
            "worker": "\(configuration.workerID)", "database": "\(database.redactedURL)", "metrics_port": "\(metricsPort)",
            "metrics_hosts": "\(hosts.joined(separator: ","))",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker), .init(service: observability)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
