import Alarms
import Crypto
import DC09
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import StamCore

/// The receiver's `DC09MessageStore`: in one transaction, the message (`dc09_messages`, the frame as it came), the
/// account's, its path's (`dc09_paths`: this receiver) and its panel's last signal, each event as a `panel_events`
/// row of source `dc09`, and for an alarm event its alarm through `AlarmRaiser` (with its `AlarmRaised` outbox row).
/// It returns after the commit, and only then does the receiver ACK.
///
/// A link test (NULL without events) is the last signals alone: it carries nothing else to keep, a repeat of it
/// changes nothing, and at 1,000 accounts testing every 10 s a row for each would be most of the table.
///
/// A repeat of a message stored within `duplicateWindow` (same account, sequence, token, data, extended data and
/// timestamp: the sender did not get the ACK and sent it again, maybe to the other receiver) refreshes the last
/// signal and stores nothing else. Two receivers taking the same repeat at once are serialised by a transaction
/// lock on its content key.
public struct DC09PostgresStore: DC09MessageStore {
    let client: PostgresClient
    let repositories: Repositories
    let accounts: DC09AccountCache
    let notifier: OutboxNotifier?
    let instance: String
    let logger: Logger
    public var duplicateWindow: Duration = .seconds(600)

    public init(client: PostgresClient, repositories: Repositories, accounts: DC09AccountCache, notifier: OutboxNotifier?,
                instance: String, logger: Logger) {
        self.client = client
        self.repositories = repositories
        self.accounts = accounts
        self.notifier = notifier
        self.instance = instance
        self.logger = logger
    }

    public struct AccountGone: Error, CustomStringConvertible {
        public var description: String
    }

    public func store(_ received: DC09ReceivedMessage) async throws -> DC09StoreOutcome {
        let message = received.message
        guard let account = accounts.entry(message.header.account) else {
            throw AccountGone(description: "account \(message.header.account) is no longer in the receiver's accounts")
        }
        let key = Self.contentKey(message)
        let isLinkTest = message.header.token == .null && received.events.isEmpty
        return try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let connection = transaction.connection
            if isLinkTest {
                try await signal(received, account: account, on: connection)
                return .signalled
            }
            // Hand SQL: a transaction lock and a time window, which no repository method says.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey(key)))", logger: logger).collect()
            let windowSeconds = Double(duplicateWindow.components.seconds)
            let repeats = try await connection.query("""
                SELECT count(*)::int FROM dc09_messages
                WHERE content_key = \(key) AND received_at > now() - make_interval(secs => \(windowSeconds))
                """, logger: logger).collect()
            try await signal(received, account: account, on: connection)
            if let count = try repeats.first?.decode(Int.self), count > 0 { return .duplicate }

            _ = try await repositories.dc09Messages.insert(Dc09Message(
                accountId: account.id, sequence: message.header.sequence, token: message.header.token.text, encrypted: message.header.encrypted,
                data: message.data, extendedData: Self.extendedData(message), sentAt: message.timestamp, receivedAt: received.receivedAt,
                transport: received.transport.rawValue, peer: String(received.peer.prefix(128)), receiverInstance: String(instance.prefix(128)),
                raw: String(decoding: received.raw, as: UTF8.self), contentKey: key), on: connection)
            guard !received.events.isEmpty else { return .stored }
            guard let panel = try await repositories.panels.find(id: account.panelID, on: connection) else {
                throw AccountGone(description: "the panel of account \(message.header.account) is gone")
            }
            let raiser = AlarmRaiser(repositories: repositories)
            for event in received.events {
                let stored = try await repositories.panelEvents.insert(PanelEvent(
                    panelId: panel.id, source: .dc09, occurredAt: message.timestamp ?? received.receivedAt, receivedAt: received.receivedAt,
                    eventCode: event.format == .contactID ? Int(event.code) : nil, restore: event.qualifier == .restore,
                    partitionNumber: event.partition, sourceNumber: event.zone ?? event.user,
                    description: DC09AlarmClassifier.description(of: event), fencingToken: 0), on: connection)
                guard let kind = DC09AlarmClassifier.kind(of: event) else { continue }
                let title = AlarmTitle.compose(kind: kind, partition: event.partition.map { .init(number: $0, description: nil) },
                                               zone: event.zone.map { .init(number: $0, description: nil) }, event: stored.description)
                let outcome = try await raiser.raise(
                    .init(siteID: panel.siteId, panelID: panel.id, panelEventID: stored.id, kind: kind, priority: kind.defaultPriority,
                          title: title, zone: event.zone, partition: event.partition, receivedAt: received.receivedAt),
                    correlation: .eventLogRecord, in: transaction)
                logger.notice("DC-09 event raised an alarm", metadata: [
                    "account": .string(message.header.account), "sequence": "\(message.header.sequence)", "code": .string(event.code),
                    "alarm_id": "\(outcome.alarmID)",
                ])
            }
            return .stored
        }
    }

    /// The account's, its panel's and its path's last signal: every frame the receiver takes, a repeat included.
    private func signal(_ received: DC09ReceivedMessage, account: DC09AccountCache.Entry, on connection: PostgresConnection) async throws {
        _ = try await repositories.dc09Accounts.update(id: account.id, set: [.lastSignalAt(received.receivedAt)], on: connection)
        _ = try await repositories.panels.update(id: account.panelID, set: [.lastSeenAt(received.receivedAt)], on: connection)
        // The path: this receiver, as the account's primary or secondary address (Dc09PathSupervisor watches it).
        try await repositories.dc09Paths.upsert(
            Dc09Path(accountId: account.id, receiverInstance: String(instance.prefix(128)), lastSignalAt: received.receivedAt,
                     transport: received.transport.rawValue, peer: String(received.peer.prefix(128))),
            onConflict: .accountIdAndReceiverInstance, updating: [.lastSignalAt, .transport, .peer], on: connection)
    }

    /// SHA-256 (hex) of what makes two frames the same message.
    static func contentKey(_ message: DC09Message) -> String {
        let extended = message.extendedData.map { "\($0.letter)\($0.value)" }.joined(separator: "\u{1F}")
        let parts = [message.header.account.uppercased(), String(message.header.sequence), message.header.token.text, message.data, extended,
                     message.timestamp.map { String($0.timeIntervalSince1970) } ?? ""]
        return SHA256.hash(data: Data(parts.joined(separator: "\u{1E}").utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The content key's first 8 bytes as the advisory lock's number.
    static func lockKey(_ key: String) -> Int64 {
        Int64(bitPattern: UInt64(key.prefix(16), radix: 16) ?? 0)
    }

    static func extendedData(_ message: DC09Message) -> JSONValue? {
        guard !message.extendedData.isEmpty else { return nil }
        return .array(message.extendedData.map { .object(["letter": .string(String($0.letter)), "value": .string($0.value)]) })
    }
}
