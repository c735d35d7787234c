@testable import Backend
import Foundation
import Generated
import StamCore
import Testing

/// The `/ws` protocol's two message types, without a server: what a console may send and how each refusal reads,
/// and the exact JSON of what the backend sends (`console.js` parses these).
@Suite struct LiveMessageTests {
    @Test func aSubscriptionDecodesItsIdsAndFlags() throws {
        let (panel, site) = (UUID(), UUID())
        let message = try LiveClientMessage.decode(
            #"{"type":"subscribe","panels":["\#(panel.uuidString.lowercased())"],"sites":["\#(site.uuidString)"],"alarms":true}"#)
        #expect(message == .subscribe(LiveSubscription(everything: false, panels: [panel], sites: [site], alarms: true)))
        #expect(try LiveClientMessage.decode(#"{"type":"subscribe","all":true}"#) == .subscribe(LiveSubscription(everything: true)))
        // A flag that is not `true` does not subscribe.
        #expect(try LiveClientMessage.decode(#"{"type":"subscribe","all":"yes"}"#) == .subscribe(LiveSubscription()))
        #expect(try LiveClientMessage.decode(#"{"type":"ping"}"#) == .ping)
        #expect(try LiveClientMessage.decode(#"{"type":"auth","token":"abc"}"#) == .auth(token: "abc"))
    }

    @Test(arguments: [
        (#"not json"#, "bad_message", "expected a JSON object with a type"),
        (#"[1,2]"#, "bad_message", "expected a JSON object with a type"),
        (#"{"kind":"ping"}"#, "bad_message", "expected a JSON object with a type"),
        (#"{"type":"dance"}"#, "bad_message", "unknown type 'dance'"),
        (#"{"type":"auth"}"#, "bad_message", "auth needs a token"),
        (#"{"type":"subscribe","panels":"all"}"#, "bad_subscription", "panels and sites must be lists of ids"),
        (#"{"type":"subscribe","sites":["not-a-uuid"]}"#, "bad_subscription", "panels and sites must be lists of ids"),
    ])
    func aMessageThatIsNotOneIsRefusedWithItsReason(text: String, code: String, reason: String) {
        #expect(throws: LiveClientMessage.Refusal(code: code, message: reason)) { try LiveClientMessage.decode(text) }
    }

    @Test func serverMessagesAreTheJSONTheConsoleReads() {
        let panel = UUID(uuidString: "0A0B0C0D-0000-4000-8000-000000000001")!
        #expect(LiveServerMessage.ready(login: "ola", role: "operator", feed: .live).text
                == #"{"feed":"live","login":"ola","role":"operator","type":"ready"}"#)
        #expect(LiveServerMessage.snapshot(panelId: panel, state: ["connection": "connected"]).text
                == #"{"panel_id":"0a0b0c0d-0000-4000-8000-000000000001","state":{"connection":"connected"},"type":"snapshot"}"#)
        #expect(LiveServerMessage.event(name: "ZoneStateChanged", routingKey: "panel.zone.changed", payload: .object(["zone_number": .number(3)])).text
                == #"{"name":"ZoneStateChanged","payload":{"zone_number":3},"routing_key":"panel.zone.changed","type":"event"}"#)
        #expect(LiveServerMessage.feed(.interrupted).text == #"{"state":"interrupted","type":"feed"}"#)
        #expect(LiveServerMessage.resync(reason: "gap").text == #"{"reason":"gap","type":"resync"}"#)
        #expect(LiveServerMessage.pong.text == #"{"type":"pong"}"#)
        #expect(LiveServerMessage.error(code: "bad_message", message: "x/y").text == #"{"code":"bad_message","message":"x/y","type":"error"}"#)
    }

    @Test func everyEventSaysItsSiteAndPanelFromItsPayload() {
        let (panel, site, alarm) = (UUID(), UUID(), UUID())
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(ZoneStateChanged(panelId: panel, siteId: site, zoneNumber: 3, state: .alarm, previous: .normal, at: at).scope
                == EventScope(siteId: site, panelId: panel))
        #expect(AlarmTaken(alarmId: alarm, siteId: site, operatorId: UUID(), at: at).scope == EventScope(siteId: site, panelId: nil))
        #expect(AlarmRaised(alarmId: alarm, siteId: site, panelId: panel, kind: .fire, priority: .fire, title: "t", raisedAt: at).scope
                == EventScope(siteId: site, panelId: panel))
        #expect(SmsReceived(smsId: UUID(), sender: "+48", body: "b", sentAt: at, receivedAt: at, complete: true, partsExpected: 1,
                            partsReceived: 1).scope == EventScope(siteId: nil, panelId: nil))
    }
}
