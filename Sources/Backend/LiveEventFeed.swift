import APISupport
import Foundation
import Logging
import Messaging
import ServiceLifecycle
import StamCore
import Synchronization

/// Feeds this backend's `LiveHub` from its own per-instance queue (`backend.live.<instance>`, bound to every
/// event, expiring when the instance is gone). Live pushes are a convenience on top of the database: a
/// message is acknowledged once handed to the hub, and a console that missed some (reconnect, slow client)
/// re-reads the state through the REST API and the snapshot. Only the events of `catalog` pass (see
/// `LiveEventCatalog`): the queue is bound to every routing key of the events exchange.
public final class LiveEventFeed: Service, Sendable {
    let consumer: QueueConsumer
    let hub: LiveHub
    /// Dropped answers on each event before the event reaches a console; on only while this feed is connected.
    let listCache: ListCache?
    let catalog: LiveEventCatalog
    let metrics: BackendMetrics?
    /// Told which alarms reached a console (the `presented_at` KPI).
    let presentation: AlarmPresentation?
    let logger: Logger
    private let reachable = Atomic<Bool>(false)

    /// Whether the last call to the broker succeeded (for `/readyz`).
    public var isConnected: Bool { reachable.load(ordering: .relaxed) }

    public struct NotConnected: Error, CustomStringConvertible {
        public var description: String { "the live feed's last call to the broker failed" }
    }

    /// The `/readyz` probe: throws while the broker is unreachable.
    public func checkConnected() throws {
        if !isConnected { throw NotConnected() }
    }

    public init(consumer: QueueConsumer, hub: LiveHub, catalog: LiveEventCatalog, listCache: ListCache? = nil,
                metrics: BackendMetrics? = nil, presentation: AlarmPresentation? = nil, logger: Logger) {
        self.consumer = consumer
        self.presentation = presentation
        self.hub = hub
        self.catalog = catalog
        self.listCache = listCache
        self.metrics = metrics
        self.logger = logger
    }

    /// Gaps: after any interruption (the broker away, this backend's queue possibly expired and declared anew)
    /// and whenever a stream's numbers skip (the queue overflowed, the broker lost messages), every console is
    /// told to `resync` (re-read through REST) before the next event; while the broker is away they are told the
    /// feed is interrupted, so no console shows "Live" on a feed that is not.
    public func run() async throws {
        // Without this feed no event would drop a cached answer.
        defer { listCache?.setEnabled(false) }
        var failures = 0
        var continuity = LiveFeedContinuity()
        var interrupted = false
        var live = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let batch = try await consumer.nextBatch(limit: 200, timeout: 0.5)
                failures = 0
                reachable.store(true, ordering: .relaxed)
                listCache?.setEnabled(true)
                if interrupted {
                    interrupted = false
                    continuity.reset()
                    resync(.reconnected)
                }
                // On the transition only: the hub's state is the feed's to change, once per outage.
                if !live {
                    live = true
                    hub.setFeedLive(true)
                }
                for delivery in batch {
                    switch continuity.observe(delivery) {
                    case .next:
                        break
                    case .duplicate:
                        try await consumer.ack(delivery)
                        continue
                    case .gap(let missing):
                        logger.warning("live feed skipped messages; consoles re-read", metadata: [
                            "missing": "\(missing)", "message_id": "\(delivery.messageId ?? "-")"])
                        resync(.gap)
                    }
                    switch catalog.event(from: delivery) {
                    case .success(let event):
                        // Before the push: a console that re-reads the list on this event must not get the old one.
                        listCache?.invalidate(event: event.name)
                        // Broadcast first, always: an optional-chained call would skip its argument without a presentation.
                        let consoles = hub.broadcast(event)
                        presentation?.delivered(event, to: consoles)
                    case .failure(let refusal):
                        metrics?.recordRefusedLiveEvent(refusal)
                        logger.warning("live event refused; not shown to consoles", metadata: [
                            "reason": "\(refusal.rawValue)", "type": "\(delivery.type ?? "-")", "exchange": "\(delivery.exchange)",
                            "routing_key": "\(delivery.routingKey)", "message_id": "\(delivery.messageId ?? "-")",
                        ])
                    }
                    try await consumer.ack(delivery)
                }
            } catch {
                failures += 1
                reachable.store(false, ordering: .relaxed)
                listCache?.setEnabled(false)
                interrupted = true
                live = false
                hub.setFeedLive(false)
                logger.warning("live feed: broker unavailable, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(min(5000, 200 * (1 << min(failures, 5)))))
            }
        }
        await consumer.close()
    }

    private func resync(_ reason: LiveHub.ResyncReason) {
        // Cached list answers may be as old as the gap.
        listCache?.invalidateAll()
        metrics?.recordLiveResync(reason.rawValue)
        hub.resync(reason)
    }
}
