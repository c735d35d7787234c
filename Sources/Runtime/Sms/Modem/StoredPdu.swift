/// A message as the modem listed it: its storage index, `+CMGL` status (0 received unread, 1 received read,
/// 2 stored unsent, 3 stored sent) and the PDU in hex.
public struct StoredPdu: Hashable, Sendable {
    public var index: Int
    public var status: Int
    public var pdu: String

    public init(index: Int, status: Int, pdu: String) {
        self.index = index
        self.status = status
        self.pdu = pdu
    }

    /// What the SIM holds under this index. Only `.received` is the agent's to publish and delete: a SIM shared
    /// with a phone or another program also keeps outgoing messages and status reports (TS 27.005 3.1, TS 23.040 9.2.3.1).
    public var kind: StoredMessageKind {
        switch status {
        case 2: return .storedUnsent
        case 3: return .storedSent
        case 0, 1:
            // A PDU too broken to show its type is still a received one: it is published raw, never dropped.
            switch messageTypeIndicator {
            case 1: return .submitReport
            case 2: return .statusReport
            case 3: return .reserved
            default: return .received
            }
        default: return .unknownStatus
        }
    }

    /// TP-MTI, the two low bits of the first octet after the service-centre address; nil when the hex is too short
    /// or not hex.
    var messageTypeIndicator: UInt8? {
        let characters = Array(pdu.utf8)
        func octet(_ at: Int) -> UInt8? {
            guard at * 2 + 1 < characters.count,
                  let value = UInt8(String(decoding: characters[at * 2...at * 2 + 1], as: UTF8.self), radix: 16) else { return nil }
            return value
        }
        guard let serviceCentreLength = octet(0), let first = octet(Int(serviceCentreLength) + 1) else { return nil }
        return first & 0x03
    }
}

/// The kinds of stored message `AT+CMGL=4` lists; the raw values are the metric's `kind` label.
public enum StoredMessageKind: String, Hashable, Sendable, CaseIterable {
    case received
    case storedUnsent = "stored_unsent"
    case storedSent = "stored_sent"
    case statusReport = "status_report"
    case submitReport = "submit_report"
    case reserved
    case unknownStatus = "unknown_status"
}
