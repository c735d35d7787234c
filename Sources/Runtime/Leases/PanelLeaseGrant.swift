/// One successful acquisition (or renewal) of a panel lease.
public struct PanelLeaseGrant: Sendable, Hashable {
    public var panelID: String
    /// The lease's generation: greater than that of every earlier grant for this panel. The worker writes it
    /// to the panel row on acquisition and every later write checks it (`Database.PanelFencing`).
    public var fencingToken: Int64
    /// Local monotonic time after which the holder must no longer act: the moment the request was sent +
    /// TTL − safety margin, so it always comes before Redis expires the key.
    public var deadline: ContinuousClock.Instant

    public init(panelID: String, fencingToken: Int64, deadline: ContinuousClock.Instant) {
        self.panelID = panelID
        self.fencingToken = fencingToken
        self.deadline = deadline
    }
}
