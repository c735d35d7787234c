/// One decoded RESP2 reply. Error replies are values here (a script or a pipeline can carry them inside an
/// array); the typed command helpers on `RedisClient` turn a top-level error into a thrown `RedisError`.
public enum RedisValue: Sendable, Hashable, CustomStringConvertible {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisValue])
    case null

    /// The text of a bulk string or status reply.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal number (what GET returns for a counter).
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk: string.flatMap { Int64($0) }
        default: nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "$\(bytes.count)"
        case .array(let elements): "*[\(elements.map(\.description).joined(separator: ", "))]"
        case .null: "(nil)"
        }
    }
}
