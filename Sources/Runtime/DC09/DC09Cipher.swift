import Crypto
import CryptoExtras
import Foundation

/// DC-09's encryption: AES-CBC with an all-zero IV and no cipher padding. The sender pads the plaintext to a
/// whole number of blocks itself, with characters that are not `|`, `[` or `]`, before a `|` that ends the pad.
enum DC09Cipher {
    static func decrypt(_ ciphertext: [UInt8], key: DC09Key) throws -> [UInt8] {
        Array(try AES._CBC.decrypt(ciphertext, using: key.symmetricKey, iv: try AES._CBC.IV(ivBytes: [UInt8](repeating: 0, count: 16)), noPadding: true))
    }

    static func encrypt(_ plaintext: [UInt8], key: DC09Key) throws -> [UInt8] {
        Array(try AES._CBC.encrypt(plaintext, using: key.symmetricKey, iv: try AES._CBC.IV(ivBytes: [UInt8](repeating: 0, count: 16)), noPadding: true))
    }

    /// `text` after a random pad and its `|`, filled to a multiple of 16 bytes (a pad of 1 to 16 characters).
    static func padded(_ text: [UInt8], using generator: inout some RandomNumberGenerator) -> [UInt8] {
        let remainder = (text.count + 1) % 16
        // Letters and digits: printable, never `[`, `]` or `|`, and no space, which some receivers trim.
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var bytes = (0..<(remainder == 0 ? 16 : 16 - remainder)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        bytes.append(UInt8(ascii: "|"))
        return bytes + text
    }
}
