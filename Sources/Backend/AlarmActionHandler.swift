import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Outbox
import Persistence
import PostgresNIO
import StamCore

/// The operator's alarm workflow, enforced: new -> acknowledged -> in_progress -> closed (409 on any other
/// step). Each step is one transaction: the alarm row (version-checked), its event in the outbox, a note when
/// there is one, and the audit entry.
struct AlarmActionHandler: AlarmActions {
    let repositories: Repositories
    let outbox: OutboxNotifier
    let audit: AuditTrail

    init(repositories: Repositories, outbox: OutboxNotifier) {
        self.repositories = repositories
        self.outbox = outbox
        audit = AuditTrail(repositories: repositories)
    }

    func acknowledge(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.new], to: .acknowledged, action: "alarm.acknowledge", principal: principal, context: context) { alarm, now, transaction in
            alarm.acknowledgedAt = now
            try await transaction.enqueue(AlarmAcknowledged(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func take(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await transition(id, from: [.acknowledged], to: .inProgress, action: "alarm.take", principal: principal, context: context) { alarm, now, transaction in
            alarm.takenAt = now
            alarm.assigneeId = principal.operatorId
            try await transaction.enqueue(AlarmTaken(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, at: now),
                                          correlationId: context.requestId)
        }
    }

    func close(id: UUID, body: AlarmCloseBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let note = body.note
        return try await transition(id, from: [.inProgress], to: .closed, action: "alarm.close", principal: principal, context: context,
                                    details: .object(["note": .string(note)])) { alarm, now, transaction in
            alarm.closedAt = now
            _ = try await repositories.alarmNotes.insert(AlarmNote(alarmId: alarm.id, authorId: principal.operatorId, body: note, createdAt: now),
                                                         on: transaction.connection)
            try await transaction.enqueue(AlarmClosed(alarmId: alarm.id, siteId: alarm.siteId, panelId: alarm.panelId, operatorId: principal.operatorId, note: note, at: now),
                                          correlationId: context.requestId)
        }
    }

    func addNote(id: UUID, body: AlarmAddNoteBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let text = body.note
        let note = try await repositories.context.transaction { connection in
            guard try await repositories.alarms.find(id: id, on: connection) != nil else { throw APIError.notFound("no alarm \(id)") }
            let note = try await repositories.alarmNotes.insert(AlarmNote(alarmId: id, authorId: principal.operatorId, body: text), on: connection)
            try await audit.record("alarm.add_note", entityType: "Alarm", entityId: id, principal: principal, context: context,
                                   details: .object(["note_id": .string(note.id.uuidString.lowercased())]), on: connection)
            return note
        }
        return try APIResponse.json(note, status: .created)
    }

    private func transition(_ id: UUID, from allowed: Set<AlarmState>, to target: AlarmState, action: String, principal: Principal,
                            context: StamRequestContext, details: JSONValue? = nil,
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
            let now = Date()
            alarm.state = target
            try await change(&alarm, now, transaction)
            let updated = try await repositories.alarms.update(alarm, on: connection)
            try await audit.record(action, entityType: "Alarm", entityId: id, principal: principal, context: context, details: details, on: connection)
            return updated
        }
        return try APIResponse.json(stored, headers: APIResponse.etag(version: stored.version))
    }
}
