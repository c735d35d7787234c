/// What `PanelLeaseManager.changes` reports. A `lost` always follows the `acquired` with the same token,
/// and it is emitted before the lease can end in Redis: close the panel connection when it arrives.
public enum PanelOwnershipChange: Sendable, Hashable {
    case acquired(panelID: String, fencingToken: Int64)
    case lost(panelID: String, fencingToken: Int64, reason: PanelLeaseLossReason)

    public var panelID: String {
        switch self {
        case .acquired(let panelID, _), .lost(let panelID, _, _): panelID
        }
    }
}

public enum PanelLeaseLossReason: String, Sendable, Hashable {
    /// Renewal found the lock gone or owned by someone else.
    case renewalRefused = "renewal_refused"
    /// Renewals did not succeed before the local deadline (Redis unreachable, or too slow).
    case deadlineReached = "deadline_reached"
    /// Released to let another worker own its fair share.
    case rebalanced
    /// The panel is no longer in the set this worker serves.
    case removed
    /// The manager is stopping.
    case shutdown
    /// The holder gave the panel up because it cannot serve it (its database is unreachable), so a worker that
    /// can takes it; the holder does not take it back within the hand-over grace.
    case relinquished
}
