import NIOCore

/// Cuts DC-09 frames (LF ... CR) out of a TCP stream: a read may hold several frames or part of one. Single-step
/// like postgres-nio's decoders: it returns one item, or nil with the buffer untouched until more bytes come.
/// Bytes that cannot be part of a frame are dropped and reported (`DC09StreamItem.discarded`), so the caller counts
/// them, and a frame that never ends cannot grow the buffer past `maximumFrameLength`.
public struct DC09FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = DC09StreamItem

    static let lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")

    /// CRC and length (8 bytes) and the longest message the 3 hex digits of `0LLL` can announce (4,095 bytes).
    public var maximumFrameLength: Int

    public init(maximumFrameLength: Int = 8 + 0xFFF) {
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> DC09StreamItem? {
        let view = buffer.readableBytesView
        guard let start = view.firstIndex(of: Self.lineFeed) else {
            // No frame begins in what is here: all of it is noise.
            guard !view.isEmpty else { return nil }
            buffer.moveReaderIndex(forwardBy: view.count)
            return .discarded(byteCount: view.count, reason: .beforeFrame)
        }
        if start > view.startIndex {
            let count = start - view.startIndex
            buffer.moveReaderIndex(forwardBy: count)
            return .discarded(byteCount: count, reason: .beforeFrame)
        }
        let body = view.index(after: start)
        let limit = min(view.endIndex, body + maximumFrameLength + 1)
        if let end = view[body..<limit].firstIndex(where: { $0 == Self.carriageReturn || $0 == Self.lineFeed }) {
            let length = end - body
            if view[end] == Self.lineFeed {
                // A new frame starts before this one ended: drop the broken one, keep the new one's LF.
                buffer.moveReaderIndex(forwardBy: 1 + length)
                return .discarded(byteCount: 1 + length, reason: .unterminated)
            }
            buffer.moveReaderIndex(forwardBy: 1)
            let frame = buffer.readBytes(length: length) ?? []
            buffer.moveReaderIndex(forwardBy: 1)
            return .frame(frame)
        }
        guard limit - body > maximumFrameLength else { return nil }
        // Past the largest frame without a CR: drop what is here; the next LF starts over.
        let count = limit - view.startIndex
        buffer.moveReaderIndex(forwardBy: count)
        return .discarded(byteCount: count, reason: .tooLong)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> DC09StreamItem? {
        if let item = try decode(buffer: &buffer) { return item }
        guard seenEOF, buffer.readableBytes > 0 else { return nil }
        let count = buffer.readableBytes
        buffer.moveReaderIndex(forwardBy: count)
        return .discarded(byteCount: count, reason: .unterminated)
    }

    /// A UDP datagram's frame: one frame a datagram, LF ... CR with nothing around it; the bytes between, else nil.
    public static func datagramFrame(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 2, bytes.first == lineFeed, bytes.last == carriageReturn else { return nil }
        return Array(bytes.dropFirst().dropLast())
    }
}
