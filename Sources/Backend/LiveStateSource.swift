import Foundation

/// Where the snapshot a console gets on subscribe comes from: the worker's live state in Redis
/// (`panel:<id>:state`, one hash per panel).
public protocol LiveStateSource: Sendable {
    func state(ofPanel id: UUID) async throws -> [String: String]
}
