import Foundation

/// Reads one DC-09 frame: the bytes between its LF and its CR (`DC09FrameDecoder` cuts them out of a stream, a
/// UDP datagram holds one). Pure: the caller gives the time and the accounts.
///
///     <crc><0LLL>"<*><token>"<seq>[R<rcvr>]L<pref>#<acct>[<data>][<x data>]...<timestamp>
///
/// The CRC and the length cover the bytes from the token's opening quote to the end of the timestamp. An
/// encrypted message (`*`) carries, after its `[`, the hex of AES-CBC over `<pad>|<data>][<x data>]...<timestamp>`.
public struct DC09MessageParser: Sendable {
    /// How far the sender's clock may be ahead of and behind the receiver's (DC-09: +20 s / -40 s).
    public var allowedAhead: Duration = .seconds(20)
    public var allowedBehind: Duration = .seconds(40)

    public init() {}

    public func parse(_ frame: some Collection<UInt8>, now: Date, account lookup: (DC09Header) -> DC09Account) throws(DC09MessageError) -> DC09Message {
        let body = try Self.checkedBody(frame)
        var reader = Reader(bytes: body)
        let header = try readHeader(&reader)
        let account = lookup(header)
        let content: [UInt8]
        switch (account, header.encrypted) {
        case (.unknown, _):
            throw DC09MessageError(.unknownAccount, "account \(header.account) is not known here", header: header)
        case (.plain, true):
            throw DC09MessageError(.key, "account \(header.account) has no key, the message is encrypted", header: header)
        case (.encrypted, false):
            throw DC09MessageError(.key, "account \(header.account) sends encrypted, the message is plain", header: header)
        case (.plain, false):
            content = reader.rest
        case (.encrypted(let key), true):
            content = try decrypt(reader.rest, key: key, header: header)
        }
        var message = try readContent(content, header: header)
        if header.encrypted, message.timestamp == nil {
            throw DC09MessageError(.malformed, "an encrypted message has no timestamp", header: header)
        }
        if let timestamp = message.timestamp {
            let offset = timestamp.timeIntervalSince(now)
            guard offset <= allowedAhead / .seconds(1), -offset <= allowedBehind / .seconds(1) else {
                throw DC09MessageError(.timestamp, "the sender's time is \(Int(offset.rounded())) s from the receiver's", header: header)
            }
        }
        if case .other(let token) = header.token {
            throw DC09MessageError(.unusable, "the token \"\(token)\" is not one this station reads", header: header)
        }
        message.header = header
        return message
    }

    /// The frame's message after its CRC and length, once both check out: every frame, a message or an answer.
    static func checkedBody(_ frame: some Collection<UInt8>) throws(DC09MessageError) -> [UInt8] {
        let bytes = Array(frame)
        guard bytes.count >= 8, let crc = hexNumber(bytes[0..<4]), let length = hexNumber(bytes[4..<8]) else {
            throw DC09MessageError(.malformed, "a frame starts with 4 hex digits of CRC and 4 of length")
        }
        let body = Array(bytes[8...])
        guard body.count == length else {
            throw DC09MessageError(.lengthMismatch, "the length says \(length) bytes, the frame has \(body.count)")
        }
        let computed = DC09CRC.checksum(body)
        guard computed == crc else {
            throw DC09MessageError(.crcMismatch, "the CRC says \(hex4(UInt16(crc))), the frame's is \(hex4(computed))")
        }
        return body
    }

    /// `"<*><token>"<seq>[R<rcvr>][L<pref>]#<acct>[`: everything up to and with the data block's `[`.
    func readHeader(_ reader: inout Reader) throws(DC09MessageError) -> DC09Header {
        guard reader.take(UInt8(ascii: "\"")) else { throw DC09MessageError(.malformed, "the message does not start with a quoted token") }
        let encrypted = reader.take(UInt8(ascii: "*"))
        let token = reader.while { $0 != UInt8(ascii: "\"") && $0 >= 0x20 && $0 < 0x7F }
        guard !token.isEmpty, token.count <= 16, reader.take(UInt8(ascii: "\"")) else {
            throw DC09MessageError(.malformed, "the token is not 1 to 16 printable characters between quotes")
        }
        let sequenceDigits = reader.while(limit: 4) { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard sequenceDigits.count == 4, let sequence = Int(String(decoding: sequenceDigits, as: UTF8.self)), (1...9999).contains(sequence) else {
            throw DC09MessageError(.malformed, "the sequence number is not 4 decimal digits from 0001 to 9999")
        }
        let receiver = try reader.field("R", name: "receiver number", digits: 1...6)
        let linePrefix = try reader.field("L", name: "line prefix", digits: 1...6)
        guard let account = try reader.field("#", name: "account", digits: 3...16) else {
            throw DC09MessageError(.malformed, "no account (#, then 3 to 16 hex digits)")
        }
        guard reader.take(UInt8(ascii: "[")) else { throw DC09MessageError(.malformed, "no data block ([) after the account") }
        return DC09Header(token: .init(String(decoding: token, as: UTF8.self)), encrypted: encrypted, sequence: sequence,
                          receiver: receiver, linePrefix: linePrefix, account: account)
    }

    /// The hex after `[` decrypted, its pad and the pad's `|` dropped.
    func decrypt(_ hex: [UInt8], key: DC09Key, header: DC09Header) throws(DC09MessageError) -> [UInt8] {
        guard let ciphertext = DC09Hex.decode(String(decoding: hex, as: UTF8.self)), !ciphertext.isEmpty, ciphertext.count % 16 == 0 else {
            throw DC09MessageError(.malformed, "the encrypted block is not hex of whole 16-byte blocks", header: header)
        }
        let plaintext: [UInt8]
        do { plaintext = try DC09Cipher.decrypt(ciphertext, key: key) }
        catch { throw DC09MessageError(.key, "the block does not decrypt with account \(header.account)'s key", header: header) }
        // The pad is any bytes but `|`, `[` and `]` (senders differ: some pad with control characters); a `|` ends
        // it. What follows is text, and with a wrong key it is not.
        var start = plaintext.firstIndex { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") } ?? plaintext.endIndex
        if start < plaintext.endIndex, plaintext[start] == UInt8(ascii: "|") { start += 1 }
        let content = plaintext[start...]
        guard !content.isEmpty, content.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw DC09MessageError(.key, "the block decrypts to bytes that are not a message: not account \(header.account)'s key", header: header)
        }
        return Array(content)
    }

    /// `<data>][<x data>]...<timestamp>`: the data block's content and its `]`, extended blocks, the timestamp.
    func readContent(_ content: [UInt8], header: DC09Header) throws(DC09MessageError) -> DC09Message {
        var reader = Reader(bytes: content)
        let data = reader.while { $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "[") }
        guard reader.take(UInt8(ascii: "]")) else { throw DC09MessageError(.malformed, "the data block has no closing ]", header: header) }
        var extended: [DC09Message.ExtendedData] = []
        while reader.take(UInt8(ascii: "[")) {
            let block = reader.while { $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "[") }
            guard reader.take(UInt8(ascii: "]")), let letter = block.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter) else {
                throw DC09MessageError(.malformed, "an extended data block is not [<letter><value>]", header: header)
            }
            extended.append(.init(letter: Character(Unicode.Scalar(letter)), value: String(decoding: block.dropFirst(), as: UTF8.self)))
        }
        var timestamp: Date?
        if !reader.rest.isEmpty {
            guard let time = Self.timestamp(reader.rest) else {
                throw DC09MessageError(.malformed, "after the data comes nothing or a timestamp _HH:MM:SS,MM-DD-YYYY", header: header)
            }
            timestamp = time
        }
        guard data.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw DC09MessageError(.malformed, "the data block holds bytes that are not text", header: header) }
        return DC09Message(header: header, data: String(decoding: data, as: UTF8.self), extendedData: extended, timestamp: timestamp)
    }

    /// `_HH:MM:SS,MM-DD-YYYY`, UTC.
    static func timestamp(_ bytes: [UInt8]) -> Date? {
        let text = Array(bytes)
        guard text.count == 20, text[0] == UInt8(ascii: "_"), text[3] == UInt8(ascii: ":"), text[6] == UInt8(ascii: ":"),
              text[9] == UInt8(ascii: ","), text[12] == UInt8(ascii: "-"), text[15] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: text[range], as: UTF8.self)) }
        guard let hour = number(1..<3), let minute = number(4..<6), let second = number(7..<9),
              let month = number(10..<12), let day = number(13..<15), let year = number(16..<20),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    static func hexNumber(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            guard let nibble = DC09Hex.value(digit) else { return nil }
            value = value << 4 | Int(nibble)
        }
        return value
    }

    static func hex4(_ value: UInt16) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - text.count) + text
    }

    /// A cursor over the message's bytes.
    struct Reader {
        let bytes: [UInt8]
        var index = 0

        var rest: [UInt8] { Array(bytes[index...]) }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func `while`(limit: Int = .max, _ predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
            let start = index
            while index < bytes.count, index - start < limit, predicate(bytes[index]) { index += 1 }
            return bytes[start..<index]
        }

        /// `<letter><hex digits>`, when the next byte is the letter.
        mutating func field(_ letter: Character, name: String, digits: ClosedRange<Int>) throws(DC09MessageError) -> String? {
            guard let ascii = letter.asciiValue, take(ascii) else { return nil }
            let value = self.while(limit: digits.upperBound + 1) { DC09Hex.value($0) != nil }
            guard digits.contains(value.count) else {
                throw DC09MessageError(.malformed, "the \(name) after \(letter) is not \(digits.lowerBound) to \(digits.upperBound) hex digits")
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}
