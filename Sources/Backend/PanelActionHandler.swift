import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Outbox
import Persistence
import PostgresNIO
import StamCore

/// Panel commands from operators: each is a `Command` row (status requested, expiring after `commandLifetime`)
/// and its `CommandRequested` event in one transaction, plus the audit entry; the answer is 202 with the
/// command row and its Location. The worker that owns the panel executes it and reports `CommandCompleted`; a
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

    func arm(id: UUID, body: PanelArmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(body.force == true ? .forceArm : .arm, panel: id, armMode: body.mode ?? 0, targets: body.partitions,
                               principal: principal, context: context)
    }

    func disarm(id: UUID, body: PanelDisarmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.disarm, panel: id, armMode: nil, targets: body.partitions, principal: principal, context: context)
    }

    func clearAlarm(id: UUID, body: PanelClearAlarmBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.clearAlarm, panel: id, armMode: nil, targets: body.partitions, principal: principal, context: context)
    }

    func bypassZones(id: UUID, body: PanelBypassZonesBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.bypassZones, panel: id, armMode: nil, targets: body.zones, principal: principal, context: context)
    }

    func unbypassZones(id: UUID, body: PanelUnbypassZonesBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await self.request(.unbypassZones, panel: id, armMode: nil, targets: body.zones, principal: principal, context: context)
    }

    func setOutputs(id: UUID, body: PanelSetOutputsBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let kind: CommandKind = switch body.state {
        case .on: .outputsOn
        case .off: .outputsOff
        case .switch: .outputsSwitch
        }
        return try await self.request(kind, panel: id, armMode: nil, targets: body.outputs, principal: principal, context: context)
    }

    /// `targets` is stored as the schema documents it (`Command.targets`): a plain array of the partition,
    /// zone or output numbers, the command's kind saying which; the worker's translator reads exactly that.
    private func request(_ kind: CommandKind, panel panelId: UUID, armMode: Int?, targets: [Int],
                         principal: Principal, context: StamRequestContext) async throws -> Response {
        let targetsJSON = JSONValue.array(targets.map { .number(Double($0)) })
        let now = Date()
        let command = try await repositories.context.transaction { connection in
            guard try await repositories.panels.find(id: panelId, on: connection) != nil else { throw APIError.notFound("no panel \(panelId)") }
            let command = try await repositories.commands.insert(
                Command(panelId: panelId, kind: kind, armMode: armMode, targets: targetsJSON, requestedBy: principal.operatorId,
                        requestedAt: now, expiresAt: now.addingTimeInterval(commandLifetime)),
                on: connection)
            try await Outbox.enqueue(
                CommandRequested(commandId: command.id, panelId: panelId, kind: kind, armMode: armMode, targets: targetsJSON,
                                 requestedBy: principal.operatorId, expiresAt: command.expiresAt),
                on: connection, correlationId: context.requestId, logger: context.logger)
            try await audit.record("panel.\(kind.rawValue)", entityType: "Panel", entityId: panelId, principal: principal, context: context,
                                   details: .object(["command_id": .string(command.id.uuidString.lowercased()), "targets": targetsJSON]),
                                   on: connection)
            return command
        }
        outbox.signal()
        return try APIResponse.json(command, status: .accepted, headers: [.location: "/api/commands/\(command.id)"])
    }
}
