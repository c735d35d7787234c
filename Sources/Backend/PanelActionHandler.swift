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
/// command id. The worker that owns the panel executes it and reports `CommandCompleted`; a command the
/// worker sees after `expires_at` is failed, never executed late.
///
/// Bodies: arm `{"partitions": [1, 2], "mode": 0, "force": false}`; disarm and clear_alarm `{"partitions": [...]}`;
/// bypass_zones and unbypass_zones `{"zones": [...]}`; set_outputs `{"outputs": [...], "state": "on"|"off"|"switch"}`.
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

    func arm(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        var input = try await reader(request, context, allowed: ["partitions", "mode", "force"])
        let partitions = numbers(&input, "partitions", range: 1...32)
        let mode = input.int("mode", optional: true)
        if case let value?? = mode, !(0...3).contains(value) { input.fail("mode", "must be 0 (full) to 3") }
        let force = input.bool("force", optional: true)
        try input.finish()
        let kind: CommandKind = (force.flatMap { $0 } ?? false) ? .forceArm : .arm
        return try await self.request(kind, panel: id, armMode: mode.flatMap { $0 } ?? 0,
                                 targets: partitions, principal: principal, context: context)
    }

    func disarm(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await partitionsCommand(.disarm, id: id, request: request, principal: principal, context: context)
    }

    func clearAlarm(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await partitionsCommand(.clearAlarm, id: id, request: request, principal: principal, context: context)
    }

    func bypassZones(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await zonesCommand(.bypassZones, id: id, request: request, principal: principal, context: context)
    }

    func unbypassZones(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await zonesCommand(.unbypassZones, id: id, request: request, principal: principal, context: context)
    }

    func setOutputs(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        var input = try await reader(request, context, allowed: ["outputs", "state"])
        let outputs = numbers(&input, "outputs", range: 1...256)
        let state = input.string("state", max: 8, optional: false)
        input.require("state", state)
        let kinds: [String: CommandKind] = ["on": .outputsOn, "off": .outputsOff, "switch": .outputsSwitch]
        if case let text?? = state, kinds[text] == nil { input.fail("state", "must be one of: on, off, switch") }
        try input.finish()
        return try await self.request(kinds[state!!]!, panel: id, armMode: nil, targets: outputs, principal: principal, context: context)
    }

    // MARK: Shared

    private func partitionsCommand(_ kind: CommandKind, id: UUID, request: Request, principal: Principal, context: StamRequestContext) async throws -> Response {
        var input = try await reader(request, context, allowed: ["partitions"])
        let partitions = numbers(&input, "partitions", range: 1...32)
        try input.finish()
        return try await self.request(kind, panel: id, armMode: nil, targets: partitions, principal: principal, context: context)
    }

    private func zonesCommand(_ kind: CommandKind, id: UUID, request: Request, principal: Principal, context: StamRequestContext) async throws -> Response {
        var input = try await reader(request, context, allowed: ["zones"])
        let zones = numbers(&input, "zones", range: 1...256)
        try input.finish()
        return try await self.request(kind, panel: id, armMode: nil, targets: zones, principal: principal, context: context)
    }

    private func reader(_ request: Request, _ context: StamRequestContext, allowed: Set<String>) async throws -> JSONObjectReader {
        try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: allowed)
    }

    /// A required, non-empty list of distinct numbers in `range`.
    private func numbers(_ input: inout JSONObjectReader, _ field: String, range: ClosedRange<Int>) -> [Int] {
        let value = input.json(field, optional: false)
        input.require(field, value)
        guard case let json?? = value else { return [] }
        guard case .array(let items) = json, !items.isEmpty else {
            input.fail(field, "must be a non-empty list of numbers \(range.lowerBound)-\(range.upperBound)")
            return []
        }
        var numbers: [Int] = []
        for item in items {
            guard case .number(let number) = item, number.rounded() == number, range.contains(Int(number)) else {
                input.fail(field, "must hold numbers \(range.lowerBound)-\(range.upperBound)")
                return []
            }
            numbers.append(Int(number))
        }
        return Array(Set(numbers)).sorted()
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
        struct Accepted: Encodable { var command_id: String; var status: String; var expires_at: Date }
        return try APIResponse.json(Accepted(command_id: command.id.uuidString.lowercased(), status: command.status.rawValue, expires_at: command.expiresAt),
                                    status: .accepted, headers: [.location: "/api/commands/\(command.id.uuidString.lowercased())"])
    }
}
