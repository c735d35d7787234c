import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Persistence
import StamCore

/// `put_on_test` and `end_test` of sites and panels: `on_test_until` on the row (the alarm raiser reads it: alarms of a
/// site or panel on test are recorded and closed at once, never stacked), audited with the reason. A test lasts at
/// most `longest` and ends by itself; `until` must be in the future.
struct TestModeHandler: Sendable {
    let repositories: Repositories
    let audit: AuditTrail

    /// An installer's visit, not a way to silence a site for good.
    static let longest: TimeInterval = 7 * 86400

    init(repositories: Repositories) {
        self.repositories = repositories
        audit = AuditTrail(repositories: repositories)
    }

    enum Target { case site, panel }

    func putOnTest(_ target: Target, id: UUID, until: Date, reason: String, principal: Principal, context: StamRequestContext) async throws -> Response {
        let now = Date()
        // 409, not 422: the value is well-formed; whether it is acceptable depends on the time of the request.
        guard until > now, until.timeIntervalSince(now) <= Self.longest else {
            throw APIError(status: .conflict, code: "test_period", message: "a test ends within the next 7 days",
                           fields: [.init(field: "until", message: until > now ? "a test lasts at most 7 days" : "must be in the future")])
        }
        return try await set(target, id: id, until: until, action: "put_on_test", details: .object([
            "until": .string(ISO8601DateFormatter().string(from: until)), "reason": .string(reason)]), principal: principal, context: context)
    }

    func endTest(_ target: Target, id: UUID, principal: Principal, context: StamRequestContext) async throws -> Response {
        try await set(target, id: id, until: nil, action: "end_test", details: nil, principal: principal, context: context)
    }

    private func set(_ target: Target, id: UUID, until: Date?, action: String, details: JSONValue?, principal: Principal,
                     context: StamRequestContext) async throws -> Response {
        try await repositories.context.transaction { connection in
            switch target {
            case .site:
                guard try await repositories.sites.update(id: id, set: [.onTestUntil(until)], on: connection) else { throw APIError.notFound("no site \(id)") }
                try await audit.record("site.\(action)", entityType: "Site", entityId: id, principal: principal, context: context, details: details, on: connection)
                let site = try await repositories.sites.find(id: id, on: connection)
                return try APIResponse.json(site)
            case .panel:
                guard try await repositories.panels.update(id: id, set: [.onTestUntil(until)], on: connection) else { throw APIError.notFound("no panel \(id)") }
                try await audit.record("panel.\(action)", entityType: "Panel", entityId: id, principal: principal, context: context, details: details, on: connection)
                let panel = try await repositories.panels.find(id: id, on: connection)
                return try APIResponse.json(panel)
            }
        }
    }
}

struct SiteActionHandler: SiteActions {
    let testMode: TestModeHandler

    func putOnTest(id: UUID, body: SitePutOnTestBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await testMode.putOnTest(.site, id: id, until: body.until, reason: body.reason, principal: principal, context: context)
    }

    func endTest(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await testMode.endTest(.site, id: id, principal: principal, context: context)
    }
}
