/// One 8-byte event-log record with its fields decoded (doc §6.3).
public struct EventRecord: Hashable, Sendable, Codable {
    /// The 8 bytes as the panel sent them.
    public var raw: [UInt8]

    /// Takes the 8 record bytes; anything shorter is zero-padded and anything longer cut, so a record can
    /// never index past its bytes (decoded answers always carry exactly 8).
    public init(raw: [UInt8]) {
        self.raw = EventRecord.normalised(raw)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        raw = EventRecord.normalised(try container.decode([UInt8].self, forKey: .raw))
    }

    private enum CodingKeys: String, CodingKey {
        case raw
    }

    private static func normalised(_ bytes: [UInt8]) -> [UInt8] {
        Array(bytes.prefix(8)) + [UInt8](repeating: 0, count: max(0, 8 - bytes.count))
    }

    /// The record's bytes without the monitoring-status bits (S1, S2: byte 0, bits 0-3), which the panel changes
    /// after reporting the event to a monitoring station: the same event read before and after that must count
    /// as the same record, or a re-read would take it for a newer one in the same slot and raise it again.
    public var identity: [UInt8] {
        var bytes = raw
        bytes[0] &= Self.identityMaskOfByte0
        return bytes
    }

    /// What `identity` keeps of byte 0 (YY, Z, E); the SQL comparisons of stored records use it too.
    public static let identityMaskOfByte0: UInt8 = 0xF0

    /// The same event as `other`, whatever the monitoring station made of it since.
    public func isSameEvent(as other: EventRecord) -> Bool { identity == other.identity }

    /// Z: the slot holds a record. A record with Z = 0 marks the end of the standard log.
    public var isPresent: Bool { raw[0] & 0x20 != 0 }
    /// E: an event is present (normally equal to Z).
    public var hasEvent: Bool { raw[0] & 0x10 != 0 }
    /// The year modulo 4; see `year(near:)`.
    public var yearModulo4: Int { Int(raw[0] >> 6) }
    public var monitoringStation1: MonitoringStatus { MonitoringStatus(rawValue: raw[0] & 0x03)! }
    public var monitoringStation2: MonitoringStatus { MonitoringStatus(rawValue: (raw[0] >> 2) & 0x03)! }
    public var eventClass: EventClass { EventClass(rawValue: raw[1] >> 5)! }
    public var day: Int { Int(raw[1] & 0x1F) }
    public var month: Int { Int(raw[2] >> 4) }
    /// Minutes since midnight, 0…1439.
    public var minuteOfDay: Int { Int(raw[2] & 0x0F) << 8 | Int(raw[3]) }
    public var hour: Int { minuteOfDay / 60 }
    public var minute: Int { minuteOfDay % 60 }
    /// PPPPP as sent (0…31). Whether it is 0- or 1-based is unsettled (doc §11.7); `partition` adds one.
    public var partitionField: Int { Int(raw[4] >> 3) }
    /// The partition as 1…32, the reading openHAB uses.
    public var partition: Int { partitionField + 1 }
    /// R: the restore flag (e.g. code 401 with R = 1 is "arm by user", R = 0 "disarm by user").
    public var isRestore: Bool { raw[4] & 0x04 != 0 }
    /// The 10-bit event code, 0…1023.
    public var code: Int { Int(raw[4] & 0x03) << 8 | Int(raw[5]) }
    /// The source number: a user, zone, expander or keypad depending on the code.
    public var source: Int { Int(raw[6]) }
    /// SSS: object number 0…7.
    public var object: Int { Int(raw[7] >> 5) }
    /// The user control number.
    public var userControlNumber: Int { Int(raw[7] & 0x1F) }

    /// The full year: the latest year not after `currentYear` whose remainder mod 4 is `yearModulo4`.
    public func year(near currentYear: Int) -> Int {
        var year = 4 * (currentYear / 4) + yearModulo4
        if year > currentYear { year -= 4 }
        return year
    }

    /// The text the panel's event table gives this code, when it is one we know; see `EventDescriptions`.
    public var descriptionText: String {
        EventDescriptions.text(code: code, restore: isRestore)
    }

    public enum MonitoringStatus: UInt8, Hashable, Sendable, Codable {
        case new = 0
        case sent = 1
        case shouldNotOccur = 2
        case notMonitored = 3
    }

    public enum EventClass: UInt8, Hashable, Sendable, Codable, CaseIterable {
        case zoneAndTamperAlarms = 0
        case partitionAndExpanderAlarms = 1
        case armingDisarmingAndAlarmClearing = 2
        case bypasses = 3
        case accessControl = 4
        case troubles = 5
        case userFunctions = 6
        case systemEvents = 7

        public var name: String {
            switch self {
            case .zoneAndTamperAlarms: "zone and tamper alarms"
            case .partitionAndExpanderAlarms: "partition and expander alarms"
            case .armingDisarmingAndAlarmClearing: "arming, disarming and alarm clearing"
            case .bypasses: "bypasses"
            case .accessControl: "access control"
            case .troubles: "troubles"
            case .userFunctions: "user functions"
            case .systemEvents: "system events"
            }
        }
    }

    /// Builds a record from its fields (the simulator writes its log this way).
    public init(
        yearModulo4: Int, month: Int, day: Int, minuteOfDay: Int, eventClass: EventClass, partitionField: Int,
        restore: Bool, code: Int, source: Int, object: Int = 0, userControlNumber: Int = 0,
        monitoringStation1: MonitoringStatus = .notMonitored, monitoringStation2: MonitoringStatus = .notMonitored
    ) {
        let byte0 = UInt8(yearModulo4 & 0x03) << 6 | 0x20 | 0x10 | monitoringStation2.rawValue << 2
            | monitoringStation1.rawValue
        let byte1 = eventClass.rawValue << 5 | UInt8(day & 0x1F)
        let byte2 = UInt8(month & 0x0F) << 4 | UInt8((minuteOfDay >> 8) & 0x0F)
        let byte3 = UInt8(minuteOfDay & 0xFF)
        let byte4 = UInt8(partitionField & 0x1F) << 3 | (restore ? 0x04 : 0) | UInt8((code >> 8) & 0x03)
        let byte5 = UInt8(code & 0xFF)
        let byte7 = UInt8(object & 0x07) << 5 | UInt8(userControlNumber & 0x1F)
        self.init(raw: [byte0, byte1, byte2, byte3, byte4, byte5, UInt8(source & 0xFF), byte7])
    }

    /// The record that ends the standard log: Z = 0.
    public static let empty = EventRecord(raw: [0, 0, 0, 0, 0, 0, 0, 0])
}
