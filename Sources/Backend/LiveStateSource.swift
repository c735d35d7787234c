import Foundation
import StamCore

/// Where the snapshot a console gets on subscribe comes from: the worker's live state in Redis
/// (`PanelLiveState`, one hash per panel).
public protocol LiveStateSource: Sendable {
    /// The panel's live state, nil while no worker has written one; throws when what is there is not a `PanelLiveState`.
    func state(ofPanel id: UUID) async throws -> PanelLiveState?
}
