/// The 0x7C answer: the communication module's firmware and capability bits (doc §3.4).
public struct ModuleVersion: Hashable, Sendable, Codable {
    public var firmware: FirmwareVersion
    /// Byte 11: bit 0 = can serve 32-byte zone/output lists, bit 1 = troubles part 8, bit 2 = arm flag byte.
    public var capabilities: UInt8

    public init(firmware: FirmwareVersion, capabilities: UInt8) {
        self.firmware = firmware
        self.capabilities = capabilities
    }

    public var supports32ByteLists: Bool { capabilities & 0x01 != 0 }
    public var supportsTroublesPart8: Bool { capabilities & 0x02 != 0 }
    public var supportsArmWithoutBypassFlag: Bool { capabilities & 0x04 != 0 }

    public static let answerLength = 12

    init(frame: SatelFrame) throws(SatelMessageError) {
        guard frame.data.count == Self.answerLength else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x7C answer needs 12 bytes")
        }
        firmware = FirmwareVersion(raw: String(decoding: frame.data[0...10], as: UTF8.self))
        capabilities = frame.data[11]
    }

    var data: [UInt8] {
        Array(firmware.raw.utf8.prefix(11)) + [capabilities]
    }
}
