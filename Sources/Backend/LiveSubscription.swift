import Foundation

/// What a console asked to receive: all events, or those of some panels and sites, and alarm events.
public struct LiveSubscription: Sendable, Hashable {
    public var everything = false
    public var panels: Set<UUID> = []
    public var sites: Set<UUID> = []
    public var alarms = false

    public init(everything: Bool = false, panels: Set<UUID> = [], sites: Set<UUID> = [], alarms: Bool = false) {
        self.everything = everything
        self.panels = panels
        self.sites = sites
        self.alarms = alarms
    }

    func matches(_ event: LiveEvent) -> Bool {
        if everything { return true }
        if alarms && event.isAlarm { return true }
        if let panel = event.scope.panelId, panels.contains(panel) { return true }
        if let site = event.scope.siteId, sites.contains(site) { return true }
        return false
    }
}
