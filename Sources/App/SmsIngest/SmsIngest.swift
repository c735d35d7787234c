import Alarms
import Database
import Foundation
import Generated
import Logging
import Messaging
import Outbox
import Persistence
import PostgresNIO

/// The backend side of the SMS path: an `IdempotentConsumer` handler that stores each received SMS in
/// `sms_messages`, attributes it to a panel (its GSM module's `sim_phone`) or a site (`contact_phone`) by the
/// sender's number, and raises an alarm (with its `AlarmRaised` outbox event) when the text matches an enabled
/// `sms_alarm_patterns` row, all in the consumer's one transaction.
public enum SmsIngest {
    /// The consumer name in `processed_messages`.
    public static let consumerName = "sms-consumer"

    public struct InvalidMessage: Error, CustomStringConvertible {
        public var description: String
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// - Parameters:
    ///   - repositories: the generated repositories the messages and alarms are written through (always on the
    ///     consumer's transaction connection, never on their own pool).
    ///   - outbox: woken after a commit that raised an alarm; nil leaves the `AlarmRaised` row to the relays' poll
    ///     (tests that do not run relays).
    public static func handler(repositories: Repositories, outbox: OutboxNotifier?, logger: Logger,
                               metrics: SmsIngestMetrics? = nil) -> IdempotentConsumer.TransactionalHandler {
        { delivery, connection, transaction in
            let outboxTransaction = OutboxTransaction(connection: connection, logger: logger)
            let outcome = try await ingest(delivery, repositories: repositories, in: outboxTransaction)
            if outcome == .throttled { transaction.afterCommit { metrics?.recordThrottled() } }
            if outboxTransaction.enqueuedEvents > 0 { transaction.afterCommit { outbox?.signal() } }
            guard outcome == .alarmRaised else { return }
            transaction.afterCommit { metrics?.recordAlarmRaised() }
        }
    }

    /// What `ingest` did with one message.
    public enum Outcome: Sendable {
        /// Stored in `sms_messages`; no alarm (unknown sender or no matching pattern).
        case stored
        case alarmRaised
        /// Its `dedup_key` was already there.
        case alreadyStored
        /// Stored as `ignored`: it matched a pattern, but its sender had raised `senderAlarmLimit` alarms within
        /// `senderAlarmWindow` already.
        case throttled
        /// From a panel's GSM module, about an incident whose alarm is open: counted on that alarm, none raised.
        case joinedAlarm
    }

    /// Senders whose type of number makes them a number: only these are attributed to a panel or a site. Anyone
    /// can send an SMS under a name (alphanumeric sender), including one made of a site's digits.
    static let attributableSenderKinds: Set<String> = ["international", "national"]
    /// At most this many alarms from one sender within `senderAlarmWindow`: a flood from one number (a spoofed
    /// or a broken device) cannot bury the operators' queue. A real panel raises a handful in an incident.
    public static let senderAlarmLimit = 20
    public static let senderAlarmWindow: TimeInterval = 600

    @discardableResult
    public static func ingest(_ delivery: Delivery, repositories: Repositories, in transaction: OutboxTransaction) async throws -> Outcome {
        let (connection, logger) = (transaction.connection, transaction.logger)
        let sms: SmsReceived
        do {
            sms = try decoder.decode(SmsReceived.self, from: Data(delivery.body))
        } catch {
            throw InvalidMessage(description: "not an SmsReceived payload: \(error)")
        }
        // An agent before version 3 does not say the type of number: attributed as before, so a rolling update
        // never leaves a real alarm unraised.
        let attributable = sms.senderKind.map(attributableSenderKinds.contains) ?? true
        let origin = attributable ? try await origin(ofSender: sms.sender, on: connection, logger: logger) : nil
        if !attributable {
            logger.notice("SMS from a sender that is not a number is attributed to nobody",
                          metadata: ["sms_id": "\(sms.smsId)", "sender_kind": "\(sms.senderKind ?? "")"])
        }
        let siteId = origin?.siteId
        let panelId = origin?.panelId
        var match = siteId == nil ? nil : try await matchingPattern(for: sms.body, repositories: repositories, on: connection, logger: logger)
        var throttled = false
        if match != nil, try await alarmsRaised(bySender: sms.sender, before: sms.receivedAt, on: connection, logger: logger) >= senderAlarmLimit {
            logger.warning("SMS alarms from this sender over the limit; stored without an alarm",
                           metadata: ["sms_id": "\(sms.smsId)", "sender": "\(sms.sender)", "limit": "\(senderAlarmLimit)"])
            match = nil
            throttled = true
        }
        let status: SmsStatus = throttled ? .ignored : match == nil ? .received : .processed
        // The dedup key is the content-derived message id: a repeat that got past processed_messages (another
        // consumer name, a replayed dead letter) still collapses into one row.
        let stored = try await repositories.smsMessages.insertIfAbsent(
            SmsMessage(id: sms.smsId, sender: sms.sender, body: sms.body, sentAt: sms.sentAt, receivedAt: sms.receivedAt,
                       siteId: siteId, panelId: panelId, status: status, dedupKey: sms.smsId.uuidString.lowercased()),
            onConflict: .dedupKey, on: connection)
        guard stored != nil else {
            logger.info("SMS already stored", metadata: ["sms_id": "\(sms.smsId)"])
            return .alreadyStored
        }
        guard let siteId, let match else { return throttled ? .throttled : .stored }
        // From a panel's GSM module, the panel's event log (or an earlier SMS) may have raised this incident's alarm
        // already: the SMS joins it.
        let title = String(((match.title.map { "\($0): " } ?? "SMS from \(sms.sender): ") + sms.body).prefix(200))
        let outcome = try await AlarmRaiser(repositories: repositories).raise(
            .init(siteID: siteId, panelID: panelId, kind: match.kind, priority: match.priority, title: title, receivedAt: sms.receivedAt),
            correlation: .panelSms, in: transaction, correlationId: delivery.messageId)
        try await repositories.smsMessages.update(id: sms.smsId, set: [.alarmId(outcome.alarmID)], on: connection)
        switch outcome {
        case .joined(let joined):
            logger.notice("SMS joined the open alarm of the same incident", metadata: ["sms_id": "\(sms.smsId)", "alarm_id": "\(joined)"])
            return .joinedAlarm
        case .raised(let alarmId):
            logger.notice("SMS raised an alarm", metadata: ["sms_id": "\(sms.smsId)", "alarm_id": "\(alarmId)", "site_id": "\(siteId)"])
            return .alarmRaised
        }
    }

    /// Who sent it, by the last nine digits of the sender, which identify a number whatever way it was written
    /// (+48 600 100 200, 0048600100200, 600-100-200): the enabled panel whose GSM module's number (`sim_phone`)
    /// they are, with its site; else the active site whose `contact_phone` they are. One query for both. nil for
    /// a sender too short to be a phone number (an alphanumeric one, a service code) or nobody's.
    static func origin(ofSender sender: String, on connection: PostgresConnection, logger: Logger) async throws -> (panelId: UUID?, siteId: UUID)? {
        let digits = sender.filter(\.isASCII).filter(\.isNumber)
        guard digits.count >= 6 else { return nil }
        let suffix = String(digits.suffix(9))
        let rows = try await connection.query("""
            SELECT panel_id, site_id FROM (
                SELECT id AS panel_id, site_id, 0 AS rank, created_at, NULL::text AS code, id AS key FROM panels
                 WHERE enabled AND sim_phone IS NOT NULL AND right(regexp_replace(sim_phone, '[^0-9]', '', 'g'), 9) = \(suffix)
                UNION ALL
                SELECT NULL, id, 1, NULL, code, id FROM sites
                 WHERE active AND contact_phone IS NOT NULL AND right(regexp_replace(contact_phone, '[^0-9]', '', 'g'), 9) = \(suffix)
            ) AS candidates
            ORDER BY rank, created_at, code, key LIMIT 1
            """, logger: logger)
        for try await (panelId, siteId) in rows.decode((UUID?, UUID).self) { return (panelId, siteId) }
        return nil
    }

    /// Alarms this sender's texts raised within `senderAlarmWindow` before `time` (its `processed` messages).
    static func alarmsRaised(bySender sender: String, before time: Date, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let since = time.addingTimeInterval(-senderAlarmWindow)
        let rows = try await connection.query("""
            SELECT count(*)::int FROM sms_messages WHERE sender = \(sender) AND status = 'processed' AND received_at > \(since)
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    struct PatternMatch {
        var kind: AlarmKind
        var priority: AlarmPriority
        var title: String?
    }

    /// The most urgent enabled pattern that matches (then the oldest). Patterns are matched here (ICU,
    /// case-insensitive) and not in SQL: an invalid pattern an administrator typed must be skipped, not fail every SMS.
    static func matchingPattern(for text: String, repositories: Repositories, on connection: PostgresConnection,
                                logger: Logger) async throws -> PatternMatch? {
        // The schema declares the priorities most urgent first (the order the generated lists sort by too).
        let urgency = AlarmPriority.allCases
        // A row this build cannot read (a kind or priority a newer schema added, during a rolling update) is skipped
        // like an invalid pattern: the other patterns keep raising alarms.
        let readable = try await repositories.smsAlarmPatterns.all(filter: .init(enabled: true), on: connection) { error in
            logger.warning("unreadable SMS alarm pattern skipped", metadata: ["error": "\(error)"])
        }
        let patterns = readable.sorted {
            (urgency.firstIndex(of: $0.priority) ?? urgency.count, $0.createdAt, $0.id.uuidString.lowercased())
                < (urgency.firstIndex(of: $1.priority) ?? urgency.count, $1.createdAt, $1.id.uuidString.lowercased())
        }
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern.pattern, options: [.caseInsensitive]) else {
                logger.warning("invalid SMS alarm pattern skipped", metadata: ["pattern": "\(pattern.pattern)"])
                continue
            }
            let range = NSRange(text.startIndex..., in: text)
            guard expression.firstMatch(in: text, range: range) != nil else { continue }
            return PatternMatch(kind: pattern.kind, priority: pattern.priority, title: pattern.title)
        }
        return nil
    }
}
