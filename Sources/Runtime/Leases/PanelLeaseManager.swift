import Foundation
import Logging
import Redis
import ServiceLifecycle

/// Keeps this worker's fair share of the panels and reports every change of ownership on `changes`.
///
/// No worker is special. Each one refreshes a heartbeat key `worker:<id>` and, every scan, counts the live
/// workers, so its quota is `ceil(panels / live workers)`:
/// - it takes free panels (no lock) while it holds fewer than its quota;
/// - it also takes a panel that stayed free for a whole scan, whatever its quota: a panel nobody watches
///   delays alarms, so ownership comes before fairness (a panel freed while every quota is full is taken
///   one scan after it was seen free). A dead worker's heartbeat expires with its locks (`workerHeartbeatTTL`),
///   so its panels are usually taken under the survivors' new quota at the first scan that sees them free;
/// - it releases panels above its quota (`lost(.rebalanced)` first, then the compare-and-delete), and leaves
///   them to the others for `handoverGrace`.
///
/// Safety: a lease is reported `lost` when renewal is refused, or by the watchdog at the local deadline
/// (request sent + TTL − safety margin), which comes before Redis can expire the lock, so the worker closes
/// the panel connection before anyone else can own the panel. The watchdog does not wait for Redis: a hung
/// Redis call cannot delay a `lost`. What the margin cannot cover (the whole process paused past the TTL)
/// the fencing token covers: the database refuses writes with a token older than the panel's.
public final class PanelLeaseManager: Service, Sendable {
    public let workerID: String
    /// Unique per manager instance: a restarted worker with the same id does not inherit the old locks.
    public let ownerToken: String
    public let configuration: PanelLeaseConfiguration
    public let changes: AsyncStream<PanelOwnershipChange>

    private let client: RedisClient
    private let book: LeaseBook
    private let panels: PanelSet
    private let logger: Logger

    /// - Parameters:
    ///   - client: a client for this manager alone: lease calls must not queue behind unrelated commands.
    ///   - panels: the ids of all panels (the whole fleet, not this worker's share).
    public init(client: RedisClient, workerID: String, panels: Set<String>, configuration: PanelLeaseConfiguration,
                logger: Logger) throws {
        try configuration.validate()
        self.client = client
        self.workerID = workerID
        ownerToken = "\(workerID)/\(UUID().uuidString.lowercased())"
        self.configuration = configuration
        self.panels = PanelSet(panels)
        var logger = logger
        logger[metadataKey: "worker"] = "\(workerID)"
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: PanelOwnershipChange.self)
        changes = stream
        book = LeaseBook(continuation: continuation)
    }

    /// The panels held now, with their fencing tokens.
    public func heldLeases() async -> [String: Int64] {
        await book.tokens
    }

    /// The local deadline of a held lease: the worker must not act on the panel after it.
    public func deadline(of panelID: String) async -> ContinuousClock.Instant? {
        await book.deadline(of: panelID)
    }

    /// Gives a held lease up (`lost(.relinquished)` first, then the compare-and-delete) because this worker cannot
    /// serve the panel: another worker takes it on its next scan; this one not within `handoverGrace` (after that,
    /// a panel nobody else took is taken back: ownership beats fairness).
    public func relinquish(_ panelID: String, fencingToken: Int64) async {
        guard await book.lose(panelID, fencingToken: fencingToken, reason: .relinquished) else { return }
        logger.warning("panel lease relinquished", metadata: ["panel": "\(panelID)"])
        do {
            try await PanelLease.release([panelID], ownerToken: ownerToken, keys: configuration.keys, using: client)
        } catch {
            logger.warning("could not release a relinquished lease; it expires after the TTL", metadata: ["error": "\(error)"])
        }
    }

    /// Replaces the set of panels (added or removed in the database). Leases of removed panels end with
    /// `lost(.removed)` on the next scan.
    public func updatePanels(_ panelIDs: Set<String>) {
        panels.replace(with: panelIDs)
    }

    /// Runs until graceful shutdown or cancellation, then reports every lease lost (`.shutdown`), releases
    /// the locks so other workers take over at once, removes the heartbeat and finishes `changes`.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.watchdog() }
                group.addTask { await self.drive() }
                await group.waitForAll()
            }
        }
        let released = await book.loseAll(reason: .shutdown)
        do {
            try await PanelLease.release(released, ownerToken: ownerToken, keys: configuration.keys, using: client)
            try await client.delete(configuration.keys.worker(workerID))
        } catch {
            logger.warning("could not release leases at shutdown; they expire after the TTL", metadata: ["error": "\(error)"])
        }
        await book.finish()
    }

    // MARK: Loops

    /// Ends leases at their local deadline, independently of the Redis calls in `drive`.
    private func watchdog() async {
        while !Task.isCancelled {
            await book.expire(now: .now)
            do { try await Task.sleep(for: configuration.watchdogTick) } catch { return }
        }
    }

    /// Heartbeat, renewals and scans, one Redis call at a time.
    private func drive() async {
        var nextHeartbeat = ContinuousClock.now
        var nextScan = ContinuousClock.now
        var previouslyFree: Set<String> = []
        var renewalsFailing = false
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if now >= nextHeartbeat {
                await heartbeat()
                nextHeartbeat = now + configuration.renewInterval
            }
            renewalsFailing = await !renewDueLeases(alreadyFailing: renewalsFailing)
            if now >= nextScan {
                previouslyFree = await scan(previouslyFree: previouslyFree)
                nextScan = now + configuration.scanInterval
            }
            var wake = min(nextHeartbeat, nextScan)
            if let renewal = await book.nextRenewal { wake = min(wake, renewal) }
            do { try await Task.sleep(until: max(wake, .now + .milliseconds(5)), clock: .continuous) } catch { return }
        }
    }

    private func heartbeat() async {
        do {
            try await client.set(configuration.keys.worker(workerID), ownerToken, expiresIn: configuration.workerHeartbeatTTL)
        } catch {
            logger.debug("heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// Renews every lease that is due in one round trip, so a worker with many panels does not queue one
    /// call per panel behind a slow server. Leases due within half an interval join the batch early.
    /// Returns false when the renewal call failed (true when it worked or nothing was due).
    private func renewDueLeases(alreadyFailing: Bool) async -> Bool {
        let due = await book.dueForRenewal(at: .now + configuration.renewInterval / 2)
        guard !due.isEmpty else { return !alreadyFailing }
        let sent = ContinuousClock.now
        do {
            let renewed = try await PanelLease.renew(due.map(\.panelID), ownerToken: ownerToken, keys: configuration.keys,
                                                     ttl: configuration.ttl, safetyMargin: configuration.safetyMargin,
                                                     using: client)
            for (panelID, fencingToken) in due {
                if let deadline = renewed[panelID] {
                    await book.renewed(panelID, fencingToken: fencingToken, deadline: deadline,
                                       renewAt: sent + configuration.renewInterval)
                } else if await book.lose(panelID, fencingToken: fencingToken, reason: .renewalRefused) {
                    logger.warning("panel lease lost: renewal refused", metadata: ["panel": "\(panelID)"])
                }
            }
        } catch {
            // Retries come every quarter interval: the first failure is a warning, the ones after it debug.
            logger.log(level: alreadyFailing ? .debug : .warning, "panel lease renewal failed; retrying until the deadline",
                       metadata: ["panels": "\(due.count)", "error": "\(error)"])
            for (panelID, fencingToken) in due {
                await book.renewalFailed(panelID, fencingToken: fencingToken, retryAt: .now + configuration.renewInterval / 4)
            }
            return false
        }
        return true
    }

    /// Counts live workers, sheds panels above the quota, takes free ones. Returns the panels seen free.
    private func scan(previouslyFree: Set<String>) async -> Set<String> {
        let all = panels.current
        let keys = configuration.keys
        do {
            // Panels removed from the fleet go first.
            let held = await book.tokens
            let removed = held.keys.filter { !all.contains($0) }.sorted()
            for panelID in removed { await book.lose(panelID, reason: .removed) }
            try await PanelLease.release(removed, ownerToken: ownerToken, keys: keys, using: client)

            let liveWorkers = max(1, try await client.scanKeys(matching: keys.workerPattern).count)
            let quota = (all.count + liveWorkers - 1) / liveWorkers
            var holding = await book.tokens.count
            if holding > quota {
                let shed = Array(await book.tokens.keys.shuffled().prefix(holding - quota))
                for panelID in shed { await book.lose(panelID, reason: .rebalanced) }
                try await PanelLease.release(shed, ownerToken: ownerToken, keys: keys, using: client)
                logger.info("released panels to rebalance", metadata: ["count": "\(shed.count)", "quota": "\(quota)"])
                return []
            }

            let candidates = all.subtracting(await book.tokens.keys).sorted()
            guard !candidates.isEmpty else { return [] }
            let owners = try await client.pipeline(candidates.map { ["GET", keys.lock($0)] })
            let free = zip(candidates, owners).filter { $0.1 == .null || $0.1.string == ownerToken }.map(\.0)
            let now = ContinuousClock.now
            // In batches, one round trip each, with the renewals and the heartbeat in between: a worker taking thousands
            // of panels at once (a cold start, a takeover) must not let the first ones expire while it asks for the
            // rest. Each batch is filled from what the grants so far leave of the quota (another worker may win some).
            var remaining = free.shuffled()[...]
            while !remaining.isEmpty {
                var batch: [String] = []
                while batch.count < Self.acquireBatch, let panelID = remaining.popFirst() {
                    let orphan = previouslyFree.contains(panelID)
                    guard holding + batch.count < quota || orphan else { continue }
                    if await book.wasHandedOver(panelID, within: configuration.handoverGrace, now: now) { continue }
                    batch.append(panelID)
                }
                guard !batch.isEmpty else { break }
                let sent = ContinuousClock.now
                let grants = try await PanelLease.acquire(batch, ownerToken: ownerToken, keys: keys, ttl: configuration.ttl,
                                                          safetyMargin: configuration.safetyMargin, using: client)
                for grant in grants where await book.acquired(grant, renewAt: sent + configuration.renewInterval) {
                    holding += 1
                    logger.info("panel lease acquired", metadata: ["panel": "\(grant.panelID)", "fencing_token": "\(grant.fencingToken)"])
                }
                _ = await renewDueLeases(alreadyFailing: false)
                await heartbeat()
            }
            return Set(free)
        } catch {
            logger.warning("lease scan failed", metadata: ["error": "\(error)"])
            return previouslyFree
        }
    }

    /// Panels asked for in one acquisition round trip.
    static let acquireBatch = 256
}
