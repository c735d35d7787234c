import DC09
import Foundation
import Prometheus

/// `stam receiver`'s figures, from the receiver's observations:
/// - `stam_dc09_frames_total{answer}`: frames by the answer they got (ack, duplicate, nak, duh, none);
/// - `stam_dc09_refused_frames_total{reason}`: NAK and DUH by why (crc_mismatch, key, timestamp, unknown_account, ...);
/// - `stam_dc09_account_frames_total{account, answer}`: frames of the station's own accounts; a frame from an account
///   the station does not know has no series of its own (a sender chooses that label, and could flood it);
/// - `stam_dc09_discarded_bytes_total{reason}`: bytes dropped outside frames;
/// - `stam_dc09_last_frame_timestamp_seconds`: when the last frame was ACKed;
/// - `stam_dc09_accounts`: the accounts the receiver takes frames from (the NoDC09Frame alert fires only above 0).
public final class DC09ReceiverMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let lastFrame: Gauge
    private let accounts: Gauge

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        lastFrame = registry.makeGauge(name: "stam_dc09_last_frame_timestamp_seconds", labels: [],
                                       help: "Unix time of the last DC-09 frame this receiver acknowledged (0: none since it started).")
        accounts = registry.makeGauge(name: "stam_dc09_accounts", labels: [],
                                      help: "Enabled DC-09 accounts with a usable key, as of the receiver's last read of them.")
        // Every answer's series from the start, so a rate over a fresh receiver is 0, not missing.
        for answer in ["ack", "duplicate", "nak", "duh", "none"] { frames(answer) }
    }

    @discardableResult
    private func frames(_ answer: String) -> Counter {
        registry.makeCounter(name: "stam_dc09_frames_total", labels: [("answer", answer)],
                             help: "DC-09 frames by the answer they got: ack, duplicate (ACKed again, stored once), nak, duh, none (not stored, no answer).")
    }

    public func set(accounts count: Int) { accounts.set(to: Double(count)) }

    public func observe(_ observation: DC09ReceiverObservation) {
        switch observation {
        case .frame(let report):
            let answer = report.outcome.answer
            frames(answer).increment()
            if case .refused(let code) = report.outcome {
                registry.makeCounter(name: "stam_dc09_refused_frames_total", labels: [("reason", code.rawValue)],
                                     help: "DC-09 frames answered NAK or DUH, by why.").increment()
            }
            if let account = report.header?.account, report.outcome != .refused(.unknownAccount) {
                registry.makeCounter(name: "stam_dc09_account_frames_total", labels: [("account", account.uppercased()), ("answer", answer)],
                                     help: "DC-09 frames of the station's accounts, by account and answer.").increment()
            }
            if case .acknowledged = report.outcome { lastFrame.set(to: report.receivedAt.timeIntervalSince1970) }
        case .discarded(let count, let reason):
            registry.makeCounter(name: "stam_dc09_discarded_bytes_total", labels: [("reason", reason.rawValue)],
                                 help: "Bytes a DC-09 receiver dropped outside frames, by reason.").increment(by: Int64(count))
        }
    }
}
