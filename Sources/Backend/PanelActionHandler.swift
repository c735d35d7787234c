import APISupport
import Foundation
import Generated
import GeneratedAPI
import HTTPTypes
import Hummingbird
import Logging
import Outbox
import Persistence
import PostgresNIO
import StamCore

/// Panel commands from operators: each is a `Command` row (status requested, expiring after `commandLifetime`)
/// and its `CommandRequested` event in one transaction, plus the audit entry; the answer is 202 with the
/// command row and its Location. Its times are the database's (`now()` of the transaction), the clock the worker
/// checks `expires_at` against. With an `Idempotency-Key`, the same operator sending the same request again (its
/// answer was lost) gets the first command back (`Idempotent-Replayed: true`) instead of a second one: a switch of
/// outputs must not toggle twice; the same key with another request is refused (409,
/// `idempotency_key_reused`: the key already names another command). The worker that owns the panel executes it and reports `CommandCompleted`; a
/// command the worker sees after `expires_at` is failed, never executed late. The bodies are declared in
/// `schema/entities.yaml` (`actions:` of Panel) and arrive read and checked (`PanelArmBody`, ...).
struct PanelActionHandler: PanelActions {
    let repositories: Repositories
    let outbox: OutboxNotifier
    let audit: AuditTrail
    let commandLifetime: TimeInterval

    init(repositories: Repositories, outbox: OutboxNotifier, commandLifetime: TimeInterval = 60) {
        self.repositories = repositories
        self.outbox = outbox
        audit = AuditTrail(repositories: repositories)
        self.commandLifetime = commandLifetime
    }

    func putOnTest(id: UUID, body: PanelPutOnTestBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await TestModeHandler(repositories: repositories).putOnTest(.panel, id: id, until: body.until, reason: body.reason, principal: principal,
                                                                        context: context)
    }

    func endTest(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await TestModeHandler(repositories: repositories).endTest(.panel, id: id, principal: principal, context: context)
    }

    func arm(id: UUID, body: PanelArmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(body.force == true ? .forceArm : .arm, panel: id, armMode: body.mode ?? 0, targets: body.partitions,
                               principal: principal, request: request, context: context)
    }

    func disarm(id: UUID, body: PanelDisarmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.disarm, panel: id, armMode: nil, targets: body.partitions, principal: principal, request: request, context: context)
    }

    func clearAlarm(id: UUID, body: PanelClearAlarmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.clearAlarm, panel: id, armMode: nil, targets: body.partitions, principal: principal, request: request, context: context)
    }

    func bypassZones(id: UUID, body: PanelBypassZonesBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.bypassZones, panel: id, armMode: nil, targets: body.zones, principal: principal, request: request, context: context)
    }

    func unbypassZones(id: UUID, body: PanelUnbypassZonesBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.unbypassZones, panel: id, armMode: nil, targets: body.zones, principal: principal, request: request, context: context)
    }

    func setOutputs(id: UUID, body: PanelSetOutputsBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let kind: CommandKind = switch body.state {
        case .on: .outputsOn
        case .off: .outputsOff
        case .switch: .outputsSwitch
        }
        return try await self.request(kind, panel: id, armMode: nil, targets: body.outputs, principal: principal, request: request, context: context)
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// `targets` is stored as the schema documents it (`Command.targets`): a plain array of the partition,
    /// zone or output numbers, the command's kind saying which; the worker's translator reads exactly that.
    private func request(_ kind: CommandKind, panel panelId: UUID, armMode: Int?, targets: [Int],
                         principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let targetsJSON = JSONValue.array(targets.map { .number(Double($0)) })
        let key = try Self.idempotencyKey(of: request)
        let wanted = Command(panelId: panelId, kind: kind, armMode: armMode, targets: targetsJSON, requestedBy: principal.operatorId,
                             expiresAt: Date(), idempotencyKey: key)
        if let key, let earlier = try await earlierCommand(key: key, operator: principal.operatorId) {
            return try replay(earlier, for: wanted)
        }
        let command: Command
        do {
            command = try await repositories.context.outboxTransaction(notifier: outbox, logger: context.logger) { transaction in
                let connection = transaction.connection
                guard try await repositories.panels.find(id: panelId, on: connection) != nil else { throw APIError.notFound("no panel \(panelId)") }
                // The database's clock: the worker expires commands with now(), whatever this host's clock says.
                let now = try await Self.databaseNow(on: connection, logger: context.logger)
                var new = wanted
                new.requestedAt = now
                new.expiresAt = now.addingTimeInterval(commandLifetime)
                let command = try await repositories.commands.insert(new, on: connection)
                try await transaction.enqueue(
                    CommandRequested(commandId: command.id, panelId: panelId, kind: kind, armMode: armMode, targets: targetsJSON,
                                     requestedBy: principal.operatorId, expiresAt: command.expiresAt),
                    correlationId: context.requestId)
                try await audit.record("panel.\(kind.rawValue)", entityType: "Panel", entityId: panelId, principal: principal, context: context,
                                       details: .object(["command_id": .string(command.id.uuidString.lowercased()), "targets": targetsJSON]),
                                       on: connection)
                return command
            }
        } catch {
            // Two copies of one request at the same moment: the unique key let one in; the other answers with it.
            if let key, let earlier = try? await earlierCommand(key: key, operator: principal.operatorId) {
                return try replay(earlier, for: wanted)
            }
            throw error
        }
        return try APIResponse.json(command, status: .accepted, headers: [.location: "/api/commands/\(command.id)"])
    }

    static func idempotencyKey(of request: Request) throws -> String? {
        guard let key = request.headers[idempotencyKeyHeader] else { return nil }
        guard (1...128).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.invalid(field: "Idempotency-Key", "must be 1 to 128 visible ASCII characters")
        }
        return key
    }

    static func databaseNow(on connection: PostgresConnection, logger: Logger) async throws -> Date {
        for try await now in try await connection.query("SELECT now()", logger: logger).decode(Date.self) { return now }
        throw APIError(status: .internalServerError, code: "no_time", message: "the database did not say what time it is")
    }

    private func earlierCommand(key: String, operator operatorID: UUID) async throws -> Command? {
        try await repositories.context.transaction { connection in
            let rows = try await connection.query(
                "SELECT id FROM commands WHERE requested_by = \(operatorID) AND idempotency_key = \(key)", logger: repositories.context.logger)
            for try await id in rows.decode(UUID.self) { return try await repositories.commands.find(id: id, on: connection) }
            return nil
        }
    }

    /// The first command of this key, when this request is the same request; else 422.
    private func replay(_ earlier: Command, for wanted: Command) throws -> Response {
        guard earlier.panelId == wanted.panelId, earlier.kind == wanted.kind, earlier.armMode == wanted.armMode,
              earlier.targets == wanted.targets else {
            throw APIError(status: .conflict, code: "idempotency_key_reused",
                           message: "this Idempotency-Key was used for a different request (command \(earlier.id.uuidString.lowercased()))")
        }
        return try APIResponse.json(earlier, status: .accepted, headers: [
            .location: "/api/commands/\(earlier.id)", Self.replayedHeader: "true",
        ])
    }
}
