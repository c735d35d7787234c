import Foundation
import Generated
import Logging
import Outbox
import Persistence

/// The one way an alarm comes into being, for every source (the worker's event log, the SMS consumer, later the
/// DC-09 receiver): the `alarms` row through the generated repository and its `AlarmRaised` event, both in the
/// caller's transaction, or, for a report of an incident whose alarm is already open, one more report on that
/// alarm (`AlarmCorrelation`).
///
/// Crash at any step: nothing is visible until the caller's transaction commits, and then the alarm and its
/// event are there together; a rollback leaves neither, and the source's own redelivery (the event log's cursor,
/// the broker's unacknowledged message) raises it again.
public struct AlarmRaiser: Sendable {
    let alarms: AlarmRepository
    let history: AlarmHistory

    public init(repositories: Repositories) {
        alarms = repositories.alarms
        history = AlarmHistory(repositories: repositories)
    }

    /// What the source reports.
    public struct Report: Sendable {
        public var siteID: UUID
        public var panelID: UUID?
        /// The stored `panel_events` row behind it (an event-log record, a log gap), if any.
        public var panelEventID: UUID?
        public var kind: AlarmKind
        public var priority: AlarmPriority
        public var title: String
        public var zone: Int?
        public var partition: Int?
        /// When the station received it (the worker read the record, the modem took the SMS): the first handling KPI.
        public var receivedAt: Date?

        public init(siteID: UUID, panelID: UUID?, panelEventID: UUID? = nil, kind: AlarmKind, priority: AlarmPriority,
                    title: String, zone: Int? = nil, partition: Int? = nil, receivedAt: Date? = nil) {
            self.receivedAt = receivedAt
            self.siteID = siteID
            self.panelID = panelID
            self.panelEventID = panelEventID
            self.kind = kind
            self.priority = priority
            self.title = title
            self.zone = zone
            self.partition = partition
        }
    }

    /// Which open alarm a report may join instead of raising its own. Needs the report's panel; without one, the
    /// report always raises.
    public enum Correlation: Sendable {
        /// Always a new alarm (a lost stretch of the event log).
        case none
        /// An event-log record: joins an open alarm of its panel and kind that an SMS raised (one no record has
        /// taken yet), and gives it the record's event, zone and partition; else, a repeat of an open alarm of the
        /// same panel, class and zone raised within the window (a storm of one detector) joins that one.
        case eventLogRecord
        /// An SMS from a panel's GSM module: joins any open alarm of its panel and kind.
        case panelSms
    }

    public enum Outcome: Sendable, Equatable {
        case raised(alarmID: UUID)
        case joined(alarmID: UUID)

        public var alarmID: UUID {
            switch self {
            case .raised(let id), .joined(let id): id
            }
        }
    }

    /// Raises (or joins) in `transaction`. `raised_at` is the transaction's time in the database, the clock the
    /// correlation window is measured in: a writer whose clock is behind must not leave its alarm outside the window
    /// at once, nor one ahead keep it in longer.
    public func raise(_ report: Report, correlation: Correlation, in transaction: OutboxTransaction,
                      correlationId: String? = nil) async throws -> Outcome {
        let connection = transaction.connection
        let logger = transaction.logger
        let moment: AlarmCorrelation.Moment
        if let panelID = report.panelID, correlation != .none {
            moment = try await AlarmCorrelation.lock(panelID: panelID, site: report.siteID, on: connection, logger: logger)
            let candidates = try await AlarmCorrelation.openAlarms(
                panelID: panelID, kind: report.kind, withoutPanelEvent: correlation == .eventLogRecord, withRepeat: correlation == .eventLogRecord,
                priority: report.priority, zone: report.zone, on: connection, logger: logger)
            if let open = candidates.open ?? candidates.repeat {
                let repeated = candidates.open == nil
                // A repeat keeps the first record's event; an SMS's alarm takes the record's event, zone and partition.
                try await AlarmCorrelation.join(alarm: open, panelEvent: repeated ? nil : report.panelEventID, zone: report.zone,
                                                partition: report.partition, on: connection, logger: logger)
                let reports = try await AlarmCorrelation.reports(of: open, on: connection, logger: logger)
                try await history.record(.joined, alarm: open, text: "\(repeated ? "Repeated" : "Reported again"): \(report.title)",
                                         at: moment.now, on: connection)
                try await transaction.enqueue(AlarmRepeated(alarmId: open, siteId: report.siteID, panelId: panelID, reports: reports, at: moment.now),
                                              correlationId: correlationId)
                return .joined(alarmID: open)
            }
        } else {
            moment = try await AlarmCorrelation.moment(site: report.siteID, panel: report.panelID, on: connection, logger: logger)
        }
        let raisedAt = moment.now
        // On test (an installer at work): recorded and closed at once, never stacked nor escalated.
        let onTestUntil = moment.onTestUntil
        let alarm = try await alarms.insert(Alarm(
            siteId: report.siteID, panelId: report.panelID, panelEventId: report.panelEventID, kind: report.kind,
            priority: report.priority, state: onTestUntil == nil ? .new : .closed, title: report.title, zoneNumber: report.zone,
            partitionNumber: report.partition, receivedAt: report.receivedAt, raisedAt: raisedAt, closedAt: onTestUntil == nil ? nil : raisedAt,
            onTest: onTestUntil != nil), on: connection)
        try await history.record(.raised, alarm: alarm.id, text: alarm.title, at: raisedAt, on: connection)
        if let onTestUntil {
            try await history.record(.closed, alarm: alarm.id, text: "On test until \(ISO8601DateFormatter().string(from: onTestUntil)): recorded, not stacked",
                                     at: raisedAt, on: connection)
        }
        try await transaction.enqueue(AlarmRaised(
            alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, kind: alarm.kind, priority: alarm.priority,
            title: alarm.title, zoneNumber: alarm.zoneNumber, partitionNumber: alarm.partitionNumber,
            raisedAt: alarm.raisedAt, onTest: onTestUntil == nil ? nil : true), correlationId: correlationId)
        return .raised(alarmID: alarm.id)
    }

    /// The condition behind an alarm is over (the panel signals again, the partition is armed): the alarm is marked
    /// restored, with a timeline line and `AlarmRestored`, in the caller's transaction. It stays on the stack for an
    /// operator to close: a restore is news, not a resolution.
    public func restore(alarm: UUID, siteID: UUID, panelID: UUID?, text: String, at: Date, in transaction: OutboxTransaction) async throws {
        let connection = transaction.connection
        _ = try await alarms.update(id: alarm, set: [.restoredAt(at)], on: connection)
        try await history.record(.restored, alarm: alarm, text: text, at: at, on: connection)
        try await transaction.enqueue(AlarmRestored(alarmId: alarm, siteId: siteID, panelId: panelID, at: at))
    }
}
