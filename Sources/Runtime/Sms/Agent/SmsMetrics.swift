import Foundation
import NIOConcurrencyHelpers

/// The agent's counters. A `/metrics` endpoint renders `snapshot()` (see `Snapshot.prometheusText`).
public final class SmsMetrics: Sendable {
    public struct Snapshot: Hashable, Sendable {
        /// Messages assembled from the modem (complete, partial or undecodable), before publishing.
        public var received = 0
        /// Messages the broker confirmed.
        public var published = 0
        public var decodeErrors = 0
        /// Times the port was opened again after the first time.
        public var modemReopens = 0
        public var garbageLines = 0
        public var partialMessages = 0
        public var lastReceivedAt: Date?

        public func prometheusText() -> String {
            var lines = [
                "# TYPE sms_received_total counter", "sms_received_total \(received)",
                "# TYPE sms_published_total counter", "sms_published_total \(published)",
                "# TYPE sms_decode_errors_total counter", "sms_decode_errors_total \(decodeErrors)",
                "# TYPE sms_modem_reopens_total counter", "sms_modem_reopens_total \(modemReopens)",
                "# TYPE sms_modem_garbage_lines_total counter", "sms_modem_garbage_lines_total \(garbageLines)",
                "# TYPE sms_partial_messages_total counter", "sms_partial_messages_total \(partialMessages)",
            ]
            if let lastReceivedAt {
                lines += ["# TYPE sms_last_received_timestamp_seconds gauge",
                          "sms_last_received_timestamp_seconds \(lastReceivedAt.timeIntervalSince1970)"]
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    public func snapshot() -> Snapshot { state.withLockedValue { $0 } }

    func update(_ change: (inout Snapshot) -> Void) { state.withLockedValue(change) }
}
