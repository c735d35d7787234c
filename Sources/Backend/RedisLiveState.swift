import Foundation
import Redis
import StamCore

/// The worker's live state of a panel: the Redis hash `PanelLiveState.key(of:)`.
public struct RedisLiveState: LiveStateSource {
    let client: RedisClient

    public init(client: RedisClient) { self.client = client }

    public func state(ofPanel id: UUID) async throws -> PanelLiveState? {
        let hash = try await client.hashGetAll(PanelLiveState.key(of: id))
        return hash.isEmpty ? nil : try PanelLiveState(hash: hash)
    }
}
