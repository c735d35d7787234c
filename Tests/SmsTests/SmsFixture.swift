import Database
import Foundation
import Generated
import DevStack
import Logging
import Messaging
import MigrationSupport
import Outbox
import Persistence
import PostgresNIO
import Sms
import SmsSimulator
import SmsIngest
import StamCore
import TestSupport
import Testing

/// One test's world: a migrated database, its own queue bound to `sms.received`, a simulated modem on a
/// real pty, and a directory for the agent's state.
struct SmsFixture {

    let logger: Logger
    let database: DatabaseConfiguration
    let databaseURL: String
    let amqp: AMQPConfiguration
    let topology: MessagingTopology
    let queue: String
    let directory: String
    let simulator: ModemSimulator

    static func make(modem: SimulatedModem = SimulatedModem(), name: String) async throws -> SmsFixture {
        var logger = Logger(label: "test.sms.\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let postgres = try #require(TestPostgres.current)
        let rabbit = try #require(TestRabbitMQ.current)
        let (url, passwordFile) = try await postgres.migratedDatabaseURL(logger: logger)
        let database = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
        let id = UUID().uuidString.prefix(8).lowercased()
        let directory = "\(postgres.runDirectory)/sms-\(id)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let queue = "test.sms.\(id)"
        var topology = StamTopology.messaging
        topology.queues.append(.init(name: queue, quorum: true, deadLetterExchange: "dead_letter", deliveryLimit: 5,
                                     bindings: [.init(exchange: "events", routingKey: "sms.received")]))
        let simulator = ModemSimulator(devicePath: "\(directory)/ttyMODEM", modem: modem, logger: logger)
        try await simulator.start()
        let fixture = SmsFixture(logger: logger, database: database, databaseURL: url, amqp: rabbit.configuration, topology: topology,
                                 queue: queue, directory: directory, simulator: simulator)
        // Declared before anything is published, so no message is unroutable.
        let probe = QueueConsumer(configuration: fixture.amqp, topology: topology, queue: queue, logger: logger)
        _ = try await probe.next(timeout: 0.05)
        await probe.close()
        return fixture
    }

    /// For the SMS consumer, which writes only on its transaction's connection: the pool behind it is never run.
    var repositories: Repositories {
        Repositories(context: DatabaseContext(client: PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger),
                                              secrets: nil, logger: logger))
    }

    /// - Parameter device: the simulator's pty link unless given (`tcp://...` for its TCP port).
    func agent(metrics: SmsMetrics, partialTimeout: Duration = .seconds(3600), device: String? = nil) throws -> SmsAgent {
        try SmsAgent(
            configuration: .init(device: device ?? simulator.devicePath, modem: .init(commandTimeout: .seconds(1), listTimeout: .seconds(2), registrationPollInterval: .milliseconds(200), pollInterval: .seconds(2)),
                                 stateDirectory: "\(directory)/state", partialTimeout: partialTimeout,
                                 reopenInitialDelay: .milliseconds(50), reopenMaximumDelay: .milliseconds(500)),
            publisher: Publisher(configuration: amqp, topology: topology, logger: logger),
            publication: .init(exchange: SmsReceived.exchange, routingKey: SmsReceived.routingKey,
                               eventName: SmsReceived.eventName, schemaVersion: SmsReceived.schemaVersion),
            metrics: metrics, logger: logger)
    }

    func consumer(metrics: SmsIngestMetrics? = nil) -> IdempotentConsumer {
        let queueConsumer = QueueConsumer(configuration: amqp, topology: topology, queue: queue, prefetch: 200, logger: logger)
        return IdempotentConsumer(name: SmsIngest.consumerName, consumer: queueConsumer, database: database.connectionConfiguration,
                                  maxAttempts: 3, batchSize: 100, logger: logger,
                                  handler: SmsIngest.handler(repositories: repositories, outbox: nil, logger: logger, metrics: metrics))
    }

    func execute(_ sql: String) async throws {
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 7, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    func strings(_ sql: String) async throws -> [String] {
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 8, logger: logger)
        var result: [String] = []
        do {
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String.self) {
                result.append(value)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return result
    }

    func number(_ sql: String) async throws -> Int {
        Int(try await strings("SELECT (\(sql))::text").first ?? "") ?? -1
    }

    /// Polls until `condition` holds; gives up after `limit` (the assertions that follow then fail).
    func wait(within limit: Duration = .seconds(60), until condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func cleanUp() async {
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
