/// The SATEL-specific CRC-16 that protects every integration frame.
///
/// It is not a CCITT or IBM variant: each byte rotates the accumulator left by one bit, inverts it and then
/// adds the high byte of the *rotated and inverted* value together with the data byte (protocol doc §1.4).
public enum SatelCRC {
    /// The value the accumulator starts from.
    public static let initialValue: UInt16 = 0x147A

    /// Feeds one more byte into a running CRC.
    @inlinable
    public static func update(_ crc: UInt16, with byte: UInt8) -> UInt16 {
        var value = (crc << 1) | (crc >> 15)
        value = ~value
        return value &+ (value >> 8) &+ UInt16(byte)
    }

    /// The CRC of `bytes`, which are the unstuffed command byte followed by the data bytes.
    @inlinable
    public static func compute<Bytes: Sequence>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var crc = initialValue
        for byte in bytes {
            crc = update(crc, with: byte)
        }
        return crc
    }
}
