import APISupport
import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO

/// `/api/reports/*` (supervisor, admin), on the replica when it answers (`ReportDatabase`); the response's
/// `X-Report-Source` header says which database answered. A period spans at most `maximumDays`, and PostgreSQL
/// stops a report after `ReportDatabase.statementTimeout` (503 `report_too_slow`). Documented in the OpenAPI
/// document by `OpenAPIRenderer.reportPaths`.
///
/// - `GET /api/reports/alarms?from=&to=` : per site, alarms raised in [from, to) with counts by kind and the
///   median and 90th percentile seconds to acknowledge and to close.
/// - `GET /api/reports/panel-events?from=&to=&panel_id=` : events per panel per day.
/// - `GET /api/reports/handling?from=&to=&period=day|week|month&by=priority|operator|all&time_zone=&format=json|csv` :
///   the handling KPIs (`HandlingReport`).
public struct ReportsController: Sendable {
    static let roles = ["supervisor", "admin"]
    let database: ReportDatabase

    public init(database: ReportDatabase) { self.database = database }

    public func register(on group: RouterGroup<StamRequestContext>) {
        group.get("reports/alarms") { request, context in try await alarms(request, context: context) }
        group.get("reports/panel-events") { request, context in try await panelEvents(request, context: context) }
        group.get("reports/handling") { request, context in try await handling(request, context: context) }
    }

    /// The longest period one report covers: a year and a day, so a yearly report fits and a request for every
    /// alarm since 1970 is refused before it scans anything.
    static let maximumDays = 366

    /// `[from, to)`, by default the 7 days up to now; 422 when `from` is not before `to` or the period is longer
    /// than `maximumDays`.
    func period(_ query: inout QueryReader, finish: Bool = true) throws -> (from: Date, to: Date) {
        let to = query.date("to") ?? Date()
        let from = query.date("from") ?? to.addingTimeInterval(-7 * 86400)
        if finish { try query.finish() }
        guard from < to else { throw APIError.invalid(field: "from", "must be before 'to'") }
        guard to.timeIntervalSince(from) <= Double(Self.maximumDays) * 86400 else {
            throw APIError.invalid(field: "from", "the period may span at most \(Self.maximumDays) days; ask for several reports")
        }
        return (from, to)
    }

    func alarms(_ request: Request, context: StamRequestContext) async throws -> Response {
        _ = try context.require(roles: Self.roles)
        var query = QueryReader(request)
        let (from, to) = try period(&query)
        let sql: PostgresQuery = """
            SELECT s.id::text, s.code, s.name, count(a.id)::int,
                   count(a.id) FILTER (WHERE a.kind = 'fire')::int, count(a.id) FILTER (WHERE a.kind = 'burglary')::int,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.acknowledged_at - a.raised_at))::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.acknowledged_at - a.raised_at))::float8,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.closed_at - a.raised_at))::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.closed_at - a.raised_at))::float8
            FROM alarms a JOIN sites s ON s.id = a.site_id
            WHERE a.raised_at >= \(from) AND a.raised_at < \(to)
            GROUP BY s.id, s.code, s.name ORDER BY count(a.id) DESC, s.code
            """
        let (rows, source) = try await database.rows(sql)
        struct Line: Encodable {
            var site_id: String, site_code: String, site_name: String, alarms: Int, fire: Int, burglary: Int
            var acknowledge_seconds_p50: Double?, acknowledge_seconds_p90: Double?, close_seconds_p50: Double?, close_seconds_p90: Double?
        }
        let lines = try rows.map { row in
            let (id, code, name, total, fire, burglary, ack50, ack90, close50, close90) =
                try row.decode((String, String, String, Int, Int, Int, Double?, Double?, Double?, Double?).self)
            return Line(site_id: id, site_code: code, site_name: name, alarms: total, fire: fire, burglary: burglary,
                        acknowledge_seconds_p50: ack50, acknowledge_seconds_p90: ack90, close_seconds_p50: close50, close_seconds_p90: close90)
        }
        struct Body: Encodable { var from: Date, to: Date, sites: [Line] }
        return try APIResponse.json(Body(from: from, to: to, sites: lines), headers: [.reportSource: source.rawValue])
    }

    func panelEvents(_ request: Request, context: StamRequestContext) async throws -> Response {
        _ = try context.require(roles: Self.roles)
        var query = QueryReader(request)
        let panel = query.uuid("panel_id")
        let (from, to) = try period(&query)
        let sql: PostgresQuery = """
            SELECT e.panel_id::text, to_char(date_trunc('day', e.occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), count(*)::int
            FROM panel_events e
            WHERE e.occurred_at >= \(from) AND e.occurred_at < \(to) AND (\(panel)::uuid IS NULL OR e.panel_id = \(panel))
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        let (rows, source) = try await database.rows(sql)
        struct Line: Encodable { var panel_id: String, day: String, events: Int }
        let lines = try rows.map { row in
            let (panelId, day, count) = try row.decode((String, String, Int).self)
            return Line(panel_id: panelId, day: day, events: count)
        }
        struct Body: Encodable { var from: Date, to: Date, days: [Line] }
        return try APIResponse.json(Body(from: from, to: to, days: lines), headers: [.reportSource: source.rawValue])
    }
}

extension HTTPField.Name {
    static let reportSource = Self("X-Report-Source")!
}
