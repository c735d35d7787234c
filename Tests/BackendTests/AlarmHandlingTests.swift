import APISupport
import Foundation
import Generated
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StamCore
import Testing

/// Issue 20 through the generated routes on a real PostgreSQL: one operator at a time (take, release, transfer,
/// take over), the action plan (the site's own steps replace the class's defaults; close refused while a required
/// step is open, a supervisor's override), code words checked without being shown, and the timeline that records
/// all of it in order. The alarm is inserted (the raise itself is AlarmRaiser's, tested in AlarmTests and the
/// worker's suites).
extension APITests {
    struct Desk {
        var client: any TestClientProtocol
        var base: String
        var headers: [String: HTTPFields]

        func post(_ action: String, as role: String, _ body: String = "{}") async throws -> TestResponse {
            try await client.execute(uri: "\(base)/\(action)", method: .post, headers: headers[role]!, body: APITests.json(body))
        }

        func code(_ response: TestResponse) throws -> String {
            try (APITests.object(response)["error"] as? [String: Any])?["code"] as? String ?? "-"
        }
    }

    func desk(_ client: any TestClientProtocol, _ harness: Harness, alarm: UUID) async throws -> Desk {
        var headers: [String: HTTPFields] = [:]
        for role in ["operator", "supervisor", "admin"] { headers[role] = Self.bearer(try await token(harness, role: role)) }
        return Desk(client: client, base: "/api/alarms/\(alarm.uuidString.lowercased())", headers: headers)
    }

    @Test func aTakenAlarmIsLockedToItsAssigneeUntilReleasedTransferredOrTakenOver() async throws {
        try await withAPI { client, harness in
            let site = try await harness.repositories.sites.insert(Site(code: "L", name: "locks"))
            let alarm = try await harness.repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, priority: .burglary, title: "Zone 3"))
            let second = try await harness.repositories.operators.insert(Operator(login: "second", displayName: "Second Operator"))
            let desk = try await desk(client, harness, alarm: alarm.id)
            let headers = [
                "operator": desk.headers["operator"]!,
                "second": Self.bearer(try await Self.sessionToken(for: second, repositories: harness.repositories, tokens: harness.tokens)),
            ]
            #expect(try await desk.post("acknowledge", as: "operator").status == .ok)
            #expect(try await desk.post("release", as: "operator").status == .conflict)  // not taken yet
            #expect(try await desk.post("take", as: "operator").status == .ok)
            // Someone else cannot close, release or transfer it, and is told who has it.
            let refused = try await client.execute(uri: "\(desk.base)/release", method: .post, headers: headers["second"]!, body: Self.json("{}"))
            #expect(refused.status == .forbidden)
            #expect(try desk.code(refused) == "not_assignee")
            #expect(String(buffer: refused.body).contains("being handled by operator;"), "names the assignee")
            let closeBySecond = try await client.execute(uri: "\(desk.base)/close", method: .post, headers: headers["second"]!,
                                                         body: Self.json(#"{"note":"mine now"}"#))
            #expect(closeBySecond.status == .forbidden)
            #expect(try await desk.post("take-over", as: "operator").status == .forbidden)  // a supervisor's action

            // Transfer to the second operator, who then releases it back to the stack.
            let operatorID = harness.users["operator"]!.id
            #expect(try await desk.post("transfer", as: "operator", #"{"operator_id":"\#(UUID().uuidString)"}"#).status == .conflict)
            let transferred = try await desk.post("transfer", as: "operator", #"{"operator_id":"\#(second.id.uuidString)"}"#)
            #expect(transferred.status == .ok)
            #expect((try Self.object(transferred)["assignee_id"] as? String)?.lowercased() == second.id.uuidString.lowercased())
            #expect(try await desk.post("release", as: "operator").status == .forbidden)  // no longer theirs
            let released = try await client.execute(uri: "\(desk.base)/release", method: .post, headers: headers["second"]!, body: Self.json("{}"))
            #expect(released.status == .ok)
            #expect(try Self.object(released)["state"] as? String == "acknowledged")
            #expect(try Self.object(released)["assignee_id"] is NSNull)

            // Taken again; a supervisor takes it over and may change its class.
            #expect(try await desk.post("take", as: "operator").status == .ok)
            let takenOver = try await desk.post("take-over", as: "supervisor")
            #expect(takenOver.status == .ok)
            #expect((try Self.object(takenOver)["assignee_id"] as? String)?.lowercased() == harness.users["supervisor"]!.id.uuidString.lowercased())
            #expect(try await desk.post("change-priority", as: "operator", #"{"priority":"fire","reason":"smoke reported"}"#).status == .forbidden)
            #expect(try await desk.post("change-priority", as: "supervisor", #"{"priority":"fire","reason":"caller reports smoke"}"#).status == .ok)
            #expect(try await harness.repositories.alarms.find(id: alarm.id)?.priority == .fire)

            let timeline = try await harness.repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm.id), sort: .at, limit: 50).items
            #expect(timeline.map(\.kind) == [.acknowledged, .taken, .transferred, .released, .taken, .takenOver, .priorityChanged])
            #expect(timeline.map(\.operatorId) == [operatorID, operatorID, operatorID, second.id, operatorID, harness.users["supervisor"]!.id,
                                                   harness.users["supervisor"]!.id])
            #expect(timeline[2].text == "Transferred to Second Operator")
            #expect(timeline[6].text == "burglary -> fire: caller reports smoke")
            let events = try await count(harness, """
                SELECT count(*)::int FROM outbox WHERE aggregate_id = '\(alarm.id.uuidString.lowercased())'
                  AND event_name IN ('AlarmAssigned', 'AlarmReleased', 'AlarmPriorityChanged')
                """)
            #expect(events == 4)
        }
    }

    @Test func closingNeedsEveryRequiredStepOfTheSitesPlanOrASupervisorsReason() async throws {
        try await withAPI { client, harness in
            let repositories = harness.repositories
            let site = try await repositories.sites.insert(Site(code: "P", name: "plans"))
            let other = try await repositories.sites.insert(Site(code: "Q", name: "other"))
            // The class's default plan, and this site's own, which replaces it.
            _ = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, position: 1, kind: .callContacts, instruction: "Default: call the list"))
            let call = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, siteId: site.id, position: 1, kind: .callContacts,
                                                                                   instruction: "Call the keyholders"))
            let guardService = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, siteId: site.id, position: 2, kind: .callGuardService,
                                                                                           instruction: "Send the guard patrol"))
            let advisory = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .burglary, siteId: site.id, position: 3, kind: .instruction,
                                                                                       instruction: "Check the cameras", required: false))
            let owner = try await repositories.contacts.insert(Contact(siteId: site.id, name: "Anna Owner", phone: "+48 600 000 001", role: .owner,
                                                                      codeWord: Secret("Blue Harbour")))
            let stranger = try await repositories.contacts.insert(Contact(siteId: other.id, name: "Not Theirs", phone: "+48 600 000 002"))
            let alarm = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, priority: .burglary, title: "Burglary - Zone 3"))
            let desk = try await desk(client, harness, alarm: alarm.id)
            #expect(try await desk.post("acknowledge", as: "operator").status == .ok)
            #expect(try await desk.post("record-step", as: "operator", #"{"step_id":"\#(call.id)","outcome":"done"}"#).status == .conflict)  // not taken
            #expect(try await desk.post("take", as: "operator").status == .ok)

            // Code words: checked, never shown; each check is on the timeline.
            let contactURI = "/api/contacts/\(owner.id.uuidString.lowercased())"
            let read = try await client.execute(uri: contactURI, method: .get, headers: desk.headers["operator"]!)
            #expect(try Self.object(read)["code_word"] is NSNull)
            #expect(!String(buffer: read.body).contains("Harbour"))
            func verify(_ word: String) async throws -> TestResponse {
                try await client.execute(uri: "\(contactURI)/verify-code-word", method: .post, headers: desk.headers["operator"]!,
                                         body: Self.json(#"{"code_word":"\#(word)","alarm_id":"\#(alarm.id)"}"#))
            }
            #expect(try await verify("red harbour").status == .conflict)
            #expect(try await verify("  blue   HARBOUR ").status == .noContent)

            // Steps: only this alarm's plan, only this site's contacts.
            let wrongPlan = try await desk.post("record-step", as: "operator", #"{"step_id":"\#(UUID())","outcome":"done"}"#)
            #expect(wrongPlan.status == .conflict)
            #expect(try Self.errorFields(wrongPlan) == ["step_id"])
            let wrongContact = try await desk.post("record-step", as: "operator",
                                                   #"{"step_id":"\#(call.id)","outcome":"done","contact_id":"\#(stranger.id)"}"#)
            #expect(try Self.errorFields(wrongContact) == ["contact_id"])
            #expect(try await desk.post("record-step", as: "operator",
                                        #"{"step_id":"\#(call.id)","outcome":"no_answer","contact_id":"\#(owner.id)"}"#).status == .created)
            let refused = try await desk.post("close", as: "operator", #"{"note":"all fine"}"#)
            #expect(refused.status == .conflict)
            #expect(try desk.code(refused) == "required_steps_open")
            #expect(String(buffer: refused.body).contains("Send the guard patrol"))
            #expect(!String(buffer: refused.body).contains("Check the cameras"), "an advisory step does not hold the close")
            // An operator cannot override; the override is a supervisor's, with a reason.
            #expect(try await desk.post("close", as: "operator", #"{"note":"all fine","override_reason":"trust me"}"#).status == .forbidden)
            #expect(try await desk.post("record-step", as: "operator",
                                        #"{"step_id":"\#(guardService.id)","outcome":"done","note":"Patrol 7 on the way"}"#).status == .created)
            #expect(try await desk.post("close", as: "operator", #"{"note":"Patrol found a window open; owner informed"}"#).status == .ok)
            _ = advisory

            let timeline = try await repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm.id), sort: .at, limit: 50).items
            #expect(timeline.map(\.kind) == [.acknowledged, .taken, .codeWordChecked, .codeWordChecked, .step, .step, .closed])
            #expect(timeline.compactMap(\.text) == [
                "Code word of Anna Owner: WRONG", "Code word of Anna Owner: correct",
                "Call the keyholders: no answer (Anna Owner)", "Send the guard patrol: done. Patrol 7 on the way",
                "Patrol found a window open; owner informed",
            ])
        }
    }

    /// Test mode is a supervisor's, bounded to a week, in the future, audited with its reason; ending it clears it.
    @Test func aSupervisorPutsASiteOrPanelOnTestForABoundedTime() async throws {
        try await withAPI { client, harness in
            let site = try await harness.repositories.sites.insert(Site(code: "T", name: "test mode"))
            let panel = try await harness.repositories.panels.insert(Panel(siteId: site.id, name: "P", host: "10.0.0.9"))
            let desk = try await desk(client, harness, alarm: UUID())
            let siteURI = "/api/sites/\(site.id.uuidString.lowercased())"
            let panelURI = "/api/panels/\(panel.id.uuidString.lowercased())"
            func post(_ uri: String, as role: String, _ body: String = "{}") async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: desk.headers[role]!, body: Self.json(body))
            }
            let formatter = ISO8601DateFormatter()
            let inAnHour = formatter.string(from: Date().addingTimeInterval(3600))
            #expect(try await post("\(siteURI)/put-on-test", as: "operator", #"{"until":"\#(inAnHour)","reason":"installer"}"#).status == .forbidden)
            let past = try await post("\(siteURI)/put-on-test", as: "supervisor", #"{"until":"2020-01-01T00:00:00Z","reason":"installer"}"#)
            #expect(try Self.errorFields(past) == ["until"])
            let tooLong = formatter.string(from: Date().addingTimeInterval(8 * 86400))
            #expect(try Self.errorFields(try await post("\(siteURI)/put-on-test", as: "supervisor", #"{"until":"\#(tooLong)","reason":"x"}"#)) == ["until"])
            let onTest = try await post("\(siteURI)/put-on-test", as: "supervisor", #"{"until":"\#(inAnHour)","reason":"Detector test by Alarmtech"}"#)
            #expect(onTest.status == .ok)
            #expect(try Self.object(onTest)["on_test_until"] as? String != nil)
            #expect(try await post("\(panelURI)/put-on-test", as: "admin", #"{"until":"\#(inAnHour)","reason":"Panel swap"}"#).status == .ok)
            #expect(try await post("\(siteURI)/end-test", as: "supervisor").status == .ok)
            #expect(try await harness.repositories.sites.find(id: site.id)?.onTestUntil == nil)
            #expect(try await harness.repositories.panels.find(id: panel.id)?.onTestUntil != nil)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE action IN ('site.put_on_test', 'site.end_test', 'panel.put_on_test')") == 3)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE details->>'reason' = 'Detector test by Alarmtech'") == 1)
        }
    }

    @Test func aSupervisorClosesWithRequiredStepsOpenOnlyWithAReason() async throws {
        try await withAPI { client, harness in
            let site = try await harness.repositories.sites.insert(Site(code: "O", name: "override"))
            _ = try await harness.repositories.actionPlanSteps.insert(ActionPlanStep(priority: .fire, position: 1, kind: .callFireBrigade,
                                                                                     instruction: "Call the fire brigade (112)"))
            let alarm = try await harness.repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, priority: .fire, title: "Fire - Zone 1"))
            let desk = try await desk(client, harness, alarm: alarm.id)
            #expect(try await desk.post("acknowledge", as: "supervisor").status == .ok)
            #expect(try await desk.post("take", as: "supervisor").status == .ok)
            let refused = try await desk.post("close", as: "supervisor", #"{"note":"test"}"#)
            #expect(try desk.code(refused) == "required_steps_open")
            #expect(String(buffer: refused.body).contains("override_reason"), "tells a supervisor how to override")
            #expect(try await desk.post("close", as: "supervisor", #"{"note":"Technician's test","override_reason":""}"#).status == .unprocessableContent)
            #expect(try await desk.post("close", as: "supervisor",
                                        #"{"note":"Technician's test","override_reason":"announced service visit, confirmed by phone"}"#).status == .ok)
            let closed = try await harness.repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm.id, kind: .closed), sort: .at).items
            #expect(closed.first?.text == "Technician's test\nClosed with required steps open (Call the fire brigade (112)): announced service visit, confirmed by phone")
            // The timeline is append-only, for everyone.
            await #expect(throws: (any Error).self) {
                try await harness.repositories.context.client.query("DELETE FROM alarm_history_entries", logger: harness.repositories.context.logger)
            }
        }
    }
}

extension APITests {
    /// Issue 20 point 7: a storm's alarms closed as one group with a reason, whoever holds them and whatever steps are
    /// open; one fire alarm in the group refuses all of it; operators may not; an alarm already closed is left alone.
    @Test func aSupervisorClosesAGroupWithAReasonButNeverAFireAlarm() async throws {
        try await withAPI { client, harness in
            let repositories = harness.repositories
            let site = try await repositories.sites.insert(Site(code: "G", name: "storm"))
            _ = try await repositories.actionPlanSteps.insert(ActionPlanStep(priority: .tamper, position: 1, kind: .callContacts, instruction: "Call the owner"))
            var tampers: [Alarm] = []
            for zone in 1...3 {
                tampers.append(try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .tamper, priority: .tamper, title: "Tamper - Zone \(zone)",
                                                                          zoneNumber: zone)))
            }
            let fire = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, priority: .fire, title: "Fire - Zone 9", zoneNumber: 9))
            let desk = try await desk(client, harness, alarm: tampers[0].id)
            // One of them is being handled by an operator, another is already closed.
            #expect(try await desk.post("acknowledge", as: "operator").status == .ok)
            #expect(try await desk.post("take", as: "operator").status == .ok)
            var done = tampers[2]
            done.state = .closed
            done.closedAt = Date()
            _ = try await repositories.alarms.update(done)
            func closeGroup(_ ids: [UUID], as role: String, reason: String = "Faulty tamper loop, technician booked") async throws -> TestResponse {
                let list = ids.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ",")
                return try await client.execute(uri: "/api/alarms/close-group", method: .post, headers: desk.headers[role]!,
                                                body: Self.json(#"{"alarm_ids":[\#(list)],"reason":"\#(reason)"}"#))
            }
            let ids = tampers.map(\.id)
            #expect(try await closeGroup(ids, as: "operator").status == .forbidden)
            let withFire = try await closeGroup(ids + [fire.id], as: "supervisor")
            #expect(withFire.status == .conflict)
            #expect(try desk.code(withFire) == "not_bulk_closable")
            #expect(String(buffer: withFire.body).contains("Fire - Zone 9"), "names the alarm it will not close")
            #expect(try await repositories.alarms.find(id: tampers[1].id)?.state == .new, "refused whole")
            // A fire alarm moved to another class is still a fire alarm.
            var moved = try await repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, priority: .fire, title: "Fire - Zone 8"))
            moved.priority = .tamper
            moved = try await repositories.alarms.update(moved)
            #expect(try desk.code(try await closeGroup(ids + [moved.id], as: "supervisor")) == "not_bulk_closable")
            let unknown = try await closeGroup(ids + [UUID()], as: "supervisor")
            #expect(unknown.status == .notFound)
            #expect(try Self.errorFields(try await closeGroup([], as: "supervisor")) == ["alarm_ids"])
            #expect(try Self.errorFields(try await closeGroup(ids, as: "supervisor", reason: "")) == ["reason"])

            let closed = try await closeGroup(ids, as: "supervisor")
            #expect(closed.status == .ok)
            let items = try #require(try Self.object(closed)["items"] as? [[String: Any]])
            #expect(Set(items.compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }) == Set(ids.prefix(2)), "the two it closed")
            for alarm in tampers.prefix(2) {
                let stored = try #require(try await repositories.alarms.find(id: alarm.id))
                #expect(stored.state == .closed && stored.closedAt != nil)
                let line = try await repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm.id, kind: .closed), sort: .at).items
                #expect(line.map(\.text) == ["Closed with a group of 2 by a supervisor: Faulty tamper loop, technician booked"])
            }
            #expect(try await repositories.alarms.find(id: fire.id)?.state == .new)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_entries WHERE action = 'alarm.close_group' AND details->>'reason' = 'Faulty tamper loop, technician booked' AND (details->'group'->>'size')::int = 2") == 2)
            #expect(try await count(harness, "SELECT count(DISTINCT details->'group'->>'id')::int FROM audit_entries WHERE action = 'alarm.close_group'") == 1)
            #expect(try await count(harness, "SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmClosed'") == 2)
        }
    }
}

extension APITests {
    /// The handling KPIs over alarms with known step times (the report's arithmetic; the times themselves are
    /// written by the raisers, the live feed and the actions, tested in their suites): per day and class, medians and
    /// 90th percentiles per step, shares acknowledged within 30/60/180 s; alarms on test left out; CSV for a
    /// spreadsheet.
    @Test func theHandlingReportGivesEachStepsMedianAndP90AndTheSharesWithinTargets() async throws {
        try await withAPI { client, harness in
            let site = try await harness.repositories.sites.insert(Site(code: "K", name: "kpi"))
            let handler = try #require(harness.users["operator"])
            let base = ISO8601DateFormatter().date(from: "2026-12-01T10:00:00Z")!
            // Fire alarms acknowledged after 10, 20, 40, 100 and 200 s; one burglary never acknowledged; one on test.
            for (index, ack) in [10.0, 20, 40, 100, 200].enumerated() {
                let raised = base.addingTimeInterval(Double(index) * 3600)
                _ = try await harness.repositories.alarms.insert(Alarm(
                    siteId: site.id, kind: .fire, priority: .fire, state: .closed, title: "Fire \(index)", assigneeId: handler.id,
                    receivedAt: raised.addingTimeInterval(-0.5), raisedAt: raised, presentedAt: raised.addingTimeInterval(0.2),
                    acknowledgedAt: raised.addingTimeInterval(ack), takenAt: raised.addingTimeInterval(ack + 5),
                    closedAt: raised.addingTimeInterval(ack + 65)))
            }
            _ = try await harness.repositories.alarms.insert(Alarm(siteId: site.id, kind: .burglary, priority: .burglary, title: "Open", raisedAt: base))
            _ = try await harness.repositories.alarms.insert(Alarm(siteId: site.id, kind: .fire, priority: .fire, state: .closed, title: "On test",
                                                                   raisedAt: base, closedAt: base, onTest: true))
            let headers = Self.bearer(try await token(harness, role: "supervisor"))
            let uri = "/api/reports/handling?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&period=day&by=priority"
            #expect(try await client.execute(uri: uri, method: .get, headers: Self.bearer(try await token(harness, role: "operator"))).status == .forbidden)
            let answer = try await client.execute(uri: uri, method: .get, headers: headers)
            #expect(answer.status == .ok)
            let lines = try #require(try Self.object(answer)["lines"] as? [[String: Any]])
            #expect(lines.map { "\($0["period"]!) \($0["group"]!) \($0["alarms"]!)" } == ["2026-12-01 burglary 1", "2026-12-01 fire 5"])
            let fire = try #require(lines.last)
            let seconds = try #require(fire["seconds"] as? [String: [String: Any]])
            #expect(seconds["store_to_acknowledge"]?["p50"] as? Double == 40)
            #expect(seconds["store_to_acknowledge"]?["p90"] as? Double == 160)  // between 100 and 200, linear
            #expect(seconds["receive_to_store"]?["p50"] as? Double == 0.5)
            #expect(seconds["take_to_close"]?["p90"] as? Double == 60)
            let within = try #require(fire["acknowledged_within"] as? [String: Double])
            #expect(within == ["30s": 0.4, "60s": 0.6, "180s": 0.8])
            let burglary = try #require(lines.first?["acknowledged_within"] as? [String: Double])
            #expect(burglary["180s"] == 0, "never acknowledged: not within")

            let byOperator = try Self.object(try await client.execute(uri: uri.replacingOccurrences(of: "by=priority", with: "by=operator"),
                                                                      method: .get, headers: headers))["lines"] as? [[String: Any]]
            #expect(byOperator?.map { "\($0["group"]!) \($0["alarms"]!)" } == ["operator 5", "unassigned 1"])
            let csv = try await client.execute(uri: uri + "&format=csv", method: .get, headers: headers)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = String(buffer: csv.body).split(separator: "\r\n").map(String.init)
            #expect(rows.count == 3)
            #expect(rows.first?.hasPrefix("period,group,alarms,receive_to_store_p50_s,receive_to_store_p90_s,") == true)
            #expect(rows.last?.hasPrefix("2026-12-01,fire,5,0.5,0.5,0.2,0.2,40.0,160.0,") == true, "\(rows.last ?? "")")
            #expect(rows.last?.hasSuffix(",0.400,0.600,0.800") == true)
            let badZone = try await client.execute(uri: uri + "&time_zone=Mars/Olympus", method: .get, headers: headers)
            #expect(try Self.errorFields(badZone) == ["time_zone"])
        }
    }
}
