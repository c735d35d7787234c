import Logging
import StamCore

/// The connection an `OwnerThread` owns, created on demand and dropped on the first error so the next call
/// reconnects. Only ever touched on that thread.
final class ConnectionSlot: @unchecked Sendable {
    let configuration: AMQPConfiguration
    let topology: MessagingTopology
    let instance: String?
    let confirms: Bool
    let logger: Logger
    private(set) var connection: AMQPConnection?
    private(set) var generation = 0

    init(configuration: AMQPConfiguration, topology: MessagingTopology, instance: String?, confirms: Bool, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.instance = instance
        self.confirms = confirms
        self.logger = logger
    }

    /// The live connection, connecting (and declaring the topology, idempotently) when there is none.
    func connected() throws -> AMQPConnection {
        if let connection { return connection }
        let connection = try AMQPConnection(configuration: configuration)
        try connection.declare(topology, instance: instance)
        if confirms { try connection.enablePublisherConfirms() }
        generation += 1
        logger.info("connected to RabbitMQ", metadata: ["broker": "\(configuration.redactedURL)"])
        self.connection = connection
        return connection
    }

    /// Runs `body` on the connection; any error drops the connection before it propagates.
    func with<Result>(_ body: (AMQPConnection) throws -> Result) throws -> Result {
        do {
            return try body(try connected())
        } catch {
            if connection != nil {
                logger.warning("RabbitMQ connection dropped", metadata: ["error": "\(error)"])
            }
            connection = nil
            throw error
        }
    }

    func close() {
        connection?.close()
        connection = nil
    }

    /// Idle heartbeat pump.
    func pump() {
        guard let connection else { return }
        do { try connection.pump() } catch { self.connection = nil }
    }
}
