import Foundation

/// The receiver's answers, each a whole frame (LF ... CR), with CRC and length.
///
/// - ACK echoes the message's sequence, receiver, line and account. Encrypted when the message was: then its
///   data block is the hex of `<pad>|]<timestamp>`, so the sender can check the receiver's key and clock.
/// - NAK carries the receiver's time, so a sender whose clock is off can correct it, and nothing of the message
///   (which may not have been readable): `"NAK"0000R0L0A0[]<timestamp>`.
/// - DUH ("don't understand") echoes the header of a well-formed message the station cannot use; never encrypted.
public enum DC09Answer {
    public static func ack(to header: DC09Header, key: DC09Key?, now: Date) throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return try ack(to: header, key: key, now: now, using: &generator)
    }

    /// `ack(to:key:now:)` with the pad drawn from `generator` (tests give a seeded one).
    public static func ack(to header: DC09Header, key: DC09Key?, now: Date, using generator: inout some RandomNumberGenerator) throws -> [UInt8] {
        guard header.encrypted, let key else { return frame("\"ACK\"" + echo(header) + "[]") }
        let plaintext = DC09Cipher.padded(Array(("]" + timestamp(now)).utf8), using: &generator)
        return frame("\"*ACK\"" + echo(header) + "[" + DC09Hex.encode(try DC09Cipher.encrypt(plaintext, key: key)))
    }

    public static func nak(now: Date) -> [UInt8] {
        frame("\"NAK\"0000R0L0A0[]" + timestamp(now))
    }

    public static func duh(to header: DC09Header) -> [UInt8] {
        frame("\"DUH\"" + echo(header) + "[]")
    }

    /// `<seq>[R<rcvr>][L<pref>]#<acct>` as the message had them.
    static func echo(_ header: DC09Header) -> String {
        let sequence = String(header.sequence)
        return String(repeating: "0", count: max(0, 4 - sequence.count)) + sequence
            + (header.receiver.map { "R" + $0 } ?? "") + (header.linePrefix.map { "L" + $0 } ?? "") + "#" + header.account
    }

    /// `_HH:MM:SS,MM-DD-YYYY` in UTC.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { let text = String(value ?? 0); return text.count < 2 ? "0" + text : text }
        return "_\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)),\(two(parts.month))-\(two(parts.day))-\(parts.year ?? 0)"
    }

    /// LF, CRC, `0LLL`, the message, CR.
    static func frame(_ message: String) -> [UInt8] {
        let bytes = Array(message.utf8)
        let length = String(bytes.count, radix: 16, uppercase: true)
        return [0x0A] + Array((DC09MessageParser.hex4(DC09CRC.checksum(bytes)) + String(repeating: "0", count: max(0, 4 - length.count)) + length).utf8)
            + bytes + [0x0D]
    }
}
