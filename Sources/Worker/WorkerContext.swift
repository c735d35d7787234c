import Foundation
import Logging
import Redis

/// What every panel session shares: configuration, stores, metrics, and the lease owner token it needs
/// to repair a fence.
final class WorkerContext: Sendable {
    let configuration: WorkerConfiguration
    let panels: PanelStore
    let liveState: LiveStateStore
    let metrics: WorkerMetrics
    /// For the live state and fence repairs (the lease manager has its own client).
    let redis: RedisClient
    let leaseOwnerToken: String
    let logger: Logger
    /// Wakes the command executor (a panel just became able to take commands).
    let commandsReady: @Sendable () -> Void
    /// Gives a panel's lease up (the session cannot reach the database): another worker takes the panel.
    let relinquish: @Sendable (_ panelID: UUID, _ fencingToken: Int64) async -> Void

    init(configuration: WorkerConfiguration, panels: PanelStore, liveState: LiveStateStore, metrics: WorkerMetrics,
         redis: RedisClient, leaseOwnerToken: String, logger: Logger, commandsReady: @escaping @Sendable () -> Void,
         relinquish: @escaping @Sendable (_ panelID: UUID, _ fencingToken: Int64) async -> Void) {
        self.configuration = configuration
        self.panels = panels
        self.liveState = liveState
        self.metrics = metrics
        self.redis = redis
        self.leaseOwnerToken = leaseOwnerToken
        self.logger = logger
        self.commandsReady = commandsReady
        self.relinquish = relinquish
    }
}
