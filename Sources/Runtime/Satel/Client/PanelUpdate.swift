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
    /// A frame that could not be decoded (bad CRC, stuffing…) or made no sense; counted, never fatal.
    case protocolIssue(String)
}
