#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Cuts the byte stream into `SatelFrame`s following the receiver rules of protocol doc §1.3.
///
/// It never throws for bad input: malformed frames and stray bytes come out as `.malformed` values (and are
/// counted in `statistics`) so that one bad frame cannot tear down the connection. Like postgres-nio's decoders it
/// rewinds on short input: an incomplete frame leaves the buffer untouched until more bytes arrive.
public struct SatelFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = SatelDecodedItem

    /// The longest unstuffed body (command + data + CRC) accepted. The longest real answer is 0x8F with a
    /// 46-character text (1 + 51 + 2 bytes); 1 KiB leaves room without letting garbage grow the buffer.
    public var maximumBodyLength: Int

    /// Counts of everything decoded so far.
    public private(set) var statistics = SatelDecoderStatistics()

    public init(maximumBodyLength: Int = 1024) {
        self.maximumBodyLength = maximumBodyLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> SatelDecodedItem? {
        let step = buffer.withUnsafeReadableBytes { bytes in
            SatelFrameDecoder.scan(bytes, maximumBodyLength: maximumBodyLength)
        }
        switch step {
        case .needMoreData(let discardable):
            // Leading FE runs longer than a sync carry no information; drop the excess so they cannot pile up.
            if discardable > 0 {
                buffer.moveReaderIndex(forwardBy: discardable)
            }
            return nil
        case .frame(let consumed, let frame):
            buffer.moveReaderIndex(forwardBy: consumed)
            statistics.framesDecoded += 1
            statistics.bytesConsumed += consumed
            return .frame(frame)
        case .malformed(let consumed, let code):
            let raw = buffer.readBytes(length: min(consumed, SatelFramingError.maximumReportedBytes)) ?? []
            buffer.moveReaderIndex(forwardBy: consumed - raw.count)
            let error = SatelFramingError(code: code, bytes: raw, droppedByteCount: consumed)
            statistics.record(error)
            statistics.bytesConsumed += consumed
            return .malformed(error)
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SatelDecodedItem? {
        if let item = try decode(buffer: &buffer) {
            return item
        }
        guard buffer.readableBytes > 0 else { return nil }
        // Whatever is left can never complete: report it once as a truncated frame (or as stray bytes).
        let count = buffer.readableBytes
        let raw = buffer.readBytes(length: min(count, SatelFramingError.maximumReportedBytes)) ?? []
        buffer.moveReaderIndex(forwardBy: count - raw.count)
        let isFrameStart = raw.count >= 2 && raw[0] == SatelFrame.syncByte && raw[1] == SatelFrame.syncByte
        let error = SatelFramingError(
            code: isFrameStart ? .truncatedAtEndOfStream : .bytesOutsideFrame,
            bytes: raw,
            droppedByteCount: count
        )
        statistics.record(error)
        statistics.bytesConsumed += count
        return .malformed(error)
    }

    enum Step {
        /// Wait for more bytes; `discardable` leading bytes may be dropped without losing anything.
        case needMoreData(discardable: Int)
        case frame(consumed: Int, SatelFrame)
        case malformed(consumed: Int, SatelFramingError.Code)
    }

    /// One pass over the readable bytes; pure so it can be reasoned about (and fuzzed) in isolation.
    static func scan(_ bytes: UnsafeRawBufferPointer, maximumBodyLength: Int) -> Step {
        let count = bytes.count
        let sync = SatelFrame.syncByte

        // 1. Find the sync: the first `FE FE`. Everything before it is outside any frame.
        var syncStart = 0
        while syncStart + 1 < count {
            if bytes[syncStart] == sync {
                if bytes[syncStart + 1] == sync { break }
                syncStart += 1
            } else {
                syncStart += 1
            }
        }
        if syncStart + 1 >= count {
            // No sync yet. Keep a trailing FE: it may be the first half of the next sync.
            let keep = (count > 0 && bytes[count - 1] == sync) ? 1 : 0
            let garbage = count - keep
            return garbage > 0 ? .malformed(consumed: garbage, .bytesOutsideFrame) : .needMoreData(discardable: 0)
        }
        if syncStart > 0 {
            return .malformed(consumed: syncStart, .bytesOutsideFrame)
        }

        // 2. Skip the sync and any further FE bytes (rule 2: ignored while waiting for the command byte).
        var index = 2
        while index < count && bytes[index] == sync {
            index += 1
        }
        if index >= count {
            return .needMoreData(discardable: index - 2)
        }

        // 3. The command byte is never FE, so it is the byte right after the sync. Then collect the data and
        //    the CRC, unstuffing, until `FE 0D`.
        let command = bytes[index]
        index += 1
        var body: [UInt8] = []
        body.reserveCapacity(min(count - index, 64))
        while index < count {
            if bytes[index] != sync {
                // Copy the run up to the next FE in one go: most of a frame is such a run.
                let runEnd = nextSync(in: bytes, from: index)
                let room = maximumBodyLength - 1 - body.count
                if runEnd - index > room {
                    return .malformed(consumed: index + room, .frameTooLong)
                }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<runEnd]))
                index = runEnd
                continue
            }
            guard index + 1 < count else { return .needMoreData(discardable: 0) }
            switch bytes[index + 1] {
            case SatelFrame.stuffByte:
                if body.count + 1 >= maximumBodyLength {
                    return .malformed(consumed: index, .frameTooLong)
                }
                body.append(sync)
                index += 2
            case SatelFrame.endByte:
                let consumed = index + 2
                guard body.count >= 2 else { return .malformed(consumed: consumed, .frameTooShort) }
                let dataEnd = body.count - 2
                var crc = SatelCRC.update(SatelCRC.initialValue, with: command)
                for position in 0..<dataEnd {
                    crc = SatelCRC.update(crc, with: body[position])
                }
                let received = UInt16(body[dataEnd]) << 8 | UInt16(body[dataEnd + 1])
                guard crc == received else { return .malformed(consumed: consumed, .crcMismatch) }
                body.removeLast(2)
                return .frame(consumed: consumed, SatelFrame(command: command, data: body))
            case sync:
                // Rule 1: a new sync. Drop what was collected; the `FE FE` stays for the next frame.
                return .malformed(consumed: index, .interruptedBySync)
            default:
                return .malformed(consumed: index + 2, .invalidEscape)
            }
        }
        return .needMoreData(discardable: 0)
    }

    /// The index of the next `FE` at or after `start`, or `bytes.count`.
    @inline(__always)
    private static func nextSync(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return bytes.count }
        guard let found = memchr(base + start, Int32(SatelFrame.syncByte), bytes.count - start) else { return bytes.count }
        return base.distance(to: UnsafeRawPointer(found))
    }
}
