import NIOCore

/// Splits modem output into lines (CR, LF or both end a line; empty lines between are skipped) and
/// recognises the `> ` prompt, which ends no line. Like postgres-nio's decoders it is single-step and
/// leaves the buffer untouched when the input is short. A run of bytes without a line end longer than
/// `maximumLineLength` is emitted as a (garbage) line so a babbling modem cannot grow the buffer forever.
public struct ATLineDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ModemLine

    public var maximumLineLength: Int

    public init(maximumLineLength: Int = 4096) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ModemLine? {
        while let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first == 0x0D || first == 0x0A {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        if first == UInt8(ascii: ">") {
            guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
            if second == UInt8(ascii: " ") {
                buffer.moveReaderIndex(forwardBy: 2)
                return .prompt
            }
        }
        let view = buffer.readableBytesView
        guard let end = view.firstIndex(where: { $0 == 0x0D || $0 == 0x0A }) else {
            if buffer.readableBytes > maximumLineLength {
                return .line(buffer.readString(length: buffer.readableBytes) ?? "")
            }
            return nil
        }
        let length = end - view.startIndex
        let bytes = buffer.readBytes(length: length) ?? []
        buffer.moveReaderIndex(forwardBy: 1)
        // Garbage is not UTF-8; decoding repairs it (U+FFFD) so the line can still be logged and skipped.
        return .line(String(decoding: bytes, as: UTF8.self))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ModemLine? {
        if let line = try decode(buffer: &buffer) { return line }
        guard seenEOF, buffer.readableBytes > 0 else { return nil }
        return .line(buffer.readString(length: buffer.readableBytes) ?? "")
    }
}
