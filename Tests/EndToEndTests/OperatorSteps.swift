import DevStack
import Foundation
import TestSupport
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

    /// An admin adds a communicator that reports over SIA DC-09 (a panel without an ETHM-1 address, and its account
    /// with an AES-128 key in hex) through the API; a Contact ID burglary from it, sent by `stam dc09-send` to the
    /// receiver's published port, reaches the console as an alarm of that panel. Until the receiver has read the new
    /// account (every 10 s) the frame gets NAK and the sender sends again, as a communicator does. A frame from an
    /// account nobody added is refused and written to the audit trail.
    static func dc09RaisesAnAlarm(receiver: String, api: OperatorAPI, console: LiveConsole, scratch: String) async throws {
        let colon = try #require(receiver.lastIndex(of: ":"))
        let (host, port) = (String(receiver[..<colon]), String(receiver[receiver.index(after: colon)...]))
        let site = try api.call("POST", "/api/sites", body: #"{"code":"GPRS-1","name":"Site with a GPRS communicator"}"#)
        let siteID = try #require(site.object["id"] as? String, "\(site.status) \(site.object)")
        // Its silence allowance at the maximum: this communicator sends once, and no no_signal alarm should follow.
        let panel = try api.call("POST", "/api/panels", body: #"{"site_id":"\#(siteID)","name":"DC-09 communicator","signal_period_s":90000}"#)
        let panelID = try #require(panel.object["id"] as? String, "\(panel.status) \(panel.object)")
        let key = "000102030405060708090A0B0C0D0E0F"
        let account = try api.call("POST", "/api/dc09-accounts",
                                   body: #"{"account":"C0FFEE","panel_id":"\#(panelID)","key":"\#(key)","key_form":"hex"}"#)
        #expect(account.status == 201, "\(account.object)")
        #expect(account.object["key"] == nil || account.object["key"] is NSNull, "the key is never returned: \(account.object)")
        let keyFile = "\(scratch)/dc09-key"
        try key.write(toFile: keyFile, atomically: true, encoding: .utf8)
        func send(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try LocalProcess.status(StamBinary.path, ["dc09-send", "--host", host, "--port", port] + arguments)
        }
        let deadline = ContinuousClock.now + .seconds(60)
        var sent = try send(["--account", "C0FFEE", "--sequence", "1", "--contact-id", "1130 01 005", "--key-file", keyFile])
        while sent.status == 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            sent = try send(["--account", "C0FFEE", "--sequence", "1", "--contact-id", "1130 01 005", "--key-file", keyFile])
        }
        #expect(sent.status == 0, "\(sent.output)")
        let alarm = try await console.event("AlarmRaised", timeout: .seconds(60)) { same($0["panel_id"], panelID) }
        #expect(alarm["kind"] as? String == "burglary", "\(alarm)")
        #expect(try api.call("GET", "/api/dc09-messages?limit=50").items.contains { ($0["data"] as? String)?.contains("1130 01 005") == true })

        let stranger = try send(["--account", "BADBAD", "--contact-id", "1130 01 001"])
        #expect(stranger.status == 1 && stranger.output.contains("NAK"), "\(stranger.output)")
        try await eventually("the unknown account is in the audit trail", timeout: .seconds(30)) {
            try api.call("GET", "/api/audit-entries?action=dc09.unknown_account").items
                .contains { ($0["details"] as? [String: Any])?["account"] as? String == "BADBAD" }
        }
    }
}
