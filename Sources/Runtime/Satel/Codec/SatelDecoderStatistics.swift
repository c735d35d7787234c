/// Running counts kept by a `SatelFrameDecoder`: good frames, bytes, and malformed input by error code.
public struct SatelDecoderStatistics: Hashable, Sendable, Codable {
    public var framesDecoded = 0
    public var bytesConsumed = 0
    public var malformedByCode: [SatelFramingError.Code: Int] = [:]

    public init() {}

    /// Every malformed frame or stray run of bytes, whatever its code.
    public var malformedTotal: Int {
        malformedByCode.values.reduce(0, +)
    }

    public mutating func record(_ error: SatelFramingError) {
        malformedByCode[error.code, default: 0] += 1
    }
}
