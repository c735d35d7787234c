/// A failure of the integration link itself (encryption, busy module), with the bytes that showed it.
public struct SatelIntegrationError: Error, Hashable, Sendable {
    public enum Code: String, Hashable, Sendable, Codable {
        /// A decrypted PDU does not echo our id: a wrong integration key (or a desynchronised link).
        case encryptionIDMismatch
        /// A PDU too short to hold its 6-byte header.
        case encryptedPDUTooShort
        /// A frame too long to fit one PDU (at most 249 frame bytes).
        case frameTooLongToEncrypt
        /// The module sent its "Busy!" banner: another client holds the integration slot.
        case moduleBusy
    }

    public var code: Code
    public var bytes: [UInt8]

    public init(code: Code, bytes: [UInt8]) {
        self.code = code
        self.bytes = Array(bytes.prefix(SatelFramingError.maximumReportedBytes))
    }
}

extension SatelIntegrationError: CustomStringConvertible {
    public var description: String { "SatelIntegrationError(\(code.rawValue): \(SatelHex.string(bytes)))" }
}
