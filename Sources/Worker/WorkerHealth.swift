import Database
import Logging
import Messaging
import PostgresNIO
import Redis

/// The worker's readiness: PostgreSQL, Redis and RabbitMQ each answer within `timeout`; and its metrics.
public final class WorkerHealth: HealthEndpoints {
    private let database: DatabaseConfiguration
    private let redis: RedisClient
    private let amqp: AMQPConfiguration?
    private let metrics: WorkerMetrics
    private let timeout: Duration
    private let logger: Logger

    public init(database: DatabaseConfiguration, redis: RedisConfiguration, amqp: AMQPConfiguration?, metrics: WorkerMetrics,
                timeout: Duration = .seconds(2), logger: Logger) {
        self.database = database
        self.redis = RedisClient(configuration: redis, logger: logger, name: "worker-readiness")
        self.amqp = amqp
        self.metrics = metrics
        self.timeout = timeout
        self.logger = logger
    }

    public func metricsText() -> String { metrics.render() }

    public func failingDependencies() async -> [String] {
        let (database, redis, amqp, logger, timeout) = (self.database, self.redis, self.amqp, self.logger, self.timeout)
        var probes: [(String, @Sendable () async throws -> Void)] = [
            ("postgresql", {
                let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 99, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.query("SELECT 1", logger: logger)
            }),
            ("redis", { try await redis.ping() }),
        ]
        if let amqp {
            probes.append(("rabbitmq", {
                let publisher = Publisher(configuration: amqp, topology: .init(exchanges: [], queues: []), logger: logger)
                try await publisher.connect()
                await publisher.close()
            }))
        }
        return await withTaskGroup(of: String?.self) { group in
            for (name, probe) in probes {
                group.addTask {
                    await withTaskGroup(of: Bool.self) { race in
                        race.addTask { (try? await probe()) != nil }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return false
                        }
                        let passed = await race.next() ?? false
                        race.cancelAll()
                        return passed ? nil : name
                    }
                }
            }
            var failing: [String] = []
            for await name in group { if let name { failing.append(name) } }
            return failing.sorted()
        }
    }
}
