/// A malformed frame or stray bytes seen by the frame decoder: a value, never a crash.
///
/// The decoder reports these in-band (as `SatelDecodedItem.malformed`) so the connection keeps running and the
/// caller counts them; `bytes` are the raw wire bytes that were dropped, capped at `maximumReportedBytes`.
public struct SatelFramingError: Error, Hashable, Sendable {
    public enum Code: String, Hashable, Sendable, CaseIterable, Codable {
        /// Bytes arrived outside a frame (before a sync): the "Busy!" banner, line noise, encryption padding.
        case bytesOutsideFrame
        /// A new `FE FE` sync arrived in the middle of a frame; what was collected is dropped.
        case interruptedBySync
        /// `FE` inside a frame followed by something other than `F0`, `0D` or `FE`.
        case invalidEscape
        /// The frame ended before it held a command byte and the two CRC bytes.
        case frameTooShort
        /// The frame grew beyond the longest frame the protocol has; it is dropped and the receiver resyncs.
        case frameTooLong
        /// The CRC in the frame does not match the CRC of its command and data.
        case crcMismatch
        /// The connection ended in the middle of a frame.
        case truncatedAtEndOfStream
    }

    public var code: Code
    /// The raw bytes as they came off the wire (stuffed), possibly truncated to `maximumReportedBytes`.
    public var bytes: [UInt8]
    /// How many raw bytes were dropped in all (can exceed `bytes.count`).
    public var droppedByteCount: Int

    public init(code: Code, bytes: [UInt8], droppedByteCount: Int? = nil) {
        self.code = code
        self.bytes = Array(bytes.prefix(SatelFramingError.maximumReportedBytes))
        self.droppedByteCount = droppedByteCount ?? bytes.count
    }

    /// Error values keep at most this many raw bytes so garbage floods cannot grow memory.
    public static let maximumReportedBytes = 256
}

extension SatelFramingError: CustomStringConvertible {
    public var description: String {
        "SatelFramingError(\(code.rawValue), \(droppedByteCount) bytes: \(SatelHex.string(bytes)))"
    }
}
