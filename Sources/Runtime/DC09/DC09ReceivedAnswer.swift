import Foundation

/// A receiver's answer as a sender reads it (`stam dc09-send`, tests): which answer, the sequence it echoes and the
/// receiver's time when it sent one (a NAK always does, so a sender can correct its clock).
public struct DC09ReceivedAnswer: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case ack
        case nak
        case duh
        case other(String)
    }

    public var kind: Kind
    public var encrypted: Bool
    /// 0 in a NAK.
    public var sequence: Int
    public var receiverTime: Date?

    /// Reads the bytes between the answer's LF and CR; an encrypted ACK needs the account's key.
    public static func read(_ frame: some Collection<UInt8>, key: DC09Key?) throws(DC09MessageError) -> DC09ReceivedAnswer {
        let body = try DC09MessageParser.checkedBody(frame)
        var reader = DC09MessageParser.Reader(bytes: body)
        guard reader.take(UInt8(ascii: "\"")) else { throw DC09MessageError(.malformed, "the answer does not start with a quoted token") }
        let encrypted = reader.take(UInt8(ascii: "*"))
        let token = String(decoding: reader.while { $0 != UInt8(ascii: "\"") }, as: UTF8.self)
        guard reader.take(UInt8(ascii: "\"")) else { throw DC09MessageError(.malformed, "the answer's token has no closing quote") }
        let digits = reader.while(limit: 4) { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard digits.count == 4, let sequence = Int(String(decoding: digits, as: UTF8.self)) else {
            throw DC09MessageError(.malformed, "the answer's sequence is not 4 decimal digits")
        }
        // The rest of the header (R, L, # or A) up to the data block.
        _ = reader.while { $0 != UInt8(ascii: "[") }
        guard reader.take(UInt8(ascii: "[")) else { throw DC09MessageError(.malformed, "the answer has no data block") }
        var rest = reader.rest
        if encrypted {
            guard let key else { throw DC09MessageError(.key, "the answer is encrypted and no key was given") }
            guard let ciphertext = DC09Hex.decode(String(decoding: rest, as: UTF8.self)), !ciphertext.isEmpty, ciphertext.count % 16 == 0,
                  let plaintext = try? DC09Cipher.decrypt(ciphertext, key: key) else {
                throw DC09MessageError(.key, "the answer's block does not decrypt with the key")
            }
            rest = plaintext
        }
        // The receiver's time, when the answer ends with one.
        let receiverTime = rest.count >= 20 ? DC09MessageParser.timestamp(Array(rest.suffix(20))) : nil
        let kind: Kind = switch token {
        case "ACK": .ack
        case "NAK": .nak
        case "DUH": .duh
        default: .other(token)
        }
        return DC09ReceivedAnswer(kind: kind, encrypted: encrypted, sequence: sequence, receiverTime: receiverTime)
    }
}
