import Foundation
import StamCore
import Testing

/// The Redis contract between the worker (writes) and the backend (reads): what is written reads back the same, and
/// a hash that is not a panel's live state is refused naming the field.
@Suite struct PanelLiveStateTests {
    let state = PanelLiveState(
        connection: "connected",
        partitions: [.init(number: 1, armMode: "mode0", alarm: true, fireAlarm: false)],
        zones: [.init(number: 3, state: "alarm", bypassed: false), .init(number: 7, state: "normal", bypassed: true)],
        outputs: [1, 4], troubles: #"{"systemTroubles":["AC trouble"]}"#, lastSeen: "2026-05-28T20:26:40Z",
        worker: "satel-worker-1", fencingToken: 42, updatedAt: "2026-05-28T20:26:41Z")

    func hash(_ state: PanelLiveState) -> [String: String] {
        Dictionary(uniqueKeysWithValues: state.hashFields)
    }

    @Test func whatTheWorkerWritesTheBackendReadsBackUnchanged() throws {
        #expect(try PanelLiveState(hash: hash(state)) == state)
        #expect(hash(state)["partitions"] == #"[{"alarm":true,"arm_mode":"mode0","fire_alarm":false,"number":1}]"#)
        #expect(PanelLiveState.key(of: UUID(uuidString: "6F1C2A8E-0000-4000-8000-000000000001")!) == "panel:6f1c2a8e-0000-4000-8000-000000000001:state")
    }

    @Test(arguments: ["connection", "zones", "fencing_token", "updated_at"])
    func aMissingFieldIsNamed(_ field: String) {
        var fields = hash(state)
        fields[field] = nil
        #expect(throws: PanelLiveState.Malformed.self) { try PanelLiveState(hash: fields) }
        #expect((try? PanelLiveState(hash: fields)) == nil)
        do { _ = try PanelLiveState(hash: fields) } catch { #expect("\(error)".contains("'\(field)'")) }
    }

    @Test func aFieldThatDoesNotParseIsNamed() {
        var fields = hash(state)
        fields["zones"] = #"[{"number":"three"}]"#
        do {
            _ = try PanelLiveState(hash: fields)
            Issue.record("a zone list of the wrong shape was accepted")
        } catch {
            #expect("\(error)".contains("'zones'"))
        }
        fields = hash(state)
        fields["fencing_token"] = "many"
        #expect(throws: PanelLiveState.Malformed.self) { try PanelLiveState(hash: fields) }
    }
}
