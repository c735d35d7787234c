/// Every answer a panel sends, typed. Decoding needs only the frame: pushed frames arrive with no request.
public enum SatelResponse: Hashable, Sendable {
    case state(StateCommand, ObjectBitmap)
    /// The raw trouble bitmap; part 1 is decoded by `TroubleReport`.
    case troubles(TroublePart, [UInt8])
    case clockAndStatus(ClockAndStatus)
    case newData(NewDataFlags)
    case moduleVersion(ModuleVersion)
    case integraVersion(IntegraVersion)
    case zoneTemperature(ZoneTemperature)
    case deviceName(DeviceName)
    case event(EventLogAnswer)
    case eventText(EventText)
    case result(ResultCode)

    public var commandCode: SatelCommandCode {
        switch self {
        case .state(let state, _): state.code
        case .troubles(let part, _): part.code
        case .clockAndStatus: .clockAndStatus
        case .newData: .newData
        case .moduleVersion: .moduleVersion
        case .integraVersion: .integraVersion
        case .zoneTemperature: .zoneTemperature
        case .deviceName: .readDeviceName
        case .event: .readEvent
        case .eventText: .readEventText
        case .result: .result
        }
    }

    public var frame: SatelFrame {
        let data: [UInt8] = switch self {
        case .state(_, let bitmap): bitmap.bytes
        case .troubles(_, let bytes): bytes
        case .clockAndStatus(let status): status.data
        case .newData(let flags): flags.bytes
        case .moduleVersion(let version): version.data
        case .integraVersion(let version): version.data
        case .zoneTemperature(let temperature): temperature.data
        case .deviceName(let name): name.data
        case .event(let answer): answer.data
        case .eventText(let text): text.data
        case .result(let code): [code.rawValue]
        }
        return SatelFrame(command: commandCode.rawValue, data: data)
    }

    public init(frame: SatelFrame) throws(SatelMessageError) {
        let data = frame.data
        if let state = StateCommand(rawValue: frame.command) {
            // Accept 16 or 32 bytes whatever was asked: modules push 32-byte lists by themselves (doc §3.5).
            guard state.objectKind.acceptsBitmapLength(data.count) else {
                throw SatelMessageError(
                    code: .unexpectedLength, frame: frame, reason: "\(state.name) answer of \(data.count) bytes")
            }
            self = .state(state, ObjectBitmap(bytes: data))
            return
        }
        if let part = TroublePart(rawValue: frame.command) {
            // Lengths differ across firmware (parts 2 and 8 are not settled); keep whatever came.
            guard !data.isEmpty else {
                throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "empty trouble answer")
            }
            self = .troubles(part, data)
            return
        }
        switch frame.command {
        case 0x1A: self = .clockAndStatus(try ClockAndStatus(frame: frame))
        case 0x7C: self = .moduleVersion(try ModuleVersion(frame: frame))
        case 0x7D: self = .zoneTemperature(try ZoneTemperature(frame: frame))
        case 0x7E: self = .integraVersion(try IntegraVersion(frame: frame))
        case 0x7F:
            guard (5...7).contains(data.count) else {
                throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x7F answer needs 5-7 bytes")
            }
            self = .newData(NewDataFlags(bytes: data))
        case 0x8C: self = .event(try EventLogAnswer(frame: frame))
        case 0x8F: self = .eventText(try EventText(frame: frame))
        case 0xEE: self = .deviceName(try DeviceName(frame: frame))
        case 0xEF:
            guard data.count == 1 else {
                throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "result needs 1 byte")
            }
            self = .result(ResultCode(rawValue: data[0]))
        default:
            throw SatelMessageError(code: .unknownCommand, frame: frame, reason: "unknown answer")
        }
    }
}
