import Foundation
import Logging
import Messaging

/// What happens to the messages read from the modem, in the order that makes loss impossible:
/// parts of concatenated messages go to the durable part store (then they may leave the modem); whole
/// messages are published and confirmed (then they may leave the modem); the agent deletes from the modem
/// only the indices `process` returns. A crash anywhere leaves each message on the modem or in the store,
/// and publishing it again yields the same message id, which the consumer deduplicates.
///
/// The agent never runs two of these calls at once (the modem state machine hands out one delivery at a
/// time and expiry waits for it), so the actor's reentrancy at `await` cannot interleave two of them.
public actor SmsIntake {
    let store: SmsPartStore
    let publisher: Publisher
    let publication: SmsPublication
    let metrics: SmsMetrics
    let partialTimeout: Duration
    let logger: Logger

    public init(store: SmsPartStore, publisher: Publisher, publication: SmsPublication, metrics: SmsMetrics,
                partialTimeout: Duration, logger: Logger) {
        self.store = store
        self.publisher = publisher
        self.publication = publication
        self.metrics = metrics
        self.partialTimeout = partialTimeout
        self.logger = logger
    }

    /// Returns the indices that are safe to delete from the modem, or nil when cancelled before that.
    public func process(_ stored: [StoredPdu]) async -> [Int]? {
        var outgoing: [ReceivedSms] = []
        var deletable: [Int] = []
        var touchedGroups = Set<String>()
        let now = Date()
        for message in stored {
            do {
                let deliver = try SmsDeliver.decode(hex: message.pdu)
                if let concatenation = deliver.concatenation, concatenation.total > 1 {
                    let group = SmsPartStore.groupKey(sender: deliver.sender, concatenation: concatenation)
                    do {
                        try store.save(.init(group: group, sequence: concatenation.sequence, total: concatenation.total,
                                             pdu: message.pdu, storedAt: now))
                    } catch {
                        // Not stored, so not deleted: the part stays on the modem and is tried again.
                        logger.error("cannot store an SMS part; leaving it on the modem", metadata: ["error": "\(error)"])
                        continue
                    }
                    touchedGroups.insert(group)
                } else {
                    outgoing.append(.single(deliver, pdu: message.pdu))
                }
            } catch {
                metrics.recordDecodeError()
                logger.error("undecodable SMS PDU; publishing it raw", metadata: ["index": "\(message.index)", "error": "\(error)"])
                outgoing.append(.undecodable(pdu: message.pdu, error: error))
            }
            deletable.append(message.index)
        }
        var completedGroups: [String] = []
        if !touchedGroups.isEmpty {
            let groups = loadGroups()
            for group in touchedGroups.sorted() {
                guard let parts = groups[group], let total = parts.first?.total else { continue }
                let sequences = Set(parts.map(\.sequence))
                if sequences.count == total, sequences == Set(1...total) {
                    outgoing.append(assemble(parts))
                    completedGroups.append(group)
                }
            }
        }
        guard await publish(outgoing) else { return nil }
        for group in completedGroups {
            do { try store.remove(group: group) } catch {
                // Harmless: the group would be published again (same id) when it expires.
                logger.warning("cannot remove a published SMS group", metadata: ["error": "\(error)"])
            }
        }
        return deletable
    }

    /// Publishes, as partial messages, the groups whose first part is older than the timeout.
    public func expireStaleGroups(now: Date = Date()) async {
        let groups = loadGroups()
        let limit = Double(partialTimeout.components.seconds) + Double(partialTimeout.components.attoseconds) / 1e18
        for (group, parts) in groups.sorted(by: { $0.key < $1.key }) {
            guard let oldest = parts.map(\.storedAt).min(), now.timeIntervalSince(oldest) >= limit else { continue }
            let sms = assemble(parts)
            logger.warning("giving up on a concatenated SMS; publishing what arrived", metadata: [
                "sender": "\(sms.sender)", "parts": "\(sms.partsReceived)/\(sms.partsExpected)",
            ])
            metrics.recordPartialMessage()
            guard await publish([sms]) else { return }
            try? store.remove(group: group)
        }
    }

    private func loadGroups() -> [String: [SmsPartStore.Part]] {
        do {
            return Dictionary(grouping: try store.load(), by: \.group)
        } catch {
            logger.error("cannot read the SMS part store", metadata: ["error": "\(error)"])
            return [:]
        }
    }

    private func assemble(_ parts: [SmsPartStore.Part]) -> ReceivedSms {
        var decoded: [(sequence: Int, deliver: SmsDeliver, pdu: String)] = []
        for part in parts {
            // Parts were decoded before they were stored; one that no longer decodes is left out.
            if let deliver = try? SmsDeliver.decode(hex: part.pdu) { decoded.append((part.sequence, deliver, part.pdu)) }
        }
        // Two copies of one part (the network delivered it twice) count once.
        var seen = Set<Int>()
        decoded = decoded.filter { seen.insert($0.sequence).inserted }
        return ReceivedSms.assemble(decoded, total: parts.first?.total ?? decoded.count)
    }

    /// Publishes with confirms until it works (the broker may be down for a while: nothing leaves the modem
    /// meanwhile). False only when cancelled.
    private func publish(_ messages: [ReceivedSms]) async -> Bool {
        guard !messages.isEmpty else { return true }
        metrics.recordReceived(messages.count)
        let receivedAt = Date()
        let outgoing: [OutgoingMessage]
        do {
            outgoing = try messages.map { try publication.message(for: $0, receivedAt: receivedAt) }
        } catch {
            logger.critical("cannot encode an SMS for publishing", metadata: ["error": "\(error)"])
            return false
        }
        var backoff = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                let refused = try await publisher.publish(outgoing)
                if refused.isEmpty {
                    metrics.recordPublished(messages.count)
                    return true
                }
                logger.warning("broker refused SMS messages; publishing again", metadata: ["refused": "\(refused.count)"])
            } catch {
                logger.warning("cannot publish SMS; keeping them on the modem", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        return false
    }
}
