/// The code in an `EF` result answer, with the meaning the protocol documents for it (doc §4.1).
public struct ResultCode: RawRepresentable, Hashable, Sendable, Codable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let ok = Self(rawValue: 0x00)
    public static let userCodeNotFound = Self(rawValue: 0x01)
    public static let noAccess = Self(rawValue: 0x02)
    public static let selectedUserDoesNotExist = Self(rawValue: 0x03)
    public static let selectedUserAlreadyExists = Self(rawValue: 0x04)
    public static let wrongCodeOrCodeExists = Self(rawValue: 0x05)
    public static let telephoneCodeExists = Self(rawValue: 0x06)
    public static let changedCodeIsTheSame = Self(rawValue: 0x07)
    public static let otherError = Self(rawValue: 0x08)
    public static let cannotArmButForceIsPossible = Self(rawValue: 0x11)
    public static let cannotArm = Self(rawValue: 0x12)
    public static let accepted = Self(rawValue: 0xFF)

    /// Both "OK" and "accepted" mean success; clients in the field treat them alike (doc §4).
    public var isSuccess: Bool {
        self == .ok || self == .accepted
    }

    /// What the code means, in words for an operator.
    public var meaning: String {
        switch rawValue {
        case 0x00: "OK"
        case 0x01: "requesting user code not found"
        case 0x02: "no access"
        case 0x03: "selected user does not exist"
        case 0x04: "selected user already exists"
        case 0x05: "wrong code or code already exists"
        case 0x06: "telephone code already exists"
        case 0x07: "changed code is the same"
        case 0x08: "other error"
        case 0x11: "cannot arm, but force arm is possible"
        case 0x12: "cannot arm"
        case 0x80...0x8F: "other error (0x\(SatelHex.string(rawValue)))"
        case 0xFF: "command accepted, will be processed"
        default: "unknown result 0x\(SatelHex.string(rawValue))"
        }
    }
}

extension ResultCode: CustomStringConvertible {
    public var description: String { "0x\(SatelHex.string(rawValue)) \(meaning)" }
}
