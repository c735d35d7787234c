import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
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
    @Option(help: "File holding the SIM PIN (default: the sim_pin secret, when it exists).") var pinFile: String?
    @Option(help: "Preferred message storage for AT+CPMS (SM = SIM, ME = modem, MT = both).") var storage = "SM"
    @Option(help: "amqp://user@host:port/vhost (default: $RABBITMQ_URL); password from the rabbitmq_password secret.")
    var amqpURL: String?
    @Option(help: "Directory for the durable store of concatenated-message parts.") var stateDirectory = "/var/lib/stam/sms"
    @Option(help: "Seconds the parts of a concatenated SMS wait for the rest before a partial message is published.")
    var partTimeout = 3600
    @Option(help: "Seconds between list polls of the modem (a safety net for a lost +CMTI).") var pollInterval = 30
    @Option(help: "Seconds a command may take before the modem is considered hung and reopened.") var commandTimeout = 5

    func run() async throws {
        var logger = Logger(label: "stam.sms-agent")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        guard let amqpURL = amqpURL ?? ProcessInfo.processInfo.environment["RABBITMQ_URL"] else {
            throw ValidationError("no broker: pass --amqp-url or set RABBITMQ_URL")
        }
        let amqp = try AMQPConfiguration(url: amqpURL, password: try DatabaseConfiguration.readSecret(SecretFiles.path("rabbitmq_password")))
        let pin = try (pinFile ?? SecretFiles.existing("sim_pin")).map { try DatabaseConfiguration.readSecret($0) }
        let metrics = SmsMetrics()
        let publisher = Publisher(configuration: amqp, topology: StamTopology.messaging, logger: logger)
        let agent = try SmsAgent(
            configuration: .init(
                device: device, baud: baud, hardwareFlowControl: rtscts,
                modem: .init(pin: pin, storage: storage, commandTimeout: .seconds(commandTimeout),
                             pollInterval: .seconds(pollInterval)),
                stateDirectory: stateDirectory, partialTimeout: .seconds(partTimeout)),
            publisher: publisher,
            publication: .init(exchange: SmsReceived.exchange, routingKey: SmsReceived.routingKey,
                               eventName: SmsReceived.eventName, schemaVersion: SmsReceived.schemaVersion),
            metrics: metrics, logger: logger)
        logger.info("sms agent starting", metadata: ["device": "\(device)", "broker": "\(amqp.redactedURL)", "state": "\(stateDirectory)"])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await publisher.close()
    }
}
