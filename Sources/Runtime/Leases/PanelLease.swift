import Redis

/// The lease protocol for one panel, stateless: `lock:panel:<id>` holds the owner token while a worker owns
/// the panel. Acquire takes the lock and a new fencing token atomically; renew is compare-and-extend;
/// release is compare-and-delete. Deadlines are measured from before the request was sent, so they err on
/// the early side whatever the network did.
public struct PanelLease: Sendable {
    public let panelID: String
    /// The owner token written to the lock; unique per manager (worker instance).
    public let ownerToken: String
    public let keys: PanelLeaseKeys
    public let ttl: Duration
    public let safetyMargin: Duration

    public init(panelID: String, ownerToken: String, keys: PanelLeaseKeys, ttl: Duration, safetyMargin: Duration) {
        self.panelID = panelID
        self.ownerToken = ownerToken
        self.keys = keys
        self.ttl = ttl
        self.safetyMargin = safetyMargin
    }

    /// Takes the lease when the panel is free (or the lock is already ours); nil when another owner holds it.
    public func acquire(using client: RedisClient) async throws -> PanelLeaseGrant? {
        let sent = ContinuousClock.now
        let reply = try await client.evaluate(LeaseScripts.acquire, keys: [keys.lock(panelID), keys.fence(panelID)],
                                              arguments: [ownerToken, Self.milliseconds(ttl)])
        guard case .integer(let token) = reply else {
            throw RedisError(code: .unexpectedReply, message: "lease acquisition returned \(reply)")
        }
        return token == 0 ? nil : PanelLeaseGrant(panelID: panelID, fencingToken: token, deadline: sent + ttl - safetyMargin)
    }

    /// `acquire` for many panels in one round trip: the grants of the panels that were free (or already ours).
    public static func acquire(_ panelIDs: [String], ownerToken: String, keys: PanelLeaseKeys, ttl: Duration,
                               safetyMargin: Duration, using client: RedisClient) async throws -> [PanelLeaseGrant] {
        guard !panelIDs.isEmpty else { return [] }
        let sent = ContinuousClock.now
        let reply = try await client.evaluate(LeaseScripts.acquireMany, keys: panelIDs.flatMap { [keys.lock($0), keys.fence($0)] },
                                              arguments: [ownerToken, milliseconds(ttl)])
        guard let results = reply.array, results.count == panelIDs.count else {
            throw RedisError(code: .unexpectedReply, message: "lease acquisition returned \(reply)")
        }
        return zip(panelIDs, results).compactMap { panelID, result in
            guard case .integer(let token) = result, token != 0 else { return nil }
            return PanelLeaseGrant(panelID: panelID, fencingToken: token, deadline: sent + ttl - safetyMargin)
        }
    }

    /// Extends the lease when the lock is still ours; returns the new local deadline, or nil when the lock
    /// expired or another owner holds it (the lease is lost).
    public func renew(using client: RedisClient) async throws -> ContinuousClock.Instant? {
        let sent = ContinuousClock.now
        let reply = try await client.evaluate(LeaseScripts.extend, keys: [keys.lock(panelID)],
                                              arguments: [ownerToken, Self.milliseconds(ttl)])
        guard case .integer(let extended) = reply else {
            throw RedisError(code: .unexpectedReply, message: "lease renewal returned \(reply)")
        }
        return extended == 1 ? sent + ttl - safetyMargin : nil
    }

    /// `renew` for many panels in one round trip: the new local deadline for each lock that was still ours
    /// (missing from the result: lost).
    public static func renew(_ panelIDs: [String], ownerToken: String, keys: PanelLeaseKeys, ttl: Duration,
                             safetyMargin: Duration, using client: RedisClient) async throws -> [String: ContinuousClock.Instant] {
        guard !panelIDs.isEmpty else { return [:] }
        let sent = ContinuousClock.now
        let reply = try await client.evaluate(LeaseScripts.extendMany, keys: panelIDs.map(keys.lock),
                                              arguments: [ownerToken, milliseconds(ttl)])
        guard let results = reply.array, results.count == panelIDs.count else {
            throw RedisError(code: .unexpectedReply, message: "lease renewal returned \(reply)")
        }
        var renewed: [String: ContinuousClock.Instant] = [:]
        for (panelID, result) in zip(panelIDs, results) where result == .integer(1) {
            renewed[panelID] = sent + ttl - safetyMargin
        }
        return renewed
    }

    /// Deletes the lock if it is still ours; false when it was not (expired, or someone else's by now).
    @discardableResult
    public func release(using client: RedisClient) async throws -> Bool {
        try await Self.release([panelID], ownerToken: ownerToken, keys: keys, using: client) == 1
    }

    /// Compare-and-delete for many panels in one round trip; returns how many locks were ours and deleted.
    @discardableResult
    public static func release(_ panelIDs: [String], ownerToken: String, keys: PanelLeaseKeys,
                               using client: RedisClient) async throws -> Int {
        guard !panelIDs.isEmpty else { return 0 }
        let reply = try await client.evaluate(LeaseScripts.release, keys: panelIDs.map(keys.lock), arguments: [ownerToken])
        guard case .integer(let deleted) = reply else {
            throw RedisError(code: .unexpectedReply, message: "lease release returned \(reply)")
        }
        return Int(deleted)
    }

    /// Raises the panel's fencing counter to at least `minimum` (the token found in the database), so the
    /// next grant is accepted by the database's fence check even if Redis lost its counter.
    @discardableResult
    public func raiseFence(atLeast minimum: Int64, using client: RedisClient) async throws -> Int64 {
        let reply = try await client.evaluate(LeaseScripts.raiseFence, keys: [keys.fence(panelID)], arguments: [String(minimum)])
        guard case .integer(let value) = reply else {
            throw RedisError(code: .unexpectedReply, message: "raising the fence returned \(reply)")
        }
        return value
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}
