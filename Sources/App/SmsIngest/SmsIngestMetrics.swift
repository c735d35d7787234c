import Prometheus
import Synchronization

/// What the SMS consumer adds to its consumer's figures (`IdempotentConsumerMetrics`):
/// - `sms_alarms_raised_total`: alarms raised from SMS texts, counted after their transaction committed;
/// - `sms_alarms_throttled_total`: texts that matched an alarm pattern but whose sender had already raised
///   `SmsIngest.senderAlarmLimit` alarms within `SmsIngest.senderAlarmWindow` (stored, no alarm).
public final class SmsIngestMetrics: Sendable {
    private let raised = Mutex(0)
    private let alarmsRaisedCounter: Counter
    private let throttledCounter: Counter

    public init(registry: PrometheusCollectorRegistry) {
        alarmsRaisedCounter = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "sms_alarms_raised_total", unitName: "", helpText: "Alarms raised from SMS texts matching an alarm pattern."))
        throttledCounter = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "sms_alarms_throttled_total", unitName: "",
            helpText: "SMS texts that matched an alarm pattern from a sender over its alarm limit: stored, no alarm."))
    }

    func recordThrottled() { throttledCounter.increment() }

    func recordAlarmRaised() {
        raised.withLock { $0 += 1 }
        alarmsRaisedCounter.increment()
    }

    public var alarmsRaised: Int { raised.withLock { $0 } }
}
