/// Every request a client sends, typed; `frame` encodes it and `init(frame:)` reads it back (the simulator's side).
public enum SatelRequest: Hashable, Sendable {
    /// A bitmap read; `extended` adds the extra byte that asks a 256 Plus for the 32-byte zone/output form.
    case readState(StateCommand, extended: Bool = false)
    case readTroubles(TroublePart)
    case readClockAndStatus
    /// 0x7F with 0, 1 or 2 extra zero bytes for a 5, 6 or 7-byte answer.
    case readNewData(answerLength: Int = 6)
    /// 0x7F with 12 or 14 bytes: push the answers of the selected commands whenever they change (doc §3.7).
    /// The second half has no documented meaning; every known client sends zeros.
    case startMonitoring(NewDataFlags)
    case readModuleVersion
    case readIntegraVersion
    case readZoneTemperature(zone: Int)
    case readDeviceName(DeviceKind, number: Int)
    case readEvent(EventLogIndex)
    case readEventText(code: Int, restore: Bool, long: Bool)
    case control(ControlCommand, code: UserCode)

    public var commandCode: SatelCommandCode {
        switch self {
        case .readState(let state, _): state.code
        case .readTroubles(let part): part.code
        case .readClockAndStatus: .clockAndStatus
        case .readNewData, .startMonitoring: .newData
        case .readModuleVersion: .moduleVersion
        case .readIntegraVersion: .integraVersion
        case .readZoneTemperature: .zoneTemperature
        case .readDeviceName: .readDeviceName
        case .readEvent: .readEvent
        case .readEventText: .readEventText
        case .control(let control, _): control.commandCode
        }
    }

    /// The answer command byte that completes this request (besides an `EF` result, which completes any).
    public var answerCode: SatelCommandCode {
        switch self {
        case .control, .startMonitoring: .result
        default: commandCode
        }
    }

    public var frame: SatelFrame {
        let command = commandCode.rawValue
        switch self {
        case .readState(let state, let extended):
            return SatelFrame(command: command, data: extended && state.objectKind.hasExtendedForm ? [0x00] : [])
        case .readTroubles, .readClockAndStatus, .readModuleVersion, .readIntegraVersion:
            return SatelFrame(command: command)
        case .readNewData(let answerLength):
            return SatelFrame(command: command, data: [UInt8](repeating: 0, count: max(0, min(answerLength, 7) - 5)))
        case .startMonitoring(let selection):
            let half = selection.bytes.count >= 7 ? 7 : 6
            var bytes = selection.bytes.prefix(half)
            bytes += [UInt8](repeating: 0, count: half - bytes.count)
            return SatelFrame(command: command, data: Array(bytes) + [UInt8](repeating: 0, count: half))
        case .readZoneTemperature(let zone):
            return SatelFrame(command: command, data: [UInt8(truncatingIfNeeded: zone)])
        case .readDeviceName(let kind, let number):
            return SatelFrame(command: command, data: [kind.rawValue, UInt8(truncatingIfNeeded: number)])
        case .readEvent(let index):
            return SatelFrame(command: command, data: index.bytes)
        case .readEventText(let code, let restore, let long):
            return SatelFrame(command: command, data: EventText.selectorBytes(code: code, restore: restore, long: long))
        case .control(let control, let code):
            return SatelFrame(command: command, data: code.encoded + control.argumentBytes)
        }
    }

    /// Reads a request frame (what a panel does). Unknown commands and wrong lengths are errors.
    public init(frame: SatelFrame) throws(SatelMessageError) {
        let data = frame.data
        func expect(_ condition: Bool, _ reason: String) throws(SatelMessageError) {
            if !condition { throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: reason) }
        }
        if let state = StateCommand(rawValue: frame.command) {
            try expect(data.count <= 1, "a state read takes at most one extra byte")
            self = .readState(state, extended: data.count == 1 && state.objectKind.hasExtendedForm)
            return
        }
        if let part = TroublePart(rawValue: frame.command) {
            try expect(data.count <= 1, "a trouble read takes no data")
            self = .readTroubles(part)
            return
        }
        switch frame.command {
        case 0x1A:
            try expect(data.isEmpty, "0x1A takes no data")
            self = .readClockAndStatus
        case 0x7C:
            try expect(data.isEmpty, "0x7C takes no data")
            self = .readModuleVersion
        case 0x7E:
            try expect(data.isEmpty, "0x7E takes no data")
            self = .readIntegraVersion
        case 0x7D:
            try expect(data.count == 1, "0x7D takes a zone byte")
            self = .readZoneTemperature(zone: data[0] == 0 ? 256 : Int(data[0]))
        case 0x7F:
            switch data.count {
            case 0...2: self = .readNewData(answerLength: 5 + data.count)
            case 12, 14: self = .startMonitoring(NewDataFlags(bytes: Array(data.prefix(data.count / 2))))
            default: throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x7F takes 0-2, 12 or 14 bytes")
            }
        case 0x8C:
            try expect(data.count == 3, "0x8C takes a 3-byte index")
            self = .readEvent(EventLogIndex(bytes: data[0..<3]))
        case 0x8F:
            try expect(data.count == 2, "0x8F takes 2 bytes")
            let selector = EventText.selector(high: data[0], low: data[1])
            self = .readEventText(code: selector.code, restore: selector.restore, long: selector.long)
        case 0xEE:
            try expect(data.count == 2, "0xEE takes a type and a number")
            self = .readDeviceName(DeviceKind(rawValue: data[0]), number: data[1] == 0 ? 256 : Int(data[1]))
        case 0x80...0x91, 0xA0...0xA3:
            try expect(data.count >= 8, "a control command starts with an 8-byte user code")
            let code: UserCode
            do {
                code = try UserCode(encoded: data[0..<8])
            } catch {
                throw SatelMessageError(code: .invalidField, frame: frame, reason: "user code is not packed BCD")
            }
            let control = try ControlCommand.decode(command: frame.command, arguments: data[8...], frame: frame)
            self = .control(control, code: code)
        default:
            throw SatelMessageError(code: .unknownCommand, frame: frame, reason: "unsupported command")
        }
    }
}
