import Foundation
import NIOConcurrencyHelpers
import Observability
import Prometheus

/// The agent's figures, exported through a Prometheus registry (served by `ObservabilityServer` at
/// `/metrics` in `stam sms-agent`) and readable here by tests through `snapshot()`:
/// - `sms_received_total`: messages assembled from the modem (complete, partial or undecodable), counted
///   when they are handed to the publisher; the generated `NoSmsReceived` alert watches its increase;
/// - `sms_last_received_timestamp_seconds` (gauge, Unix time): when the last of them was; 0 until the first
///   since the agent started;
/// - `sms_published_total`: messages the broker confirmed;
/// - `sms_decode_errors_total`: PDUs that did not decode (published raw, never dropped);
/// - `sms_modem_reopens_total`: sessions after the first (a modem that hung, vanished or failed);
/// - `sms_modem_garbage_lines_total`, `sms_partial_messages_total` (given up waiting for the rest);
/// - `sms_left_on_sim_total{kind}`: stored messages that are not received SMS (outgoing ones saved on a shared
///   SIM, status reports), left alone; each counted once while it stays on the SIM;
/// - `sms_modem_ready` (gauge): 1 while the modem is initialised and answering, which `/readyz` also asks.
public final class SmsMetrics: Sendable {
    public struct Snapshot: Hashable, Sendable {
        public var received = 0
        public var published = 0
        public var decodeErrors = 0
        public var modemReopens = 0
        public var garbageLines = 0
        public var partialMessages = 0
        public var lastReceivedAt: Date?
        public var leftOnSim: [StoredMessageKind: Int] = [:]
        public var modemReady = false
        /// Why the modem is not ready (nil while it is).
        public var modemProblem: String? = "not opened yet"
    }

    private let state = NIOLockedValueBox(Snapshot())
    public let registry: PrometheusCollectorRegistry
    private let receivedCounter: Counter
    private let publishedCounter: Counter
    private let decodeErrorsCounter: Counter
    private let reopensCounter: Counter
    private let garbageCounter: Counter
    private let partialCounter: Counter
    private let lastReceivedGauge: Gauge
    private let readyGauge: Gauge
    private let leftOnSimCounters: [StoredMessageKind: Counter]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        receivedCounter = registry.makeCounter(descriptor: .named(
            "sms_received_total", "SMS read from the modem and handed to the publisher."))
        lastReceivedGauge = registry.makeGauge(descriptor: .named(
            "sms_last_received_timestamp_seconds", "Unix time of the last SMS read from the modem (0: none since start)."))
        publishedCounter = registry.makeCounter(descriptor: .named(
            "sms_published_total", "SMS the broker confirmed."))
        decodeErrorsCounter = registry.makeCounter(descriptor: .named(
            "sms_decode_errors_total", "PDUs that did not decode (published raw)."))
        reopensCounter = registry.makeCounter(descriptor: .named(
            "sms_modem_reopens_total", "Times the modem port was opened again."))
        garbageCounter = registry.makeCounter(descriptor: .named(
            "sms_modem_garbage_lines_total", "Lines from the modem that made no sense."))
        partialCounter = registry.makeCounter(descriptor: .named(
            "sms_partial_messages_total", "Concatenated SMS published incomplete after the part timeout."))
        readyGauge = registry.makeGauge(descriptor: .named(
            "sms_modem_ready", "1 while the modem is initialised and answering."))
        var leftOnSim: [StoredMessageKind: Counter] = [:]
        for kind in StoredMessageKind.allCases where kind != .received {
            leftOnSim[kind] = registry.makeCounter(
                name: "sms_left_on_sim_total", labels: [("kind", kind.rawValue)],
                help: "Stored messages that are not received SMS, left on the SIM (each counted once).")
        }
        leftOnSimCounters = leftOnSim
    }

    public func snapshot() -> Snapshot { state.withLockedValue { $0 } }

    func recordReceived(_ count: Int, at date: Date = Date()) {
        state.withLockedValue {
            $0.received += count
            $0.lastReceivedAt = date
        }
        receivedCounter.increment(by: Int64(count))
        lastReceivedGauge.set(to: date.timeIntervalSince1970)
    }

    func recordPublished(_ count: Int) {
        state.withLockedValue { $0.published += count }
        publishedCounter.increment(by: Int64(count))
    }

    func recordDecodeError() {
        state.withLockedValue { $0.decodeErrors += 1 }
        decodeErrorsCounter.increment()
    }

    func recordReopen() {
        state.withLockedValue { $0.modemReopens += 1 }
        reopensCounter.increment()
    }

    func recordGarbageLine() {
        state.withLockedValue { $0.garbageLines += 1 }
        garbageCounter.increment()
    }

    func recordPartialMessage() {
        state.withLockedValue { $0.partialMessages += 1 }
        partialCounter.increment()
    }

    func recordLeftAlone(_ kind: StoredMessageKind) {
        state.withLockedValue { $0.leftOnSim[kind, default: 0] += 1 }
        leftOnSimCounters[kind]?.increment()
    }

    /// `problem` nil: the modem is ready.
    func setModem(problem: String?) {
        state.withLockedValue {
            $0.modemReady = problem == nil
            $0.modemProblem = problem
        }
        readyGauge.set(to: problem == nil ? 1.0 : 0.0)
    }
}
