import Generated
import Satel

/// What kind of operator alarm an event-log record raises, if any.
///
/// Only event-log records raise alarms: they carry an index, so a record read twice (after a crash before
/// commit) is recognised by `(panel_id, log_index)` and cannot raise a second alarm. The state bitmaps that
/// change at the same moment (zone alarm, partition alarm) only update the live state.
///
/// The mapping (codes from the INTEGRA event table, doc §6.5); restores never raise an alarm:
///
/// | codes | kind | priority | why |
/// |---|---|---|---|
/// | 110–119 | fire | critical | life safety |
/// | 121 | duress | critical | a person is forced to disarm: silent, life safety |
/// | 120, 122, 123 | panic | high | a person asks for help; not yet known to be life-threatening |
/// | 100–102 | medical | high | |
/// | 130–136 | burglary | high | intrusion into an armed partition (or a 24-hour zone) |
/// | 137, 144, 145 | tamper | normal | sabotage of a detector or a housing |
/// | other codes of class 0 (zone & tamper alarms) | burglary | high | an unknown zone alarm is still an alarm |
/// | other codes of class 1 (partition & expander alarms) | tamper | normal | expander/keypad tamper, wrong codes |
/// | class 5 (troubles) | trouble | low | AC loss, battery, link troubles |
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
        let (kind, priority): (AlarmKind, AlarmPriority)
        switch code {
        case 110...119: (kind, priority) = (.fire, .critical)
        case 121: (kind, priority) = (.duress, .critical)
        case 120, 122, 123: (kind, priority) = (.panic, .high)
        case 100...102: (kind, priority) = (.medical, .high)
        case 130...136: (kind, priority) = (.burglary, .high)
        case 137, 144, 145: (kind, priority) = (.tamper, .normal)
        default:
            switch eventClass {
            case .zoneAndTamperAlarms: (kind, priority) = (.burglary, .high)
            case .partitionAndExpanderAlarms: (kind, priority) = (.tamper, .normal)
            case .troubles: (kind, priority) = (.trouble, .low)
            default: return nil
            }
        }
        let title = String("\(description.prefix(1).uppercased())\(description.dropFirst()) (source \(source))".prefix(200))
        return Classification(kind: kind, priority: priority, title: title)
    }
}
