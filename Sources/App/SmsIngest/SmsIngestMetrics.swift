import Prometheus
import Synchronization

/// What the SMS consumer adds to its consumer's figures (`IdempotentConsumerMetrics`):
/// - `sms_alarms_raised_total`: alarms raised from SMS texts, counted after their transaction committed.
public final class SmsIngestMetrics: Sendable {
    private let raised = Mutex(0)
    private let alarmsRaisedCounter: Counter

    public init(registry: PrometheusCollectorRegistry) {
        alarmsRaisedCounter = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "sms_alarms_raised_total", unitName: "", helpText: "Alarms raised from SMS texts matching an alarm pattern."))
    }

    func recordAlarmRaised() {
        raised.withLock { $0 += 1 }
        alarmsRaisedCounter.increment()
    }

    public var alarmsRaised: Int { raised.withLock { $0 } }
}
