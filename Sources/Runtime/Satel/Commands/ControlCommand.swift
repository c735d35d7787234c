/// The control commands (0x80 and up) that change the panel, each answered with an `EF` result.
///
/// Every one is sent with a user code; `SatelRequest.control(_:code:)` pairs them.
public enum ControlCommand: Hashable, Sendable {
    /// Arm `partitions` (4-byte bitmap) in `mode`; `force` uses 0xA0–0xA3 (arm despite violated zones).
    /// `withoutBypassAndDelay` adds the optional flag byte 0x80 (only modules with 0x7C caps bit 2 take it).
    case arm(mode: ArmMode, partitions: ObjectBitmap, force: Bool = false, withoutBypassAndDelay: Bool = false)
    case disarm(partitions: ObjectBitmap)
    case clearAlarm(partitions: ObjectBitmap)
    /// Zone lists are 16 or 32 bytes; 32 reaches zones 129–256 on an INTEGRA 256 Plus.
    case bypassZones(ObjectBitmap)
    case unbypassZones(ObjectBitmap)
    case isolateZones(ObjectBitmap)
    /// Output lists are 16 or 32 bytes.
    case outputsOn(ObjectBitmap)
    case outputsOff(ObjectBitmap)
    case outputsSwitch(ObjectBitmap)
    /// Doors/expanders, 8 bytes (openHAB's layout).
    case openDoors(ObjectBitmap)
    case clearTroubleMemory
    case setClock(ClockSetting)

    public var commandCode: SatelCommandCode {
        switch self {
        case .arm(let mode, _, let force, _): SatelCommandCode((force ? 0xA0 : 0x80) + mode.rawValue)
        case .disarm: .disarm
        case .clearAlarm: .clearAlarm
        case .bypassZones: .bypassZones
        case .unbypassZones: .unbypassZones
        case .isolateZones: .isolateZones
        case .outputsOn: .outputsOn
        case .outputsOff: .outputsOff
        case .outputsSwitch: .outputsSwitch
        case .openDoors: .openDoors
        case .clearTroubleMemory: .clearTroubleMemory
        case .setClock: .setClock
        }
    }

    /// The data after the user code.
    var argumentBytes: [UInt8] {
        switch self {
        case .arm(_, let partitions, _, let flag):
            partitions.resized(to: 4).bytes + (flag ? [0x80] : [])
        case .disarm(let partitions), .clearAlarm(let partitions):
            partitions.resized(to: 4).bytes
        case .bypassZones(let list), .unbypassZones(let list), .isolateZones(let list), .outputsOn(let list),
            .outputsOff(let list), .outputsSwitch(let list):
            list.bytes.count == 32 ? list.bytes : list.resized(to: 16).bytes
        case .openDoors(let doors):
            doors.resized(to: 8).bytes
        case .clearTroubleMemory:
            []
        case .setClock(let setting):
            setting.digits
        }
    }

    /// Reads a control frame's arguments (after the 8-byte user code) back into a command.
    static func decode(command: UInt8, arguments: ArraySlice<UInt8>, frame: SatelFrame) throws(SatelMessageError)
        -> ControlCommand
    {
        func wrongLength(_ expected: String) -> SatelMessageError {
            SatelMessageError(code: .unexpectedLength, frame: frame, reason: "\(expected) after the user code")
        }
        let bytes = Array(arguments)
        switch command {
        case 0x80...0x83, 0xA0...0xA3:
            guard bytes.count == 4 || bytes.count == 5 else { throw wrongLength("4 or 5 bytes") }
            let mode = ArmMode(rawValue: command & 0x03)!
            return .arm(
                mode: mode, partitions: ObjectBitmap(bytes: Array(bytes[0..<4])), force: command >= 0xA0,
                withoutBypassAndDelay: bytes.count == 5 && bytes[4] & 0x80 != 0)
        case 0x84, 0x85:
            guard bytes.count == 4 else { throw wrongLength("4 bytes") }
            return command == 0x84 ? .disarm(partitions: ObjectBitmap(bytes: bytes)) : .clearAlarm(partitions: ObjectBitmap(bytes: bytes))
        case 0x86, 0x87, 0x88, 0x89, 0x90, 0x91:
            guard bytes.count == 16 || bytes.count == 32 else { throw wrongLength("16 or 32 bytes") }
            let list = ObjectBitmap(bytes: bytes)
            switch command {
            case 0x86: return .bypassZones(list)
            case 0x87: return .unbypassZones(list)
            case 0x88: return .outputsOn(list)
            case 0x89: return .outputsOff(list)
            case 0x90: return .isolateZones(list)
            default: return .outputsSwitch(list)
            }
        case 0x8A:
            guard bytes.count == 8 else { throw wrongLength("8 bytes") }
            return .openDoors(ObjectBitmap(bytes: bytes))
        case 0x8B:
            guard bytes.isEmpty else { throw wrongLength("no bytes") }
            return .clearTroubleMemory
        case 0x8E:
            guard arguments.count == 14 else { throw wrongLength("14 ASCII digits") }
            guard let setting = ClockSetting(digits: arguments) else {
                throw SatelMessageError(code: .invalidField, frame: frame, reason: "not a valid date and time")
            }
            return .setClock(setting)
        default:
            throw SatelMessageError(code: .unknownCommand, frame: frame, reason: "not a control command")
        }
    }
}
