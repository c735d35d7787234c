import Alarms
import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Outbox
import Persistence
import PostgresNIO
import StamCore

/// The operator's alarm workflow, enforced: new -> acknowledged -> in_progress -> closed (409 on any other step),
/// with a taken alarm locked to its assignee: only they or a supervisor record its steps, close, release or
/// transfer it (403 `not_assignee` otherwise); a supervisor may take it over. Closing needs every required step of
/// the alarm's action plan recorded, or a supervisor's reason. Each step is one transaction: the alarm row (locked
/// and version-checked), its event in the outbox, its line in the timeline (`AlarmHistory`), a note or a step when
/// there is one, and the audit entry.
struct AlarmActionHandler: AlarmActions {
    let repositories: Repositories
    let outbox: OutboxNotifier
    let audit: AuditTrail
    let history: AlarmHistory

    init(repositories: Repositories, outbox: OutboxNotifier) {
        self.repositories = repositories
        self.outbox = outbox
        audit = AuditTrail(repositories: repositories)
        history = AlarmHistory(repositories: repositories)
    }

    /// Roles that act on any operator's alarm.
    static let supervising: Set<String> = [OperatorRole.supervisor.rawValue, OperatorRole.admin.rawValue]

    func acknowledge(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.new], action: "alarm.acknowledge", principal: principal, context: context) { alarm, now, transaction in
            alarm.state = .acknowledged
            alarm.acknowledgedAt = now
            try await history.record(.acknowledged, alarm: alarm.id, by: principal.operatorId, at: now, on: transaction.connection)
            try await transaction.enqueue(AlarmAcknowledged(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func take(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.acknowledged], action: "alarm.take", principal: principal, context: context) { alarm, now, transaction in
            alarm.state = .inProgress
            alarm.takenAt = alarm.takenAt ?? now
            alarm.assigneeId = principal.operatorId
            try await history.record(.taken, alarm: alarm.id, by: principal.operatorId, at: now, on: transaction.connection)
            try await transaction.enqueue(AlarmTaken(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func release(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.inProgress], action: "alarm.release", principal: principal, context: context,
                             onlyAssignee: true) { alarm, now, transaction in
            alarm.state = .acknowledged
            alarm.assigneeId = nil
            try await history.record(.released, alarm: alarm.id, by: principal.operatorId, text: "Back on the stack", at: now,
                                     on: transaction.connection)
            try await transaction.enqueue(AlarmReleased(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId,
                                                        operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func transfer(id: UUID, body: AlarmTransferBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.inProgress], action: "alarm.transfer", principal: principal, context: context,
                             details: .object(["operator_id": .string(body.operatorId.uuidString.lowercased())]),
                             onlyAssignee: true) { alarm, now, transaction in
            guard let target = try await repositories.operators.find(id: body.operatorId, on: transaction.connection), target.active else {
                throw APIError.missingReference(field: "operator_id", "no active operator with this id")
            }
            try await assign(&alarm, to: target, takenOver: false, principal: principal, now: now, transaction: transaction, context: context)
        }
    }

    func takeOver(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.inProgress], action: "alarm.take_over", principal: principal, context: context) { alarm, now, transaction in
            guard alarm.assigneeId != principal.operatorId else { return }
            guard let caller = try await repositories.operators.find(id: principal.operatorId, on: transaction.connection) else {
                throw APIError.unauthorized("no operator \(principal.operatorId)")
            }
            try await assign(&alarm, to: caller, takenOver: true, principal: principal, now: now, transaction: transaction, context: context)
        }
    }

    private func assign(_ alarm: inout Alarm, to target: Operator, takenOver: Bool, principal: Principal, now: Date,
                        transaction: OutboxTransaction, context: StamRequestContext) async throws {
        let previous = alarm.assigneeId
        alarm.assigneeId = target.id
        try await history.record(takenOver ? .takenOver : .transferred, alarm: alarm.id, by: principal.operatorId,
                                 text: takenOver ? "Taken over by \(target.displayName)" : "Transferred to \(target.displayName)",
                                 details: .object(["assignee_id": .string(target.id.uuidString.lowercased()),
                                                   "previous_assignee_id": previous.map { .string($0.uuidString.lowercased()) } ?? .null]),
                                 at: now, on: transaction.connection)
        try await transaction.enqueue(AlarmAssigned(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, assigneeId: target.id,
                                                    previousAssigneeId: previous, operatorId: principal.operatorId, takenOver: takenOver, at: now),
                                      correlationId: context.requestId)
    }

    func changePriority(id: UUID, body: AlarmChangePriorityBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.new, .acknowledged, .inProgress], action: "alarm.change_priority", principal: principal, context: context,
                             details: .object(["priority": .string(body.priority.rawValue), "reason": .string(body.reason)])) { alarm, now, transaction in
            let previous = alarm.priority
            guard previous != body.priority else { return }
            alarm.priority = body.priority
            try await history.record(.priorityChanged, alarm: alarm.id, by: principal.operatorId,
                                     text: "\(previous.rawValue) -> \(body.priority.rawValue): \(body.reason)", at: now, on: transaction.connection)
            try await transaction.enqueue(AlarmPriorityChanged(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, priority: body.priority,
                                                               previous: previous, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func recordStep(id: UUID, body: AlarmRecordStepBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        var recorded: AlarmStep?
        _ = try await transition(id, from: [.inProgress], action: "alarm.record_step", principal: principal, context: context,
                                 details: .object(["step_id": .string(body.stepId.uuidString.lowercased()), "outcome": .string(body.outcome.rawValue)]),
                                 onlyAssignee: true) { alarm, now, transaction in
            let connection = transaction.connection
            let plan = try await ActionPlan.load(for: alarm, repositories: repositories, on: connection)
            guard let step = plan.steps.first(where: { $0.id == body.stepId }) else {
                throw APIError.missingReference(field: "step_id", "not a step of this alarm's action plan")
            }
            var contact: Contact?
            if let contactId = body.contactId {
                contact = try await repositories.contacts.find(id: contactId, on: connection)
                guard contact?.siteId == alarm.siteId else { throw APIError.missingReference(field: "contact_id", "not a contact of this alarm's site") }
            }
            let stored = try await repositories.alarmSteps.insert(AlarmStep(
                alarmId: alarm.id, stepId: step.id, instruction: step.instruction, required: step.required, outcome: body.outcome,
                contactId: contact?.id, note: body.note, operatorId: principal.operatorId, recordedAt: now), on: connection)
            recorded = stored
            let who = contact.map { " (\($0.name))" } ?? ""
            try await history.record(.step, alarm: alarm.id, by: principal.operatorId,
                                     text: "\(step.instruction): \(body.outcome.rawValue.replacingOccurrences(of: "_", with: " "))\(who)"
                                         + (body.note.map { ". \($0)" } ?? ""),
                                     details: .object(["alarm_step_id": .string(stored.id.uuidString.lowercased())]),
                                     at: now, on: connection)
            try await transaction.enqueue(AlarmStepRecorded(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, stepId: step.id,
                                                            alarmStepId: stored.id, outcome: body.outcome, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
        guard let recorded else { throw APIError(status: .internalServerError, code: "internal", message: "the step was not recorded") }
        return try APIResponse.json(recorded, status: .created)
    }

    func close(id: UUID, body: AlarmCloseBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let note = body.note
        var details: [String: JSONValue] = ["note": .string(note)]
        if let reason = body.overrideReason { details["override_reason"] = .string(reason) }
        return try await transition(id, from: [.inProgress], action: "alarm.close", principal: principal, context: context,
                                    details: .object(details), onlyAssignee: true) { alarm, now, transaction in
            let connection = transaction.connection
            let plan = try await ActionPlan.load(for: alarm, repositories: repositories, on: connection)
            let open = plan.openRequiredSteps(recorded: try await repositories.alarmSteps.all(filter: .init(alarmId: alarm.id), on: connection))
            var text = note
            if !open.isEmpty {
                guard let reason = body.overrideReason else {
                    throw APIError(status: .conflict, code: "required_steps_open",
                                   message: "record the required steps first: " + open.map(\.instruction).joined(separator: "; ")
                                       + (Self.supervising.contains(principal.role) ? " (or close with an override_reason)" : ""))
                }
                guard Self.supervising.contains(principal.role) else {
                    throw APIError(status: .forbidden, code: "override_needs_supervisor",
                                   message: "only a supervisor may close an alarm with required steps open")
                }
                text += "\nClosed with required steps open (" + open.map(\.instruction).joined(separator: "; ") + "): " + reason
            }
            alarm.state = .closed
            alarm.closedAt = now
            _ = try await repositories.alarmNotes.insert(AlarmNote(alarmId: alarm.id, authorId: principal.operatorId, body: note, createdAt: now),
                                                         on: connection)
            try await history.record(.closed, alarm: alarm.id, by: principal.operatorId, text: text, at: now, on: connection)
            try await transaction.enqueue(AlarmClosed(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, note: note, at: now),
                                          correlationId: context.requestId)
        }
    }

    /// A supervisor closes a group in one transaction: every alarm of it locked (in id order, so two groups that
    /// overlap do not deadlock), refused whole when one is of a class never closed in bulk, then each open one closed
    /// as `close` would with the reason as its note, its timeline line and event, and an audit entry naming the group.
    func closeGroup(body: AlarmCloseGroupBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let ids = body.alarmIds
        let closed: [Alarm]
        do {
            closed = try await closeGroup(ids, reason: body.reason, principal: principal, context: context)
        } catch let error as PSQLError {
            // A deadlock with a supervisor restoring or a raiser joining one of these alarms: 503, send it again.
            throw APIError.from(database: error, table: "alarms") ?? error
        }
        return try APIResponse.json(PageBody(items: closed, nextCursor: nil))
    }

    private func closeGroup(_ ids: [UUID], reason: String, principal: Principal, context: StamRequestContext) async throws -> [Alarm] {
        try await repositories.context.outboxTransaction(notifier: outbox, logger: context.logger) { transaction in
            let connection = transaction.connection
            var found = Set<UUID>()
            for try await id in try await connection.query("SELECT id FROM alarms WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE",
                                                           logger: context.logger).decode(UUID.self) {
                found.insert(id)
            }
            guard found.count == ids.count else {
                throw APIError.notFound("no alarm " + ids.filter { !found.contains($0) }.map { $0.uuidString.lowercased() }.joined(separator: ", "))
            }
            var alarms: [Alarm] = []
            for id in ids {
                guard let alarm = try await repositories.alarms.find(id: id, on: connection) else { throw APIError.notFound("no alarm \(id)") }
                alarms.append(alarm)
            }
            let open = alarms.filter { $0.state != .closed }
            // A fire alarm moved to another class is still a fire alarm.
            let kept = open.filter { !$0.priority.bulkClosable || !$0.kind.defaultPriority.bulkClosable }
            guard kept.isEmpty else {
                throw APIError(status: .conflict, code: "not_bulk_closable",
                               message: "never closed in bulk, close each on its own: " + kept.map { "\($0.title) (\($0.priority.rawValue))" }.joined(separator: "; "))
            }
            let now = Date()
            // Each alarm's audit entry names the group by an id of its own (not by listing it: a storm's group is large).
            let group: JSONValue = .object(["id": .string(UUID().uuidString.lowercased()), "size": .number(Double(open.count))])
            var closed: [Alarm] = []
            for var alarm in open {
                alarm.state = .closed
                alarm.closedAt = now
                _ = try await repositories.alarmNotes.insert(AlarmNote(alarmId: alarm.id, authorId: principal.operatorId, body: reason, createdAt: now),
                                                             on: connection)
                try await history.record(.closed, alarm: alarm.id, by: principal.operatorId,
                                         text: "Closed with a group of \(open.count) by a supervisor: \(reason)", at: now, on: connection)
                try await transaction.enqueue(AlarmClosed(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId,
                                                          note: reason, at: now),
                                              correlationId: context.requestId)
                closed.append(try await repositories.alarms.update(alarm, on: connection))
                try await audit.record("alarm.close_group", entityType: "Alarm", entityId: alarm.id, principal: principal, context: context,
                                       details: .object(["reason": .string(reason), "group": group]), on: connection)
            }
            return closed
        }
    }

    func addNote(id: UUID, body: AlarmAddNoteBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let text = body.note
        let note = try await repositories.context.transaction { connection in
            guard try await repositories.alarms.find(id: id, on: connection) != nil else { throw APIError.notFound("no alarm \(id)") }
            let note = try await repositories.alarmNotes.insert(AlarmNote(alarmId: id, authorId: principal.operatorId, body: text), on: connection)
            try await history.record(.note, alarm: id, by: principal.operatorId, text: text, at: note.createdAt, on: connection)
            try await audit.record("alarm.add_note", entityType: "Alarm", entityId: id, principal: principal, context: context,
                                   details: .object(["note_id": .string(note.id.uuidString.lowercased())]), on: connection)
            return note
        }
        return try APIResponse.json(note, status: .created)
    }

    /// One step of the workflow on the locked alarm. `onlyAssignee`: on a taken alarm, only its assignee or a
    /// supervisor may do it. `change` edits the alarm (unchanged: nothing is written but the audit entry).
    private func transition(_ id: UUID, from allowed: Set<AlarmState>, action: String, principal: Principal,
                            context: StamRequestContext, details: JSONValue? = nil, onlyAssignee: Bool = false,
                            _ change: (inout Alarm, Date, OutboxTransaction) async throws -> Void) async throws -> Response {
        let stored = try await repositories.context.outboxTransaction(notifier: outbox, logger: context.logger) { transaction in
            let connection = transaction.connection
            // FOR UPDATE: two operators pressing the same button serialise here, and the second sees the new state.
            let rows = try await connection.query("SELECT id FROM alarms WHERE id = \(id) FOR UPDATE", logger: context.logger).collect()
            guard !rows.isEmpty, var alarm = try await repositories.alarms.find(id: id, on: connection) else {
                throw APIError.notFound("no alarm \(id)")
            }
            guard allowed.contains(alarm.state) else {
                throw APIError(status: .conflict, code: "illegal_transition",
                               message: "the alarm is \(alarm.state.rawValue); \(action) needs \(allowed.map(\.rawValue).sorted().joined(separator: " or "))")
            }
            if onlyAssignee, alarm.state == .inProgress, let assignee = alarm.assigneeId, assignee != principal.operatorId,
               !Self.supervising.contains(principal.role) {
                let name = try await repositories.operators.find(id: assignee, on: connection)?.displayName ?? "another operator"
                throw APIError(status: .forbidden, code: "not_assignee",
                               message: "the alarm is being handled by \(name); only they or a supervisor can do that")
            }
            let before = alarm
            try await change(&alarm, Date(), transaction)
            let updated = alarm == before ? alarm : try await repositories.alarms.update(alarm, on: connection)
            try await audit.record(action, entityType: "Alarm", entityId: id, principal: principal, context: context, details: details, on: connection)
            return updated
        }
        return try APIResponse.json(stored, headers: APIResponse.etag(version: stored.version))
    }
}
