import Crypto
import Foundation

/// Encrypts `secret` columns at rest with AES-256-GCM under the deployment's `encryption_key` secret file
/// (32 random bytes, base64, written by `stam secrets init`).
///
/// Sealed layout: `0x01` (format version) ‖ key id (first 4 bytes of SHA-256 of the key) ‖ nonce (12) ‖
/// ciphertext ‖ tag (16). The key id lets a wrong key be reported as such instead of as a corrupt value;
/// the authenticated data is the column's place (`table.column/row id`), so a ciphertext copied into another
/// row or column does not decrypt.
public struct SecretBox: Sendable {
    static let formatVersion: UInt8 = 1
    static let keyIdLength = 4
    static let nonceLength = 12
    static let tagLength = 16

    private let key: SymmetricKey
    /// Identifies the key in sealed values (not secret: a hash prefix).
    public let keyId: [UInt8]

    public init(key: SymmetricKey) throws {
        guard key.bitCount == 256 else {
            throw SecretBoxError(code: .invalidKey, message: "the encryption key has \(key.bitCount / 8) bytes; AES-256-GCM needs 32")
        }
        self.key = key
        keyId = key.withUnsafeBytes { Array(SHA256.hash(data: $0).prefix(Self.keyIdLength)) }
    }

    /// Reads the key file: base64 of 32 bytes, surrounding whitespace ignored.
    public init(keyFile path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SecretBoxError(code: .invalidKey, message: "cannot read the encryption key file \(path): \(error.localizedDescription)")
        }
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SecretBoxError(code: .invalidKey, message: "the encryption key file \(path) is not base64 (expected 32 random bytes, base64; `stam secrets init` writes one)")
        }
        do {
            try self.init(key: SymmetricKey(data: bytes))
        } catch let error as SecretBoxError {
            throw SecretBoxError(code: error.code, message: "\(path): \(error.message)")
        }
    }

    /// Encrypts `plainText` for the column at `place` (for example `panels.user_code/<id>`).
    public func seal(_ plainText: String, place: String) throws -> Data {
        let sealed = try AES.GCM.seal(Data(plainText.utf8), using: key, authenticating: Data(place.utf8))
        var output = Data([Self.formatVersion])
        output.append(contentsOf: keyId)
        output.append(contentsOf: sealed.nonce)
        output.append(sealed.ciphertext)
        output.append(sealed.tag)
        return output
    }

    /// Decrypts a value sealed by `seal` for the same place.
    public func open(_ sealed: Data, place: String) throws -> String {
        let bytes = [UInt8](sealed)
        let header = 1 + Self.keyIdLength + Self.nonceLength
        guard bytes.count >= header + Self.tagLength, bytes[0] == Self.formatVersion else {
            throw SecretBoxError(code: .malformed, message: "\(place) is not an encrypted value of format \(Self.formatVersion) (\(bytes.count) bytes)")
        }
        let storedKeyId = Array(bytes[1..<(1 + Self.keyIdLength)])
        guard storedKeyId == keyId else {
            throw SecretBoxError(code: .wrongKey, message: "\(place) was encrypted with another key (key id \(Self.hex(storedKeyId)), this key is \(Self.hex(keyId))): is the right encryption_key secret mounted?")
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[(1 + Self.keyIdLength)..<header]),
                ciphertext: bytes[header..<(bytes.count - Self.tagLength)],
                tag: bytes[(bytes.count - Self.tagLength)...])
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(place.utf8))
            guard let text = String(data: plain, encoding: .utf8) else {
                throw SecretBoxError(code: .malformed, message: "\(place) decrypted to bytes that are not UTF-8")
            }
            return text
        } catch let error as SecretBoxError {
            throw error
        } catch {
            throw SecretBoxError(code: .authenticationFailed, message: "\(place) failed authentication: it was altered or belongs to another row or column")
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
