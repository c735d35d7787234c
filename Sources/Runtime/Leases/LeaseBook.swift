/// A manager's view of the leases it holds, and the only place that emits ownership changes: every
/// transition happens inside this actor, so `acquired` and `lost` come out in the order they happened, each
/// exactly once, whether the renewal loop or the watchdog noticed first.
actor LeaseBook {
    struct Held {
        var fencingToken: Int64
        var deadline: ContinuousClock.Instant
        var renewAt: ContinuousClock.Instant
    }

    private(set) var held: [String: Held] = [:]
    /// Panels this worker released to rebalance, and when: it leaves them to the others for a while.
    private var handedOver: [String: ContinuousClock.Instant] = [:]
    private let continuation: AsyncStream<PanelOwnershipChange>.Continuation

    init(continuation: AsyncStream<PanelOwnershipChange>.Continuation) {
        self.continuation = continuation
    }

    /// Records a grant unless its deadline already passed while the reply travelled (then the lock expires
    /// on its own, or the next scan takes it again with a new token).
    func acquired(_ grant: PanelLeaseGrant, renewAt: ContinuousClock.Instant) -> Bool {
        guard held[grant.panelID] == nil, ContinuousClock.now < grant.deadline else { return false }
        held[grant.panelID] = Held(fencingToken: grant.fencingToken, deadline: grant.deadline, renewAt: renewAt)
        handedOver[grant.panelID] = nil
        continuation.yield(.acquired(panelID: grant.panelID, fencingToken: grant.fencingToken))
        return true
    }

    /// Moves the deadline of a lease that is still held under the same token; a renewal that answers after
    /// the lease was declared lost changes nothing.
    func renewed(_ panelID: String, fencingToken: Int64, deadline: ContinuousClock.Instant, renewAt: ContinuousClock.Instant) {
        guard var lease = held[panelID], lease.fencingToken == fencingToken, ContinuousClock.now < lease.deadline else { return }
        lease.deadline = max(lease.deadline, deadline)
        lease.renewAt = renewAt
        held[panelID] = lease
    }

    /// A failed renewal attempt: try again at `retryAt` (the watchdog ends the lease at its deadline).
    func renewalFailed(_ panelID: String, fencingToken: Int64, retryAt: ContinuousClock.Instant) {
        guard var lease = held[panelID], lease.fencingToken == fencingToken else { return }
        lease.renewAt = retryAt
        held[panelID] = lease
    }

    /// Ends a lease (when `fencingToken` is given, only that grant) and emits `lost`. Returns whether it did.
    @discardableResult
    func lose(_ panelID: String, fencingToken: Int64? = nil, reason: PanelLeaseLossReason) -> Bool {
        guard let lease = held[panelID], fencingToken == nil || fencingToken == lease.fencingToken else { return false }
        held[panelID] = nil
        if reason == .rebalanced || reason == .relinquished { handedOver[panelID] = .now }
        continuation.yield(.lost(panelID: panelID, fencingToken: lease.fencingToken, reason: reason))
        return true
    }

    /// The watchdog's step: every lease whose deadline has come is lost now.
    func expire(now: ContinuousClock.Instant) {
        for (panelID, lease) in held where lease.deadline <= now {
            lose(panelID, fencingToken: lease.fencingToken, reason: .deadlineReached)
        }
    }

    func loseAll(reason: PanelLeaseLossReason) -> [String] {
        let panels = held.keys.sorted()
        for panelID in panels { lose(panelID, reason: reason) }
        return panels
    }

    func dueForRenewal(at now: ContinuousClock.Instant) -> [(panelID: String, fencingToken: Int64)] {
        held.filter { $0.value.renewAt <= now }.map { ($0.key, $0.value.fencingToken) }.sorted { $0.panelID < $1.panelID }
    }

    var nextRenewal: ContinuousClock.Instant? { held.values.map(\.renewAt).min() }

    var tokens: [String: Int64] { held.mapValues(\.fencingToken) }

    func deadline(of panelID: String) -> ContinuousClock.Instant? { held[panelID]?.deadline }

    func wasHandedOver(_ panelID: String, within grace: Duration, now: ContinuousClock.Instant) -> Bool {
        guard let at = handedOver[panelID] else { return false }
        if now - at < grace { return true }
        handedOver[panelID] = nil
        return false
    }

    func finish() {
        continuation.finish()
    }
}
