/// What an event code means to a monitoring station, whichever format carried it (Contact ID or SIA DC-03); the
/// receiver turns the alarm categories into the station's alarm kinds, as the worker does for INTEGRA records.
public enum DC09EventCategory: String, Sendable, Hashable, CaseIterable {
    case fire
    /// A person asks for help (panic button, hold-up).
    case panic
    /// A person is forced to disarm: silent, life safety.
    case duress
    case medical
    case burglary
    case tamper
    /// Gas, carbon monoxide, water, temperature: the premises, not an intruder.
    case environmental
    /// Power, battery, communication, detector troubles.
    case trouble
    case openClose = "open_close"
    /// Test reports (periodic and manual).
    case test
    case bypass
    /// Everything else a panel reports (programming, event log, schedules): history only.
    case system
    /// A code the station's tables do not have: kept, shown to the operator, never dropped.
    case unknown
}
