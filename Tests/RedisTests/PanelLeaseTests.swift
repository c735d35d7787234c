import Foundation
import Leases
import Logging
@testable import Redis
import Testing
import TestSupport

/// Panel leases against a real redis-server: the lock protocol, and lease managers sharing a fleet.
@Suite(.redis, .serialized, .integration, .tags(.integration)) struct PanelLeaseTests {
    static let ttl: Duration = .seconds(2)

    func configuration(_ ns: String, safetyMargin: Duration = .milliseconds(600)) -> PanelLeaseConfiguration {
        PanelLeaseConfiguration(ttl: Self.ttl, safetyMargin: safetyMargin, renewInterval: .milliseconds(400),
                                scanInterval: .milliseconds(400), keys: PanelLeaseKeys(prefix: ns))
    }

    @Test func compareAndDeleteLeavesSomeoneElsesLockAlone() async throws {
        let redis = try #require(TestRedis.current)
        let client = redis.client()
        defer { Task { await client.close() } }
        let keys = PanelLeaseKeys(prefix: TestRedis.namespace())
        let first = PanelLease(panelID: "p1", ownerToken: "worker-a/1", keys: keys, ttl: .seconds(30), safetyMargin: .seconds(5))
        let second = PanelLease(panelID: "p1", ownerToken: "worker-b/1", keys: keys, ttl: .seconds(30), safetyMargin: .seconds(5))

        let grant = try #require(try await first.acquire(using: client))
        #expect(grant.fencingToken == 1)
        #expect(try await second.acquire(using: client) == nil)
        #expect(try await second.renew(using: client) == nil)
        #expect(try await second.release(using: client) == false)
        #expect(try await client.getString(keys.lock("p1")) == "worker-a/1")

        // Taking it again while holding it (a retry after a lost reply) is a new grant with a new token.
        let again = try #require(try await first.acquire(using: client))
        #expect(again.fencingToken == 2)
        #expect(try await first.renew(using: client) != nil)
        #expect(try await first.release(using: client))
        #expect(try await client.getString(keys.lock("p1")) == nil)

        let taken = try #require(try await second.acquire(using: client))
        #expect(taken.fencingToken == 3)
        // The first owner's late release must not free the second owner's lock.
        #expect(try await first.release(using: client) == false)
        #expect(try await client.getString(keys.lock("p1")) == "worker-b/1")

        // A fence raised from the database moves the next grant past it; it never lowers the counter.
        #expect(try await second.raiseFence(atLeast: 10, using: client) == 10)
        #expect(try await second.raiseFence(atLeast: 5, using: client) == 10)
        #expect(try await second.release(using: client))
        #expect(try await first.acquire(using: client)?.fencingToken == 11)
    }

    @Test func expiredLockCanBeTakenWithAGreaterToken() async throws {
        let redis = try #require(TestRedis.current)
        let client = redis.client()
        defer { Task { await client.close() } }
        let keys = PanelLeaseKeys(prefix: TestRedis.namespace())
        let first = PanelLease(panelID: "p", ownerToken: "a", keys: keys, ttl: .milliseconds(300), safetyMargin: .milliseconds(100))
        let second = PanelLease(panelID: "p", ownerToken: "b", keys: keys, ttl: .seconds(30), safetyMargin: .seconds(5))
        let grant = try #require(try await first.acquire(using: client))
        #expect(grant.deadline < ContinuousClock.now + .milliseconds(300))
        var taken: PanelLeaseGrant?
        try await eventually("the expired lock is free again") {
            taken = try await second.acquire(using: client)
            return taken != nil
        }
        #expect(try #require(taken).fencingToken > grant.fencingToken)
        #expect(try await first.renew(using: client) == nil)
    }

    @Test func twoManagersShareTwentyPanelsExclusivelyAndOneTakesOverOnShutdown() async throws {
        let redis = try #require(TestRedis.current)
        let ns = TestRedis.namespace()
        let panels = Set((1...20).map { "panel-\($0)" })
        let fleet = try Fleet(redis: redis, panels: panels, configuration: configuration(ns), workers: ["a", "b"])
        defer { fleet.stopAll() }
        let a = fleet.managers[0]
        let b = fleet.managers[1]

        try await eventually("the two workers own 10 panels each, all 20 together") {
            try await fleet.checkExclusive()
            let (heldA, heldB) = (await a.heldLeases(), await b.heldLeases())
            return heldA.count == 10 && heldB.count == 10 && Set(heldA.keys).union(heldB.keys) == panels
        }
        // Steady state: keep sampling for a few renewal rounds.
        for _ in 0..<40 {
            try await fleet.checkExclusive()
            try await Task.sleep(for: .milliseconds(50))
        }

        let heldByA = await a.heldLeases()
        await fleet.stop(0)
        let lostByA = await fleet.logs[0].events
        #expect(Set(lostByA.compactMap { if case .lost(let panel, _, .shutdown) = $0 { panel } else { nil } }) == Set(heldByA.keys))
        #expect(await fleet.logs[0].finished)

        try await eventually("the remaining worker owns all 20 panels", within: Self.ttl * 5) {
            await b.heldLeases().count == 20
        }
        let heldByB = await b.heldLeases()
        for (panel, token) in heldByA {
            #expect(try #require(heldByB[panel]) > token, "panel \(panel)")
        }
    }

    @Test func cutOffManagerLosesItsLeasesBeforeTheyExpireAndTheOtherTakesOver() async throws {
        let redis = try #require(TestRedis.current)
        let ns = TestRedis.namespace()
        let panels = Set((1...8).map { "panel-\($0)" })
        let checker = redis.client("checker")
        defer { Task { await checker.close() } }
        let fleet = try Fleet(redis: redis, panels: panels, configuration: configuration(ns), workers: ["a", "b"])
        defer { fleet.stopAll() }
        let a = fleet.managers[0]
        let b = fleet.managers[1]
        let keys = PanelLeaseKeys(prefix: ns)

        try await eventually("both workers own their share") {
            try await fleet.checkExclusive()
            let (heldA, heldB) = (await a.heldLeases(), await b.heldLeases())
            return heldA.count == 4 && heldB.count == 4
        }
        let heldByA = await a.heldLeases()

        // Cut worker a off from Redis: its renewals fail as if the network dropped everything. As each
        // `lost` arrives, the lock must still be a's in Redis: a stopped acting before its lease ended.
        let stillOwnedAtLoss = LossCheck()
        let watcher = Task {
            for await change in fleet.logs[0].stream {
                // Only the ends of the leases held when the cut came (not earlier rebalancing).
                guard case .lost(let panel, let token, let reason) = change, heldByA[panel] == token else { continue }
                let owner = try? await checker.getString(keys.lock(panel))
                await stillOwnedAtLoss.record(panel: panel, ownedByA: owner == a.ownerToken, reason: reason)
            }
        }
        defer { watcher.cancel() }
        try await fleet.clients[0].setBlackholed(true)

        try await eventually("the cut-off worker reports all its leases lost") {
            await stillOwnedAtLoss.panels == Set(heldByA.keys)
        }
        #expect(await stillOwnedAtLoss.allOwnedByA)
        #expect(await stillOwnedAtLoss.reasons == [.deadlineReached])
        #expect(await a.heldLeases().isEmpty)

        try await eventually("the other worker owns all panels", within: Self.ttl * 5) {
            try await fleet.checkExclusive()
            return await b.heldLeases().count == panels.count
        }
        let heldByB = await b.heldLeases()
        for (panel, token) in heldByA {
            #expect(try #require(heldByB[panel]) > token, "panel \(panel)")
        }

        // Back on the network, a rejoins and takes its share again, never overlapping.
        try await fleet.clients[0].setBlackholed(false)
        try await eventually("the workers share the panels again") {
            try await fleet.checkExclusive()
            let (heldA, heldB) = (await a.heldLeases(), await b.heldLeases())
            return heldA.count == 4 && heldB.count == 4
        }
    }
}

/// Lease managers with their own clients, running as tasks, with their ownership changes logged.
final class Fleet: Sendable {
    let managers: [PanelLeaseManager]
    let clients: [RedisClient]
    let logs: [OwnershipLog]
    let tasks: [Task<Void, any Error>]

    init(redis: TestRedis, panels: Set<String>, configuration: PanelLeaseConfiguration, workers: [String]) throws {
        clients = workers.map { redis.client("redis-\($0)") }
        managers = try zip(workers, clients).map { worker, client in
            try PanelLeaseManager(client: client, workerID: worker, panels: panels, configuration: configuration,
                                  logger: Logger(label: "test.lease.\(worker)"))
        }
        logs = managers.map { OwnershipLog($0.changes) }
        tasks = managers.map { manager in Task { try await manager.run() } }
    }

    /// Stops one manager and waits until it released everything.
    func stop(_ index: Int) async {
        tasks[index].cancel()
        _ = await tasks[index].result
        await logs[index].waitUntilFinished()
    }

    func stopAll() {
        for task in tasks { task.cancel() }
        for client in clients { Task { await client.close() } }
    }

    /// No panel is held by two managers at once. Snapshots are taken one after another, so a panel seen in
    /// manager Y's snapshot counts against manager X only when X held it under the same fencing token both
    /// before and after: then X held it throughout, including the moment Y's snapshot was taken.
    func checkExclusive() async throws {
        for x in managers.indices {
            for y in managers.indices where y != x {
                let before = await managers[x].heldLeases()
                let other = await managers[y].heldLeases()
                let after = await managers[x].heldLeases()
                for (panel, token) in before where after[panel] == token && other[panel] != nil {
                    Issue.record("panel \(panel) held by \(managers[x].workerID) (token \(token)) and \(managers[y].workerID) (token \(other[panel]!))")
                    throw TestFailure(what: "a panel had two owners")
                }
            }
        }
    }
}

/// Every ownership change one manager reported, in order, also passed on to one optional watcher.
actor OwnershipLog {
    private(set) var events: [PanelOwnershipChange] = []
    private(set) var finished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []
    nonisolated let stream: AsyncStream<PanelOwnershipChange>
    private let relay: AsyncStream<PanelOwnershipChange>.Continuation

    init(_ changes: AsyncStream<PanelOwnershipChange>) {
        (stream, relay) = AsyncStream.makeStream(of: PanelOwnershipChange.self)
        Task { await self.consume(changes) }
    }

    private func consume(_ changes: AsyncStream<PanelOwnershipChange>) async {
        for await change in changes {
            events.append(change)
            relay.yield(change)
        }
        finished = true
        relay.finish()
        for waiter in finishWaiters { waiter.resume() }
        finishWaiters = []
    }

    func waitUntilFinished() async {
        if finished { return }
        await withCheckedContinuation { finishWaiters.append($0) }
    }
}

actor LossCheck {
    private(set) var panels: Set<String> = []
    private(set) var allOwnedByA = true
    private(set) var reasons: Set<PanelLeaseLossReason> = []

    func record(panel: String, ownedByA: Bool, reason: PanelLeaseLossReason) {
        panels.insert(panel)
        allOwnedByA = allOwnedByA && ownedByA
        reasons.insert(reason)
    }
}
