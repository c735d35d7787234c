/// The CRC of a DC-09 frame: CRC-16/ARC (polynomial 0x8005 reflected as 0xA001, initial value 0, no final XOR),
/// over the bytes from the ID token's opening quote to the end of the timestamp, sent as 4 hex digits.
public enum DC09CRC {
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }
}
