import Foundation

/// The fleet's panel ids, replaceable while the manager runs.
final class PanelSet: @unchecked Sendable {
    private let lock = NSLock()
    private var panels: Set<String>

    init(_ panels: Set<String>) {
        self.panels = panels
    }

    var current: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return panels
    }

    func replace(with panels: Set<String>) {
        lock.lock()
        self.panels = panels
        lock.unlock()
    }
}
