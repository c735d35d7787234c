import Foundation
import Generated
import Satel
import Testing
@testable import Worker

/// The value-type parts of the worker: what an update means, and which records raise which alarms.
@Suite struct PanelMirrorTests {
    @Test func zoneStatesFollowTheMostUrgentBitmap() {
        var mirror = PanelMirror()
        let now = Date()
        var changes = mirror.handle(.stateChanged(StateChange(command: .zonesViolation, entered: [3], left: [], current: [3], isInitial: true)), at: now)
        #expect(changes.zones == [.init(number: 3, previous: .init(), current: .init(state: .violated, bypassed: false))])
        changes = mirror.handle(.stateChanged(StateChange(command: .zonesAlarm, entered: [3], left: [], current: [3], isInitial: true)), at: now)
        #expect(changes.zones.map(\.current.state) == [.alarm])
        // A bitmap repeating what the mirror knows is no change.
        changes = mirror.handle(.stateChanged(StateChange(command: .zonesAlarm, entered: [], left: [], current: [3], isInitial: false)), at: now)
        #expect(changes.isEmpty)
    }

    @Test func startingFromTheDatabaseOnlyDifferencesAreReported() {
        var mirror = PanelMirror(partitions: [1: .init(armMode: .mode0)])
        let changes = mirror.handle(.stateChanged(StateChange(command: .partitionsArmed, entered: [1], left: [], current: [1], isInitial: true)), at: Date())
        #expect(changes.partitions.isEmpty)
        let disarmed = mirror.handle(.stateChanged(StateChange(command: .partitionsArmed, entered: [], left: [1], current: [], isInitial: false)), at: Date())
        #expect(disarmed.partitions.map(\.current.armMode) == [.disarmed])
    }

    @Test func aDeadLinkIsWrittenOnceNotOnEveryRetry() {
        var mirror = PanelMirror()
        #expect(mirror.handle(.connection(.synchronized), at: Date()).connection == .connected(nil))
        let error = SatelClientError(code: .unreachable, message: "down")
        #expect(mirror.handle(.connection(.disconnected(error, retryIn: 1)), at: Date()).connection != nil)
        #expect(mirror.handle(.connection(.disconnected(error, retryIn: 2)), at: Date()).connection == nil)
    }

    @Test(arguments: [
        (110, false, EventRecord.EventClass.zoneAndTamperAlarms, AlarmKind.fire, AlarmPriority.fire),
        (121, false, .zoneAndTamperAlarms, .duress, .holdUp),
        (130, false, .zoneAndTamperAlarms, .burglary, .burglary),
        (144, false, .zoneAndTamperAlarms, .tamper, .tamper),
        (999, false, .troubles, .trouble, .trouble),
    ])
    func alarmMapping(code: Int, restore: Bool, eventClass: EventRecord.EventClass, kind: AlarmKind, priority: AlarmPriority) {
        let alarm = AlarmClassifier.classify(code: code, restore: restore, eventClass: eventClass, description: "x", source: 1)
        #expect(alarm?.kind == kind)
        #expect(alarm?.priority == priority)
    }

    @Test func restoresAndHistoryRaiseNothing() {
        #expect(AlarmClassifier.classify(code: 130, restore: true, eventClass: .zoneAndTamperAlarms, description: "x", source: 1) == nil)
        #expect(AlarmClassifier.classify(code: 401, restore: false, eventClass: .armingDisarmingAndAlarmClearing, description: "x", source: 1) == nil)
    }
}
