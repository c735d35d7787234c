/// A command byte, with the names the protocol gives them.
///
/// A struct rather than an enum: panels push frames with codes we may not model, and those must stay
/// representable (and reportable) instead of failing to decode.
public struct SatelCommandCode: RawRepresentable, Hashable, Sendable, Comparable, Codable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let clockAndStatus = Self(0x1A)
    public static let moduleVersion = Self(0x7C)
    public static let zoneTemperature = Self(0x7D)
    public static let integraVersion = Self(0x7E)
    public static let newData = Self(0x7F)
    public static let disarm = Self(0x84)
    public static let clearAlarm = Self(0x85)
    public static let bypassZones = Self(0x86)
    public static let unbypassZones = Self(0x87)
    public static let outputsOn = Self(0x88)
    public static let outputsOff = Self(0x89)
    public static let openDoors = Self(0x8A)
    public static let clearTroubleMemory = Self(0x8B)
    public static let readEvent = Self(0x8C)
    public static let setClock = Self(0x8E)
    public static let readEventText = Self(0x8F)
    public static let isolateZones = Self(0x90)
    public static let outputsSwitch = Self(0x91)
    public static let readDeviceName = Self(0xEE)
    public static let result = Self(0xEF)

    /// What the command does, for logs and reports.
    public var name: String {
        if let state = StateCommand(rawValue: rawValue) { return state.name }
        if let part = TroublePart(rawValue: rawValue) { return part.name }
        switch rawValue {
        case 0x1A: return "RTC and basic status"
        case 0x7C: return "communication module version"
        case 0x7D: return "zone temperature"
        case 0x7E: return "INTEGRA version"
        case 0x7F: return "list of new data"
        case 0x80...0x83: return "arm in mode \(rawValue - 0x80)"
        case 0x84: return "disarm"
        case 0x85: return "clear alarm"
        case 0x86: return "zones bypass"
        case 0x87: return "zones unbypass"
        case 0x88: return "outputs on"
        case 0x89: return "outputs off"
        case 0x8A: return "open door"
        case 0x8B: return "clear trouble memory"
        case 0x8C: return "read event"
        case 0x8D: return "enter 1st code"
        case 0x8E: return "set RTC clock"
        case 0x8F: return "read event text"
        case 0x90: return "zones isolate"
        case 0x91: return "outputs switch"
        case 0xA0...0xA3: return "force arm in mode \(rawValue - 0xA0)"
        case 0xEE: return "read device name"
        case 0xEF: return "result"
        default: return "command 0x\(SatelHex.string(rawValue))"
        }
    }
}
