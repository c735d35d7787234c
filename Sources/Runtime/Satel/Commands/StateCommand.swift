/// The read commands that answer with one object bitmap (protocol doc §3.1).
public enum StateCommand: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case zonesViolation = 0x00
    case zonesTamper = 0x01
    case zonesAlarm = 0x02
    case zonesTamperAlarm = 0x03
    case zonesAlarmMemory = 0x04
    case zonesTamperAlarmMemory = 0x05
    case zonesBypass = 0x06
    case zonesNoViolationTrouble = 0x07
    case zonesLongViolationTrouble = 0x08
    case partitionsArmedSuppressed = 0x09
    case partitionsArmed = 0x0A
    case partitionsArmedMode2 = 0x0B
    case partitionsArmedMode3 = 0x0C
    case partitionsFirstCodeEntered = 0x0D
    case partitionsEntryTime = 0x0E
    case partitionsExitTimeLong = 0x0F
    case partitionsExitTimeShort = 0x10
    case partitionsTemporarilyBlocked = 0x11
    case partitionsBlockedForGuardRound = 0x12
    case partitionsAlarm = 0x13
    case partitionsFireAlarm = 0x14
    case partitionsAlarmMemory = 0x15
    case partitionsFireAlarmMemory = 0x16
    case outputsState = 0x17
    case doorsOpened = 0x18
    case doorsOpenedLong = 0x19
    case partitionsWithViolatedZones = 0x25
    case zonesIsolate = 0x26
    case partitionsWithVerifiedAlarms = 0x27
    case zonesMasked = 0x28
    case zonesMaskedMemory = 0x29
    case partitionsArmedMode1 = 0x2A
    case partitionsWithWarningAlarms = 0x2B

    public var code: SatelCommandCode { SatelCommandCode(rawValue) }

    public var objectKind: ObjectKind {
        switch rawValue {
        case 0x00...0x08, 0x26, 0x28, 0x29: .zone
        case 0x17: .output
        case 0x18, 0x19: .door
        default: .partition
        }
    }

    public var name: String {
        switch self {
        case .zonesViolation: "zones violation"
        case .zonesTamper: "zones tamper"
        case .zonesAlarm: "zones alarm"
        case .zonesTamperAlarm: "zones tamper alarm"
        case .zonesAlarmMemory: "zones alarm memory"
        case .zonesTamperAlarmMemory: "zones tamper alarm memory"
        case .zonesBypass: "zones bypass"
        case .zonesNoViolationTrouble: "zones no violation trouble"
        case .zonesLongViolationTrouble: "zones long violation trouble"
        case .partitionsArmedSuppressed: "partitions armed (suppressed)"
        case .partitionsArmed: "partitions armed"
        case .partitionsArmedMode2: "partitions armed in mode 2"
        case .partitionsArmedMode3: "partitions armed in mode 3"
        case .partitionsFirstCodeEntered: "partitions with 1st code entered"
        case .partitionsEntryTime: "partitions entry time"
        case .partitionsExitTimeLong: "partitions exit time > 10 s"
        case .partitionsExitTimeShort: "partitions exit time < 10 s"
        case .partitionsTemporarilyBlocked: "partitions temporarily blocked"
        case .partitionsBlockedForGuardRound: "partitions blocked for guard round"
        case .partitionsAlarm: "partitions alarm"
        case .partitionsFireAlarm: "partitions fire alarm"
        case .partitionsAlarmMemory: "partitions alarm memory"
        case .partitionsFireAlarmMemory: "partitions fire alarm memory"
        case .outputsState: "outputs state"
        case .doorsOpened: "doors opened"
        case .doorsOpenedLong: "doors opened long"
        case .partitionsWithViolatedZones: "partitions with violated zones"
        case .zonesIsolate: "zones isolate"
        case .partitionsWithVerifiedAlarms: "partitions with verified alarms"
        case .zonesMasked: "zones masked"
        case .zonesMaskedMemory: "zones masked memory"
        case .partitionsArmedMode1: "partitions armed in mode 1"
        case .partitionsWithWarningAlarms: "partitions with warning alarms"
        }
    }
}
