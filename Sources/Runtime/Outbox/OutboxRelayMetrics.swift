import Foundation
import Synchronization

/// The relay's figures: published and failed counts, batch latency, and `outbox_relay_active_instances`
/// (relays whose heartbeat is fresh). Read by the metrics endpoint and by tests.
public final class OutboxRelayMetrics: Sendable {
    private struct State {
        var published = 0
        var failedBatches = 0
        var batches = 0
        var batchSeconds = 0.0
        var activeInstances = 0
    }

    private let state = Mutex(State())

    public init() {}

    func recordBatch(published: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock {
            $0.published += published
            $0.batches += 1
            $0.batchSeconds += seconds
        }
    }

    func recordFailure() { state.withLock { $0.failedBatches += 1 } }
    func setActiveInstances(_ count: Int) { state.withLock { $0.activeInstances = count } }

    public var published: Int { state.withLock { $0.published } }
    public var failedBatches: Int { state.withLock { $0.failedBatches } }
    public var activeInstances: Int { state.withLock { $0.activeInstances } }
}
