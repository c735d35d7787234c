import Generated
import Satel

/// What kind of operator alarm an event-log record raises, if any.
///
/// Only event-log records raise alarms: they carry an index, so a record read twice (after a crash before
/// commit) is recognised by `(panel_id, log_index)` and cannot raise a second alarm. The state bitmaps that
/// change at the same moment (zone alarm, partition alarm) only update the live state.
///
/// The mapping (codes from the INTEGRA event table, doc §6.5); restores never raise an alarm. The class in the
/// alarm stack (priority) is the kind's class from the schema's `alarm_stack`:
///
/// | codes | kind | class | why |
/// |---|---|---|---|
/// | 110–119 | fire | fire | life safety |
/// | 121 | duress | hold_up | a person is forced to disarm: silent, life safety |
/// | 120, 122, 123 | panic | hold_up | a person asks for help |
/// | 100–102 | medical | medical | |
/// | 130–136 | burglary | burglary | intrusion into an armed partition (or a 24-hour zone) |
/// | 137, 144, 145 | tamper | tamper | sabotage of a detector or a housing |
/// | other codes of class 0 (zone & tamper alarms) | burglary | burglary | an unknown zone alarm is still an alarm |
/// | other codes of class 1 (partition & expander alarms) | tamper | tamper | expander/keypad tamper, wrong codes |
/// | class 5 (troubles) | trouble | trouble | AC loss, battery, link troubles |
///
/// Everything else (arming, bypasses, access control, user functions, system events) is history only.
public enum AlarmClassifier {
    public struct Classification: Hashable, Sendable {
        public var kind: AlarmKind
        public var priority: AlarmPriority
        public var title: String
    }

    public static func classify(_ record: EventRecord) -> Classification? {
        classify(code: record.code, restore: record.isRestore, eventClass: record.eventClass,
                 description: record.descriptionText, source: record.source)
    }

    public static func classify(code: Int, restore: Bool, eventClass: EventRecord.EventClass, description: String,
                                source: Int) -> Classification? {
        guard !restore else { return nil }
        let kind: AlarmKind
        switch code {
        case 110...119: kind = .fire
        case 121: kind = .duress
        case 120, 122, 123: kind = .panic
        case 100...102: kind = .medical
        case 130...136: kind = .burglary
        case 137, 144, 145: kind = .tamper
        default:
            switch eventClass {
            case .zoneAndTamperAlarms: kind = .burglary
            case .partitionAndExpanderAlarms: kind = .tamper
            case .troubles: kind = .trouble
            default: return nil
            }
        }
        let title = String("\(description.prefix(1).uppercased())\(description.dropFirst()) (source \(source))".prefix(200))
        return Classification(kind: kind, priority: kind.defaultPriority, title: title)
    }
}
