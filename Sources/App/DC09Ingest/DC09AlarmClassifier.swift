import DC09
import Generated

/// What alarm a DC-09 event raises, if any: the same kinds and classes as the worker's INTEGRA records
/// (`AlarmClassifier`), so an alarm looks and behaves alike whichever way it came. Only new events raise; restores,
/// status reports, openings and closings, tests, bypasses and system events are history (panel_events). A code the
/// tables do not know raises a technical alarm: it may be an alarm, and an operator must see it.
public enum DC09AlarmClassifier {
    public static func kind(of event: DC09Event) -> AlarmKind? {
        guard event.qualifier == .new else { return nil }
        return switch event.category {
        case .fire: .fire
        case .panic: .panic
        case .duress: .duress
        case .medical: .medical
        case .burglary: .burglary
        case .tamper: .tamper
        case .environmental, .unknown: .technical
        case .trouble: .trouble
        case .openClose, .test, .bypass, .system: nil
        }
    }

    /// The panel event's text: what the code means, its code and format, and the sender's text.
    public static func description(of event: DC09Event) -> String {
        let format = event.format == .contactID ? "Contact ID" : "SIA"
        var text = "\(event.description.prefix(1).uppercased())\(event.description.dropFirst()) (\(format) \(event.code)"
        if event.qualifier == .restore, event.format == .contactID { text += ", restore" }
        if event.qualifier == .status { text += ", still present" }
        if let user = event.user { text += ", user \(user)" }
        text += ")"
        if let name = event.text, !name.isEmpty { text += ": \(name)" }
        return String(text.prefix(200))
    }
}
