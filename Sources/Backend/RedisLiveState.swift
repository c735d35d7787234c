import Foundation
import Redis

/// The worker's live state of a panel: the Redis hash `panel:<id>:state`.
public struct RedisLiveState: LiveStateSource {
    let client: RedisClient

    public init(client: RedisClient) { self.client = client }

    public func state(ofPanel id: UUID) async throws -> [String: String] {
        try await client.hashGetAll("panel:\(id.uuidString.lowercased()):state")
    }
}
