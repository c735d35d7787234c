import Database
import Generated
import Logging
import Messaging
import Outbox
import Prometheus

extension SmsIngest {
    /// The queue every SMS consumer takes from.
    public static let queue = "sms.inbox"

    /// The SMS consumer as every process runs it (`stam sms-consumer` and each backend): an `IdempotentConsumer`
    /// on `sms.inbox` with this handler, its metrics in `registry`. Close `queue` after the consumer has stopped.
    public static func consumer(broker: AMQPConfiguration, database: DatabaseConfiguration, repositories: Repositories,
                                outbox: OutboxNotifier?, registry: PrometheusCollectorRegistry,
                                logger: Logger) -> (consumer: IdempotentConsumer, queue: QueueConsumer) {
        let queue = QueueConsumer(configuration: broker, topology: StamTopology.messaging, queue: Self.queue, logger: logger)
        let consumer = IdempotentConsumer(
            name: consumerName, consumer: queue, database: database.connectionConfiguration,
            metrics: IdempotentConsumerMetrics(registry: registry, consumer: consumerName), logger: logger,
            handler: handler(repositories: repositories, outbox: outbox, logger: logger, metrics: SmsIngestMetrics(registry: registry)))
        return (consumer, queue)
    }
}
