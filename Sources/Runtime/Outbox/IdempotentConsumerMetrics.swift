import Observability
import Prometheus
import Synchronization

/// A consumer's figures, labelled with its name in `processed_messages` (`consumer="sms-consumer"`), for the
/// `/metrics` of the process that runs it and readable here by tests:
/// - `consumer_messages_consumed_total`: messages whose effect committed (first deliveries);
/// - `consumer_duplicates_skipped_total`: redeliveries and repeats found in `processed_messages`, acknowledged
///   without a second effect;
/// - `consumer_dead_lettered_total`: messages rejected to the dead-letter exchange (handler failed
///   `maxAttempts` times, or no usable message id).
public final class IdempotentConsumerMetrics: Sendable {
    private struct State {
        var consumed = 0
        var duplicates = 0
        var deadLettered = 0
    }

    private let state = Mutex(State())
    public let registry: PrometheusCollectorRegistry
    private let consumedCounter: Counter
    private let duplicatesCounter: Counter
    private let deadLetteredCounter: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), consumer: String) {
        self.registry = registry
        let labels = [("consumer", consumer)]
        consumedCounter = registry.makeCounter(descriptor: .named(
            "consumer_messages_consumed_total", "Messages whose effect committed."), labels: labels)
        duplicatesCounter = registry.makeCounter(descriptor: .named(
            "consumer_duplicates_skipped_total", "Repeated messages acknowledged without a second effect."), labels: labels)
        deadLetteredCounter = registry.makeCounter(descriptor: .named(
            "consumer_dead_lettered_total", "Messages rejected to the dead-letter exchange."), labels: labels)
    }

    func recordCommitted(consumed: Int, duplicates: Int) {
        state.withLock {
            $0.consumed += consumed
            $0.duplicates += duplicates
        }
        if consumed > 0 { consumedCounter.increment(by: Int64(consumed)) }
        if duplicates > 0 { duplicatesCounter.increment(by: Int64(duplicates)) }
    }

    func recordDeadLettered() {
        state.withLock { $0.deadLettered += 1 }
        deadLetteredCounter.increment()
    }

    public var consumed: Int { state.withLock { $0.consumed } }
    public var duplicates: Int { state.withLock { $0.duplicates } }
    public var deadLettered: Int { state.withLock { $0.deadLettered } }
}
