/// What an ETHM-1 sends to a second client before closing: `0x10`, `Busy!\r\n` and filler, 16 bytes in all
/// (doc §7.2). Clients recognise it by its first five bytes.
public enum BusyBanner {
    public static let bytes: [UInt8] = [0x10, 0x42, 0x75, 0x73, 0x79, 0x21, 0x0D, 0x0A, 0xD8, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5]

    /// The prefix that identifies the banner, in plain and encrypted mode alike.
    public static let signature: [UInt8] = Array(bytes.prefix(5))
}
