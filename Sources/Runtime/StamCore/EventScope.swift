import Foundation

/// The ids a subscriber filters an event on: a console subscribed to some sites or panels receives the events
/// whose scope names one of them. Generated for every event from its `site_id` and `panel_id` payload fields, so
/// a new event cannot forget to say where it belongs.
public struct EventScope: Sendable, Hashable {
    public var siteId: UUID?
    public var panelId: UUID?

    public init(siteId: UUID?, panelId: UUID?) {
        self.siteId = siteId
        self.panelId = panelId
    }
}
