/// What the client reports, in order, on its `updates` sequence.
public enum PanelUpdate: Hashable, Sendable {
    case connection(ConnectionStatus)
    case identified(PanelIdentity)
    /// A state bitmap changed (zones violated, partitions armed, outputs on…).
    case stateChanged(StateChange)
    /// The troubles changed; the report covers every trouble part read so far.
    case troublesChanged(TroubleReport)
    case clock(ClockAndStatus)
    /// New event-log records, oldest first, with the cursor to persist after handling them.
    case events(EventBatch)
    /// The module does not serve a read (it answered `EF`, an unreadable answer, or nothing even when asked again):
    /// the client carries on without it for the rest of the connection. Reported once per command and connection.
    case commandUnsupported(UnsupportedCommand)
    /// Pushed or polled, and why: once per connection after the full read, again on a fall-back to polling.
    case stateDelivery(StateDelivery)
    /// A frame that could not be decoded (bad CRC, stuffing…) or made no sense; counted, never fatal.
    case protocolIssue(String)
}

/// A read the module does not serve, and how that showed.
public struct UnsupportedCommand: Hashable, Sendable {
    public enum Reason: String, Hashable, Sendable {
        /// `EF` ("no such command" or another error) instead of the data.
        case refused
        /// An answer that did not decode as the command's.
        case unreadable
        /// No answer, twice.
        case unanswered
    }

    public var code: UInt8
    public var name: String
    public var reason: Reason

    public init(code: UInt8, name: String, reason: Reason) {
        self.code = code
        self.name = name
        self.reason = reason
    }
}
