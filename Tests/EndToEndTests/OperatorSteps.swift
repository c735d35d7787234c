import Foundation
import Testing

/// What an operator does in both end-to-end tests (dev and prod), with the checks that go with it.
enum OperatorSteps {
    /// Acknowledge, take, record the required steps of the alarm's action plan and close; closing before taking,
    /// and before the required steps, is refused (409); the workflow's steps are audited with their request id
    /// (`<prefix>-ack`, `-take`, `-close`) and reach the console.
    static func handle(alarm: String, api: OperatorAPI, console: LiveConsole, requestPrefix: String) async throws {
        #expect(try api.call("POST", "/api/alarms/\(alarm)/acknowledge", body: "{}", requestID: "\(requestPrefix)-ack").status == 200)
        _ = try await console.event("AlarmAcknowledged") { same($0["alarm_id"], alarm) }
        // Closing needs the alarm taken into handling first: the API refuses the shortcut.
        #expect(try api.call("POST", "/api/alarms/\(alarm)/close", body: #"{"note":"too early"}"#).status == 409)
        #expect(try api.call("POST", "/api/alarms/\(alarm)/take", body: "{}", requestID: "\(requestPrefix)-take").status == 200)
        _ = try await console.event("AlarmTaken") { same($0["alarm_id"], alarm) }
        // The stack's demo data gives burglaries an action plan (docs/ALARM-HANDLING.md): closing is refused while a
        // required step has no outcome; the operator records each, as the console's alarm view does, then closes.
        let priority = try #require(try api.call("GET", "/api/alarms/\(alarm)").object["priority"] as? String)
        let siteID = try api.call("GET", "/api/alarms/\(alarm)").object["site_id"] as? String
        let candidates = try api.call("GET", "/api/action-plan-steps?priority=\(priority)&sort=position&limit=100").items
        let own = candidates.filter { same($0["site_id"], siteID ?? "-") }
        let required = (own.isEmpty ? candidates.filter { $0["site_id"] is NSNull || $0["site_id"] == nil } : own)
            .filter { $0["required"] as? Bool == true }
        if !required.isEmpty {
            let refused = try api.call("POST", "/api/alarms/\(alarm)/close", body: #"{"note":"before the plan"}"#)
            #expect(refused.status == 409 && (refused.object["error"] as? [String: Any])?["code"] as? String == "required_steps_open",
                    "\(refused.object)")
        }
        for step in required {
            let id = try #require(step["id"] as? String)
            #expect(try api.call("POST", "/api/alarms/\(alarm)/record-step", body: #"{"step_id":"\#(id)","outcome":"done","note":"end to end"}"#).status == 201)
        }
        #expect(try api.call("POST", "/api/alarms/\(alarm)/close", body: #"{"note":"Checked on site: a cat."}"#,
                             requestID: "\(requestPrefix)-close").status == 200)
        _ = try await console.event("AlarmClosed") { same($0["alarm_id"], alarm) }
        let closed = try api.call("GET", "/api/alarms/\(alarm)")
        #expect(closed.object["state"] as? String == "closed", "\(closed.object)")
        let trail = try api.call("GET", "/api/audit-entries?entity_id=\(alarm)").items
        let expected: Set<String> = ["\(requestPrefix)-ack", "\(requestPrefix)-take", "\(requestPrefix)-close"]
        #expect(Set(trail.compactMap { $0["request_id"] as? String }).isSuperset(of: expected), "\(trail)")
    }

    /// Partition 1 disarmed, then armed, from the API: each command's result comes back on the console.
    static func disarmThenArm(panel: String, api: OperatorAPI, console: LiveConsole) async throws {
        for (action, body) in [("disarm", #"{"partitions":[1]}"#), ("arm", #"{"partitions":[1],"mode":0}"#)] {
            let accepted = try api.call("POST", "/api/panels/\(panel)/\(action)", body: body)
            #expect(accepted.status == 202, "\(action): \(accepted.status) \(accepted.object)")
            let command = try #require(accepted.object["id"] as? String, "\(accepted.object)")
            let completed = try await console.event("CommandCompleted") { same($0["command_id"], command) }
            #expect(completed["status"] as? String == "succeeded", "\(action): \(completed)")
        }
    }

    /// An SMS from the demo site's phone containing ALARM becomes an SmsMessage and an alarm.
    static func smsRaisesAnAlarm(text: String, modemControl: String, api: OperatorAPI, console: LiveConsole) async throws {
        try "sms +48600100200 ALARM \(text)\n".write(toFile: modemControl, atomically: false, encoding: .utf8)
        let smsAlarm = try await console.event("AlarmRaised", timeout: .seconds(60)) { $0["kind"] as? String == "sms" }
        #expect((smsAlarm["title"] as? String)?.contains(text) == true, "\(smsAlarm)")
        let messages = try api.call("GET", "/api/sms-messages").items
        #expect(messages.contains { ($0["body"] as? String)?.contains(text) == true }, "\(messages)")
    }
}
