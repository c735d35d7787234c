import Crypto
import Foundation

/// A message ready to publish: one SMS-DELIVER, the joined parts of a concatenated one, a partial one
/// given up after the timeout, or a PDU that could not be decoded (published with its hex so nothing is
/// silently dropped).
public struct ReceivedSms: Hashable, Sendable {
    /// Derived from the PDUs (see `messageID(pdus:complete:)`), so reading the same message again after a
    /// crash or a lost confirm yields the same id and the consumer recognises the duplicate.
    public var id: UUID
    public var sender: String
    public var senderKind: SmsAddress.Kind?
    public var text: String
    public var sentAt: Date
    public var partsExpected: Int
    public var partsReceived: Int
    public var complete: Bool
    public var pdus: [String]

    public init(id: UUID, sender: String, senderKind: SmsAddress.Kind?, text: String, sentAt: Date, partsExpected: Int,
                partsReceived: Int, complete: Bool, pdus: [String]) {
        self.id = id
        self.sender = sender
        self.senderKind = senderKind
        self.text = text
        self.sentAt = sentAt
        self.partsExpected = partsExpected
        self.partsReceived = partsReceived
        self.complete = complete
        self.pdus = pdus
    }

    /// SHA-256 over the sorted, upper-cased PDUs (a partial message is tagged so that it never collides
    /// with the complete one), cut to a version-8 UUID because consumers key `processed_messages` on a UUID.
    /// The modem's storage index is deliberately not part of it: the same message read from another index
    /// is the same message.
    public static func messageID(pdus: [String], complete: Bool) -> UUID {
        let canonical = (complete ? "" : "partial\n") + pdus.map { $0.uppercased() }.sorted().joined(separator: "\n")
        var bytes = Array(SHA256.hash(data: Array(canonical.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    public static func single(_ deliver: SmsDeliver, pdu: String) -> ReceivedSms {
        ReceivedSms(id: messageID(pdus: [pdu], complete: true), sender: deliver.sender.value, senderKind: deliver.sender.kind,
                    text: deliver.text, sentAt: deliver.timestamp.date, partsExpected: 1, partsReceived: 1, complete: true,
                    pdus: [pdu])
    }

    public static func undecodable(pdu: String, error: SmsPduError) -> ReceivedSms {
        ReceivedSms(id: messageID(pdus: [pdu], complete: true), sender: "unknown", senderKind: nil,
                    text: "[undecodable SMS: \(error.code) at octet \(error.offset): \(error.detail)] PDU \(pdu)",
                    sentAt: Date(), partsExpected: 1, partsReceived: 1, complete: true, pdus: [pdu])
    }

    /// Joins the parts of one concatenated message in sequence order; a missing part is marked in the text.
    public static func assemble(_ parts: [(sequence: Int, deliver: SmsDeliver, pdu: String)], total: Int) -> ReceivedSms {
        let sorted = parts.sorted { $0.sequence < $1.sequence }
        var text = ""
        var present = Set<Int>()
        for sequence in 1...max(total, 1) {
            if let part = sorted.first(where: { $0.sequence == sequence }) {
                text += part.deliver.text
                present.insert(sequence)
            } else {
                text += "[…part \(sequence) of \(total) missing…]"
            }
        }
        let complete = present.count == total
        let first = sorted.first!
        let pdus = sorted.map(\.pdu)
        return ReceivedSms(id: messageID(pdus: pdus, complete: complete), sender: first.deliver.sender.value,
                           senderKind: first.deliver.sender.kind, text: text, sentAt: first.deliver.timestamp.date,
                           partsExpected: total, partsReceived: present.count, complete: complete, pdus: pdus)
    }
}
