/// The per-connection PDU bookkeeping of encrypted integration (doc §8.3): our rolling counter and id, and
/// the peer's last id that we echo. A value type; `IntegrationEncryptionHandler` owns one.
public struct IntegrationSession: Sendable {
    /// Our id_s, constant for the connection (as satel-integra and gadulowaty do).
    public let ownID: UInt8
    /// The next counter value to send.
    public private(set) var counter: UInt16 = 0
    /// The id_s of the last PDU received, echoed as id_r in ours.
    public private(set) var peerID: UInt8 = 0
    /// Whether a mismatched echo is an error (the client) or ignored (the module; doc §8.5 lenient default).
    public let strict: Bool

    public init(ownID: UInt8, strict: Bool) {
        self.ownID = ownID
        self.strict = strict
    }

    /// The plaintext PDU around one plain frame: random, counter, ids, frame, zero padding to 16.
    public mutating func seal(frame: [UInt8], random: UInt16) -> [UInt8] {
        var pdu: [UInt8] = [UInt8(random >> 8), UInt8(random & 0xFF), UInt8(counter >> 8), UInt8(counter & 0xFF), ownID, peerID]
        pdu += frame
        if pdu.count < 16 {
            pdu += [UInt8](repeating: 0, count: 16 - pdu.count)
        }
        counter &+= 1
        return pdu
    }

    /// The frame bytes inside a received plaintext PDU, after checking that it echoes our id.
    public mutating func open(pdu: [UInt8]) throws(SatelIntegrationError) -> [UInt8] {
        guard pdu.count >= 6 else {
            throw SatelIntegrationError(code: .encryptedPDUTooShort, bytes: pdu)
        }
        if strict && pdu[5] != ownID {
            throw SatelIntegrationError(code: .encryptionIDMismatch, bytes: pdu)
        }
        peerID = pdu[4]
        return IntegrationSession.trimPadding(Array(pdu[6...]))
    }

    /// Cuts the zero padding after the frame's `FE 0D`; stuffing guarantees the first `FE 0D` is the end.
    static func trimPadding(_ bytes: [UInt8]) -> [UInt8] {
        var index = 2
        while index + 1 < bytes.count {
            if bytes[index] == SatelFrame.syncByte {
                if bytes[index + 1] == SatelFrame.endByte { return Array(bytes[0..<index + 2]) }
                index += 2
            } else {
                index += 1
            }
        }
        return bytes
    }
}
