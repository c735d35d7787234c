import Foundation
import Logging
import StamCore

/// The connection an `OwnerThread` owns, created on demand and dropped on the first error so the next call
/// reconnects. Only ever touched on that thread.
///
/// Reconnecting backs off: after a failure (a refused connect, a dropped connection, a method the broker
/// did not answer) the next attempt waits 100 ms, doubling up to 5 s, less up to a quarter at random so the
/// clients of a restarted broker do not return in lockstep; a call that succeeds resets it. Calls made
/// while the slot waits fail at once with `.disconnected`, without touching the network.
final class ConnectionSlot: @unchecked Sendable {
    static let initialDelay: Duration = .milliseconds(100)
    static let maximumDelay: Duration = .seconds(5)

    let configuration: AMQPConfiguration
    let topology: MessagingTopology
    let instance: String?
    let confirms: Bool
    let logger: Logger
    private(set) var connection: AMQPConnection?
    private(set) var generation = 0
    private var failures = 0
    private var nextAttempt: ContinuousClock.Instant?

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
        if let nextAttempt, case let wait = nextAttempt - .now, wait > .zero {
            throw AMQPError(code: .disconnected, message: "not connected to RabbitMQ; next attempt in \(wait)")
        }
        let connection = try AMQPConnection(configuration: configuration)
        try connection.declare(topology, instance: instance, mode: configuration.topology)
        if confirms { try connection.enablePublisherConfirms() }
        generation += 1
        logger.info("connected to RabbitMQ", metadata: ["broker": "\(configuration.redactedURL)"])
        self.connection = connection
        return connection
    }

    /// How long until the next connection attempt is allowed (zero when connected or due).
    var backoffRemaining: Duration {
        guard connection == nil, let nextAttempt else { return .zero }
        return max(.zero, nextAttempt - .now)
    }

    /// Runs `body` on the connection; any error drops the connection before it propagates.
    func with<Result>(_ body: (AMQPConnection) throws -> Result) throws -> Result {
        do {
            let result = try body(try connected())
            failures = 0
            nextAttempt = nil
            return result
        } catch {
            if connection != nil {
                logger.warning("RabbitMQ connection dropped", metadata: ["error": "\(error)"])
            }
            connection = nil
            scheduleNextAttempt(after: error)
            throw error
        }
    }

    private func scheduleNextAttempt(after error: any Error) {
        // A call refused during the back-off does not lengthen it.
        if let nextAttempt, nextAttempt > .now { return }
        failures += 1
        let delay = min(Self.initialDelay * (1 << min(failures - 1, 16)), Self.maximumDelay) * (1 - Double.random(in: 0..<0.25))
        nextAttempt = .now + delay
        if failures > 1 {
            logger.debug("RabbitMQ unavailable; backing off", metadata: ["failures": "\(failures)", "delay": "\(delay)", "error": "\(error)"])
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
