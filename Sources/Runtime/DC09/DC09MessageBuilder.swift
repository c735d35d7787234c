import Foundation

/// Builds a sender's frame (LF ... CR) from a message: what `stam dc09-send` and the tests send. Encrypted when a
/// key is given: then the header's token gets its `*` and the data block, extended blocks and timestamp go as
/// the hex of AES-CBC over `<pad>|<data>][<x data>]...<timestamp>`. An encrypted message always carries a
/// timestamp (`now` when the message has none); a plain one only when the message has one.
public enum DC09MessageBuilder {
    public static func frame(_ message: DC09Message, key: DC09Key?, now: Date = Date()) throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return try frame(message, key: key, now: now, using: &generator)
    }

    public static func frame(_ message: DC09Message, key: DC09Key?, now: Date, using generator: inout some RandomNumberGenerator) throws -> [UInt8] {
        var header = message.header
        header.encrypted = key != nil
        let head = "\"" + (header.encrypted ? "*" : "") + header.token.text + "\"" + DC09Answer.echo(header) + "["
        var content = message.data + "]" + message.extendedData.map { "[\($0.letter)\($0.value)]" }.joined()
        guard let key else {
            return DC09Answer.frame(head + content + (message.timestamp.map(DC09Answer.timestamp) ?? ""))
        }
        content += DC09Answer.timestamp(message.timestamp ?? now)
        let plaintext = DC09Cipher.padded(Array(content.utf8), using: &generator)
        return DC09Answer.frame(head + DC09Hex.encode(try DC09Cipher.encrypt(plaintext, key: key)))
    }
}
