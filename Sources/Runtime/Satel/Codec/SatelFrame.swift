import NIOCore

/// One integration-protocol frame: a command byte and its data, without sync, stuffing, CRC or end marker.
///
/// The same shape travels both ways; an answer carries the request's command byte or `0xEF` (a result).
public struct SatelFrame: Hashable, Sendable {
    /// The command code. It is never `0xFE` on the wire (the receiver rules treat `FE` after sync as filler).
    public var command: UInt8
    /// The command-specific data bytes, unstuffed.
    public var data: [UInt8]

    public init(command: UInt8, data: [UInt8] = []) {
        self.command = command
        self.data = data
    }

    /// The CRC over the command byte and the data, as sent after them.
    public var crc: UInt16 {
        var crc = SatelCRC.update(SatelCRC.initialValue, with: command)
        for byte in data {
            crc = SatelCRC.update(crc, with: byte)
        }
        return crc
    }

    /// Writes the frame as it goes on the wire: `FE FE`, the stuffed body and CRC, `FE 0D`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 8 + data.count * 2)
        buffer.writeInteger(SatelFrame.syncByte)
        buffer.writeInteger(SatelFrame.syncByte)
        writeStuffed(command, into: &buffer)
        for byte in data {
            writeStuffed(byte, into: &buffer)
        }
        let crc = self.crc
        writeStuffed(UInt8(truncatingIfNeeded: crc >> 8), into: &buffer)
        writeStuffed(UInt8(truncatingIfNeeded: crc), into: &buffer)
        buffer.writeInteger(SatelFrame.syncByte)
        buffer.writeInteger(SatelFrame.endByte)
    }

    /// The frame's wire bytes as an array, for tests, logs and the encrypted PDU.
    public var wireBytes: [UInt8] {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    @inline(__always)
    private func writeStuffed(_ byte: UInt8, into buffer: inout ByteBuffer) {
        buffer.writeInteger(byte)
        if byte == SatelFrame.syncByte {
            buffer.writeInteger(SatelFrame.stuffByte)
        }
    }

    /// `FE`: twice at the start, first half of every escape inside a frame.
    public static let syncByte: UInt8 = 0xFE
    /// `F0`: follows `FE` to mean a literal `FE` inside a frame.
    public static let stuffByte: UInt8 = 0xF0
    /// `0D`: follows `FE` to end a frame.
    public static let endByte: UInt8 = 0x0D
}

extension SatelFrame: CustomStringConvertible {
    public var description: String {
        "SatelFrame(\(SatelHex.string(command)) \(SatelHex.string(data)))"
    }
}
