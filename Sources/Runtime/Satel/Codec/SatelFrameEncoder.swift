import NIOCore

/// Writes `SatelFrame`s with sync bytes, stuffing, CRC and end marker.
public struct SatelFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = SatelFrame

    public init() {}

    public func encode(data: SatelFrame, out: inout ByteBuffer) throws {
        data.encode(into: &out)
    }
}
