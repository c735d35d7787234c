/// The 0x7E answer: which panel this is and its firmware (doc §3.4).
public struct IntegraVersion: Hashable, Sendable, Codable {
    public var typeCode: UInt8
    public var firmware: FirmwareVersion
    public var languageCode: UInt8
    /// `0xFF` in the last byte: the settings are stored in flash.
    public var settingsInFlash: Bool

    public init(typeCode: UInt8, firmware: FirmwareVersion, languageCode: UInt8, settingsInFlash: Bool) {
        self.typeCode = typeCode
        self.firmware = firmware
        self.languageCode = languageCode
        self.settingsInFlash = settingsInFlash
    }

    public var model: PanelModel { PanelModel.forTypeCode(typeCode) }

    public static let answerLength = 14

    init(frame: SatelFrame) throws(SatelMessageError) {
        guard frame.data.count == Self.answerLength else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x7E answer needs 14 bytes")
        }
        typeCode = frame.data[0]
        firmware = FirmwareVersion(raw: String(decoding: frame.data[1...11], as: UTF8.self))
        languageCode = frame.data[12]
        settingsInFlash = frame.data[13] == 0xFF
    }

    var data: [UInt8] {
        [typeCode] + Array(firmware.raw.utf8.prefix(11)) + [languageCode, settingsInFlash ? 0xFF : 0x00]
    }
}
