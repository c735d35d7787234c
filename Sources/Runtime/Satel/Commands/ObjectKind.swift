/// The kinds of objects a state bitmap describes, each with its fixed bitmap size.
public enum ObjectKind: String, Hashable, Sendable, Codable {
    case zone
    case partition
    case output
    case door

    /// Bytes in the normal form of a bitmap of this kind (zones and outputs have a 32-byte form too).
    public var standardBitmapLength: Int {
        switch self {
        case .zone, .output: 16
        case .partition: 4
        case .door: 8
        }
    }

    /// Zones and outputs come in 16 or 32 bytes (256-object panels); the others have one size.
    public var hasExtendedForm: Bool {
        self == .zone || self == .output
    }

    public func acceptsBitmapLength(_ length: Int) -> Bool {
        length == standardBitmapLength || (hasExtendedForm && length == 32)
    }
}
