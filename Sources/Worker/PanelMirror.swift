import Foundation
import Generated
import Satel

/// The worker's picture of one owned panel, as a value-type state machine: `handle` takes one update of
/// the `SatelClient` and returns the changes to commit. It starts from the rows in PostgreSQL, so a restarted
/// worker reports what changed while nobody watched and nothing else.
///
/// The mirror is only trusted together with the database: when a commit fails, the session throws the
/// mirror away and rebuilds it from PostgreSQL and a fresh full read of the panel.
struct PanelMirror: Sendable {
    struct ZoneStatus: Hashable, Sendable, Codable {
        var state: ZoneState = .normal
        var bypassed = false
    }

    struct PartitionStatus: Hashable, Sendable, Codable {
        var armMode: Generated.ArmMode = .disarmed
        var alarm = false
        var fireAlarm = false
    }

    private(set) var bitmaps: [StateCommand: Set<Int>] = [:]
    var zones: [Int: ZoneStatus] = [:]
    var partitions: [Int: PartitionStatus] = [:]
    var outputs: [Int: Bool] = [:]
    var connection: PanelConnectionState = .unknown
    private(set) var identity: PanelIdentity?
    private(set) var troubles: TroubleReport?
    private(set) var lastSeen: Date?
    /// Frames the module sent that could not be decoded (for metrics).
    private(set) var protocolIssues = 0

    init(zones: [Int: ZoneStatus] = [:], partitions: [Int: PartitionStatus] = [:], outputs: [Int: Bool] = [:]) {
        self.zones = zones
        self.partitions = partitions
        self.outputs = outputs
    }

    mutating func handle(_ update: PanelUpdate, at now: Date) -> PanelChanges {
        var changes = PanelChanges()
        switch update {
        case .connection(.synchronized):
            lastSeen = now
            connection = .connected
            changes.connection = .connected(identity)
        case .connection(.disconnected(let error, _)):
            let state: PanelConnectionState = switch error.code {
            case .moduleBusy: .busy
            case .wrongIntegrationKey: .authFailed
            default: .disconnected
            }
            // Every retry of a dead link reports again; only a change of state is worth a write.
            if state != connection {
                connection = state
                changes.connection = .disconnected(reason: String(error.description.prefix(200)), state: state)
            }
        case .connection(.connecting), .connection(.connected):
            break
        case .identified(let identity):
            self.identity = identity
        case .stateChanged(let change):
            lastSeen = now
            bitmaps[change.command] = Set(change.current)
            let touched = Set(change.entered).union(change.left).sorted()
            switch change.objectKind {
            case .zone:
                for number in touched {
                    let previous = zones[number] ?? ZoneStatus()
                    let current = zoneStatus(number)
                    if current != previous {
                        zones[number] = current
                        changes.zones.append(.init(number: number, previous: previous, current: current))
                    }
                }
            case .partition:
                for number in touched {
                    let previous = partitions[number] ?? PartitionStatus()
                    let current = partitionStatus(number)
                    if current != previous {
                        partitions[number] = current
                        changes.partitions.append(.init(number: number, previous: previous, current: current))
                    }
                }
            case .output:
                for number in touched {
                    let active = bitmaps[.outputsState]?.contains(number) == true
                    if active != (outputs[number] ?? false) {
                        outputs[number] = active
                        changes.outputs.append(.init(number: number, active: active))
                    }
                }
            case .door:
                break
            }
        case .troublesChanged(let report):
            lastSeen = now
            troubles = report
            changes.liveStateChanged = true
        case .clock:
            lastSeen = now
            changes.liveStateChanged = true
        case .events(let batch):
            lastSeen = now
            changes.logEvents = batch.events
            changes.cursor = batch.cursor
            changes.gap = batch.gap
        case .protocolIssue:
            protocolIssues += 1
        case .commandUnsupported:
            break  // the session logs and counts it; the mirror keeps what the other reads give
        case .stateDelivery(let delivery):
            changes.stateDelivery = delivery.isPushed ? .push : .poll
        }
        return changes
    }

    /// A zone's bitmaps summed up for an operator, the most urgent state first.
    func zoneStatus(_ number: Int) -> ZoneStatus {
        func has(_ command: StateCommand) -> Bool { bitmaps[command]?.contains(number) == true }
        let bypassed = has(.zonesBypass) || has(.zonesIsolate)
        let state: ZoneState =
            if has(.zonesTamperAlarm) { .tamperAlarm }
            else if has(.zonesAlarm) { .alarm }
            else if has(.zonesTamper) { .tamper }
            else if has(.zonesViolation) { .violated }
            else if bypassed { .bypassed }
            else if has(.zonesMasked) { .masked }
            else if has(.zonesNoViolationTrouble) || has(.zonesLongViolationTrouble) { .trouble }
            else { .normal }
        return ZoneStatus(state: state, bypassed: bypassed)
    }

    func partitionStatus(_ number: Int) -> PartitionStatus {
        func has(_ command: StateCommand) -> Bool { bitmaps[command]?.contains(number) == true }
        let mode: Generated.ArmMode =
            if !has(.partitionsArmed) { .disarmed }
            else if has(.partitionsArmedMode3) { .mode3 }
            else if has(.partitionsArmedMode2) { .mode2 }
            else if has(.partitionsArmedMode1) { .mode1 }
            else { .mode0 }
        return PartitionStatus(armMode: mode, alarm: has(.partitionsAlarm), fireAlarm: has(.partitionsFireAlarm))
    }
}
