import Foundation
import DevStack
import Logging
import Testing
import TestSupport

/// `stam up` (dev) as a user meets it, driven from outside like an operator's console and a site would:
/// a zone violation on a simulated panel reaches an authenticated WebSocket client; the operator
/// acknowledges, takes and closes the alarm through the API and the audit trail shows it with the request id;
/// disarm and arm from the API reach the simulated panel and the result comes back on the WebSocket; an SMS
/// on the simulated modem becomes an SmsMessage and an Alarm; a backend killed with SIGKILL is restarted by
/// the supervisor; `stam down`-style SIGTERM stops every process it started.
@Suite(.serialized, .integration, .tags(.integration)) struct DevStackTests {
    let logger = Logger(label: "test.e2e")

    @Test func alarmsCommandsAndSmsTravelThroughTheRunningDevStack() async throws {
        let stack = try await LocalStackRun.start(panels: 2)
        var stopped = false
        defer {
            if !stopped { stack.stop() }
            stack.removeState()
        }
        let summary = stack.summary
        var api = OperatorAPI(base: summary.api)
        try api.login(summary.adminLogin, password: try stack.adminPassword)
        let token = try #require(api.token)
        let panel = summary.panelIDs[0]
        let operatorAPI = api
        let scratch = stack.run.path
        let logger = logger

        try await LiveConsole.connect(url: summary.webSocket, token: token, logger: logger) { console in
            _ = try await console.waitFor("ready") { $0["type"] as? String == "ready" }
            try await console.send(#"{"type":"subscribe","alarms":true,"panels":["\#(panel)"]}"#)
            _ = try await console.waitFor("subscribed") { $0["type"] as? String == "subscribed" }

            // A burglary zone violated on an armed partition of panel 1 (the demo armed them at start).
            let answer = try await ControlLine.send("{ panel: 1, action: violate-zone, zone: 3 }", port: summary.simulatorControlPort)
            #expect(answer.hasPrefix("ok"))
            let raised = try await console.event("AlarmRaised") { same($0["panel_id"], panel) }
            let alarm = try #require(raised["alarm_id"] as? String)
            #expect(raised["zone_number"] as? Int == 3)

            // The operator acknowledges, takes and closes it; every step is audited with the request id.
            try await OperatorSteps.handle(alarm: alarm, api: operatorAPI, console: console, requestPrefix: "e2e")

            // The zone is closed again (a panel refuses to arm over a violated zone), then partition 1 is
            // disarmed and armed from the API: the worker executes both on the panel.
            #expect(try await ControlLine.send("{ panel: 1, action: restore-zone, zone: 3 }", port: summary.simulatorControlPort).hasPrefix("ok"))
            try await OperatorSteps.disarmThenArm(panel: panel, api: operatorAPI, console: console)
            let state = try await ControlLine.send("{ panel: 1, action: state }", port: summary.simulatorControlPort)
            #expect(state.contains("armed=[1"), "\(state)")

            // An SMS from the site's phone containing ALARM becomes an SmsMessage and an alarm.
            try await OperatorSteps.smsRaisesAnAlarm(text: "intruder seen by the guard", modemControl: summary.modemControl,
                                                     api: operatorAPI, console: console)

            // A communicator of another brand reports over SIA DC-09 to the receiver (issue 22).
            try await OperatorSteps.dc09RaisesAnAlarm(receiver: try #require(summary.dc09Receivers?.first), api: operatorAPI, console: console,
                                                      scratch: scratch)
        }

        // Issue 18 point 1: every series an alert rule watches is exported by a process of the running stack
        // (stam_panel_connected was watched by PanelDisconnected and exported by nobody).
        let watched = try MonitoredSeries.alertRules().filter { !MonitoredSeries.isFromExporter($0) }
        #expect(watched.isSuperset(of: ["stam_panel_connected", "stam_worker_fleet_panels", "sms_received_total", "outbox_relay_active_instances",
                                         "stam_dc09_frames_total", "stam_dc09_accounts"]))
        let pages = try #require(summary.metrics)
        #expect(Set(pages.keys) == ["outbox-relay-1", "satel-worker-1", "sms-agent", "backend-1", "dc09-receiver-1"])
        var exported = Set<String>()
        for (process, url) in pages {
            let port = try #require(URL(string: url)?.port)
            let page = try await HTTPGet.get(port: port, path: "/metrics", timeout: 5)
            #expect(page.status == 200, "\(process)")
            exported.formUnion(MonitoredSeries.exported(byPage: page.body))
        }
        #expect(watched.subtracting(exported).isEmpty, "alert rules watch series no process exports: \(watched.subtracting(exported).sorted())")

        // A backend killed with SIGKILL comes back on its port (the supervisor restarts what exits).
        let backend = try #require(summary.processes["backend-1"])
        kill(pid_t(backend), SIGKILL)
        let deadline = ContinuousClock.now + .seconds(60)
        var back = false
        while ContinuousClock.now < deadline, !back {
            try await Task.sleep(for: .milliseconds(300))
            try stack.reloadSummary()
            guard stack.summary.processes["backend-1"] != backend else { continue }
            back = (try? await HTTPGet.get(port: summary.apiPort, path: "/readyz", timeout: 3))?.status == 200
        }
        #expect(back, "backend-1 was not restarted:\n\(LocalStackRun.tail("\(summary.logs)/backend-1.log"))")

        // SIGTERM to the supervisor stops every process it started.
        try stack.reloadSummary()
        let pids = stack.summary.processes.values
        stack.stop()
        stopped = true
        #expect(!stack.process.isRunning)
        for pid in pids { #expect(kill(pid_t(pid), 0) != 0, "pid \(pid) still runs") }
    }
}

/// Ids compare as UUIDs: events carry them as their payload wrote them, the API in lower case.
func same(_ value: Any?, _ id: String) -> Bool {
    (value as? String)?.lowercased() == id.lowercased()
}
