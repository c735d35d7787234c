import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
import Observability
import Prometheus
import ServiceLifecycle
import Sms

/// `stam sms-agent`: owns the GSM modem; publishes every received SMS with a confirm before deleting it.
struct SmsAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sms-agent",
        abstract: "Read SMS from a GSM modem (PDU mode) and publish each to RabbitMQ before deleting it from the modem.")

    @Option(help: "Serial device of the modem.") var device = "/dev/ttyUSB0"
    @Option(help: "Serial speed.") var baud = 115_200
    @Flag(help: "RTS/CTS hardware flow control.") var rtscts = false
    @Option(help: "File holding the SIM PIN (default: the modem_sim_pin secret of the deployment, when it exists and is not empty).") var pinFile: String?
    @Option(help: "Preferred message storage for AT+CPMS (SM = SIM, ME = modem, MT = both).") var storage = "SM"
    @OptionGroup var brokerOptions: BrokerOptions
    @Option(help: "Directory for the durable store of concatenated-message parts.") var stateDirectory = "/var/lib/stam/sms"
    @Option(help: "How long the parts of a concatenated SMS wait for the rest before a partial message is published.")
    var partTimeout = DurationArgument(seconds: 3600)
    @Option(help: "Time between list polls of the modem (a safety net for a lost +CMTI).") var pollInterval = DurationArgument(seconds: 30)
    @Option(help: "How long a command may take before the modem is considered hung and reopened.") var commandTimeout = DurationArgument(seconds: 5)

    /// The sms-agent's `ports.metrics` in schema/deployment.yaml, which the generated prometheus.yml scrapes
    /// (`sms-agent:9102`) and the compose health check asks for /readyz.
    static let defaultMetricsPort = 9102

    @Option(help: "Port of /metrics, /healthz and /readyz (0: any free port).")
    var metricsPort = SmsAgentCommand.defaultMetricsPort
    @Option(help: "Address the metrics server listens on.") var metricsHost = "0.0.0.0"

    func run() async throws {
        var logger = Logger(label: "stam.sms-agent")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let amqp = try brokerOptions.configuration()
        // `stam secrets init` leaves modem_sim_pin empty for a SIM that asks for no PIN.
        let pin = try (pinFile ?? SecretFiles.existing("modem_sim_pin")).map { try SecretFiles.read($0) }
            .flatMap { $0.isEmpty ? nil : $0 }
        let registry = PrometheusCollectorRegistry()
        let metrics = SmsMetrics(registry: registry)
        let publisher = Publisher(configuration: amqp, topology: StamTopology.messaging, logger: logger)
        let agent = try SmsAgent(
            configuration: .init(
                device: device, baud: baud, hardwareFlowControl: rtscts,
                modem: .init(pin: pin, storage: storage, commandTimeout: commandTimeout.duration,
                             pollInterval: pollInterval.duration),
                stateDirectory: stateDirectory, partialTimeout: partTimeout.duration),
            publisher: publisher,
            publication: .init(exchange: SmsReceived.exchange, routingKey: SmsReceived.routingKey,
                               eventName: SmsReceived.eventName, schemaVersion: SmsReceived.schemaVersion),
            metrics: metrics, logger: logger)
        // Ready = the modem is initialised and answering, and the broker takes connections: the two things
        // an SMS needs to get from the SIM to the queue.
        let observability = ObservabilityServer(
            configuration: .init(host: metricsHost, port: metricsPort), registry: registry,
            readinessChecks: [
                ReadinessCheck("modem") { try agent.checkModem() },
                ReadinessCheck("rabbitmq") { try await publisher.checkConnection() },
            ],
            logger: logger)
        logger.info("sms agent starting", metadata: [
            "device": "\(device)", "broker": "\(amqp.redactedURL)", "state": "\(stateDirectory)", "metrics": "\(metricsHost):\(metricsPort)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: agent), .init(service: observability)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await publisher.close()
    }
}
