/// The 0x7D answer: a temperature zone's reading (doc §3.4).
public struct ZoneTemperature: Hashable, Sendable, Codable {
    public var zone: Int
    /// The raw reading; −55.0 °C + 0.5 °C × raw, `0xFFFF` means undetermined.
    public var raw: UInt16

    public init(zone: Int, raw: UInt16) {
        self.zone = zone
        self.raw = raw
    }

    public var celsius: Double? {
        raw == 0xFFFF ? nil : -55.0 + 0.5 * Double(raw)
    }

    init(frame: SatelFrame) throws(SatelMessageError) {
        guard frame.data.count == 3 else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x7D answer needs 3 bytes")
        }
        zone = frame.data[0] == 0 ? 256 : Int(frame.data[0])
        raw = UInt16(frame.data[1]) << 8 | UInt16(frame.data[2])
    }

    var data: [UInt8] { [UInt8(truncatingIfNeeded: zone), UInt8(raw >> 8), UInt8(raw & 0xFF)] }
}
