/// Keeps the latest state the panel reported and turns each answer into typed changes.
struct PanelStateTracker: Sendable {
    private(set) var snapshot = PanelSnapshot()

    /// Folds one answer in; returns the updates it causes (none when nothing changed).
    mutating func apply(_ response: SatelResponse) -> [PanelUpdate] {
        switch response {
        case .state(let command, let bitmap):
            let previous = snapshot.bitmaps[command]
            snapshot.bitmaps[command] = bitmap
            let now = bitmap.numbers
            guard let previous else {
                return [.stateChanged(StateChange(command: command, entered: now, left: [], current: now, isInitial: true))]
            }
            let before = Set(previous.numbers)
            let after = Set(now)
            guard before != after else { return [] }
            return [.stateChanged(StateChange(
                command: command, entered: now.filter { !before.contains($0) },
                left: previous.numbers.filter { !after.contains($0) }, current: now, isInitial: false))]
        case .troubles(let part, let bytes):
            let previous = snapshot.troubleParts[part]
            snapshot.troubleParts[part] = bytes
            guard previous != bytes else { return [] }
            return [.troublesChanged(snapshot.troubles)]
        case .clockAndStatus(let status):
            snapshot.clock = status
            return [.clock(status)]
        default:
            return []
        }
    }

    mutating func setIdentity(_ identity: PanelIdentity) {
        snapshot.identity = identity
    }

    mutating func markUnsupported(_ command: UInt8) {
        snapshot.unsupportedCommands.insert(command)
    }

    /// A new connection asks everything again: the module may have been updated in between.
    mutating func forgetUnsupported() {
        snapshot.unsupportedCommands = []
    }
}
