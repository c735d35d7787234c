import APISupport
import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO

/// The handling KPIs an alarm receiving centre reports every month (EN 50518): for the alarms raised in [from, to)
/// (not those raised on test), per period bucket (day, week or month in the station's time zone) and per class or
/// per operator (the alarm's assignee: who handled it; "unassigned" for those nobody took): the count, the median
/// and 90th percentile seconds of each step (received -> stored, stored -> presented, stored -> acknowledged,
/// acknowledged -> taken, taken -> closed, stored -> closed), and the share acknowledged within 30, 60 and 180 s
/// (an alarm never acknowledged counts as not within). JSON, or CSV with `format=csv`.
extension ReportsController {
    enum Bucket: String, CaseIterable { case day, week, month }
    enum Grouping: String, CaseIterable { case priority, `operator`, all }

    /// The steps, as (name, from column, to column).
    static let steps: [(name: String, from: String, to: String)] = [
        ("receive_to_store", "a.received_at", "a.raised_at"), ("store_to_present", "a.raised_at", "a.presented_at"),
        ("store_to_acknowledge", "a.raised_at", "a.acknowledged_at"), ("acknowledge_to_take", "a.acknowledged_at", "a.taken_at"),
        ("take_to_close", "a.taken_at", "a.closed_at"), ("store_to_close", "a.raised_at", "a.closed_at"),
    ]

    static let shares = [30, 60, 180]

    struct HandlingLine: Encodable {
        var period: String
        var group: String
        var alarms: Int
        var seconds: [String: Percentiles]
        var acknowledged_within: [String: Double]

        struct Percentiles: Encodable {
            var p50: Double?
            var p90: Double?
        }
    }

    func handling(_ request: Request, context: StamRequestContext) async throws -> Response {
        _ = try context.require(roles: Self.roles)
        var query = QueryReader(request)
        let bucket = query.enumeration("period", Bucket.self) ?? .day
        let grouping = query.enumeration("by", Grouping.self) ?? .priority
        let zone = query.string("time_zone", max: 64) ?? "Europe/Warsaw"
        let csv = query.enumeration("format", Format.self) == .csv
        let (from, to) = try period(&query, finish: false)
        try query.finish()
        guard TimeZone(identifier: zone) != nil else { throw APIError.invalid(field: "time_zone", "not a time zone this station knows") }
        let group = switch grouping {
        case .priority: "a.priority"
        case .operator: "coalesce(o.display_name, 'unassigned')"
        case .all: "'all'"
        }
        var columns: [String] = []
        for step in Self.steps {
            let seconds = "EXTRACT(EPOCH FROM \(step.to) - \(step.from))"
            columns.append("percentile_cont(0.5) WITHIN GROUP (ORDER BY \(seconds))::float8")
            columns.append("percentile_cont(0.9) WITHIN GROUP (ORDER BY \(seconds))::float8")
        }
        for limit in Self.shares {
            columns.append("avg(CASE WHEN a.acknowledged_at - a.raised_at <= interval '\(limit) seconds' THEN 1.0 ELSE 0.0 END)::float8")
        }
        // Only literals of this file are spliced in (the bucket and grouping are enums); values are bound.
        let sql: PostgresQuery = """
            SELECT to_char(date_trunc(\(unescaped: "'\(bucket.rawValue)'"), a.raised_at AT TIME ZONE \(zone)), 'YYYY-MM-DD'),
                   \(unescaped: group), count(*)::int, \(unescaped: columns.joined(separator: ", "))
            FROM alarms a LEFT JOIN operators o ON o.id = a.assignee_id
            WHERE a.raised_at >= \(from) AND a.raised_at < \(to) AND NOT a.on_test
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        let (rows, source) = try await database.rows(sql)
        var lines: [HandlingLine] = []
        for row in rows {
            let cells = row.makeRandomAccess()
            let periodText = try cells[0].decode(String.self)
            let groupText = try cells[1].decode(String.self)
            let count = try cells[2].decode(Int.self)
            var seconds: [String: HandlingLine.Percentiles] = [:]
            for (index, step) in Self.steps.enumerated() {
                seconds[step.name] = .init(p50: try cells[3 + index * 2].decode(Double?.self), p90: try cells[4 + index * 2].decode(Double?.self))
            }
            var within: [String: Double] = [:]
            for (index, limit) in Self.shares.enumerated() {
                within["\(limit)s"] = try cells[3 + Self.steps.count * 2 + index].decode(Double?.self) ?? 0
            }
            lines.append(HandlingLine(period: periodText, group: groupText, alarms: count, seconds: seconds, acknowledged_within: within))
        }
        if csv {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .reportSource: source.rawValue,
                                                   .contentDisposition: "attachment; filename=\"handling-\(bucket.rawValue)-\(grouping.rawValue).csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: Self.csv(lines))))
        }
        struct Body: Encodable { var from: Date, to: Date, period: String, by: String, time_zone: String, lines: [HandlingLine] }
        return try APIResponse.json(Body(from: from, to: to, period: bucket.rawValue, by: grouping.rawValue, time_zone: zone, lines: lines),
                                    headers: [.reportSource: source.rawValue])
    }

    enum Format: String, CaseIterable { case json, csv }

    /// One line per bucket and group; seconds with one decimal, shares as fractions; a text cell that could be read as
    /// a formula by a spreadsheet is prefixed with an apostrophe.
    static func csv(_ lines: [HandlingLine]) -> String {
        var header = ["period", "group", "alarms"]
        for step in steps { header += ["\(step.name)_p50_s", "\(step.name)_p90_s"] }
        header += shares.map { "acknowledged_within_\($0)s" }
        var out = header.joined(separator: ",") + "\r\n"
        func cell(_ text: String) -> String {
            var text = text
            if let first = text.first, "=+-@".contains(first) { text = "'" + text }
            return text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        func number(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
        for line in lines {
            var cells = [cell(line.period), cell(line.group), String(line.alarms)]
            for step in steps { cells += [number(line.seconds[step.name]?.p50), number(line.seconds[step.name]?.p90)] }
            cells += shares.map { String(format: "%.3f", line.acknowledged_within["\($0)s"] ?? 0) }
            out += cells.joined(separator: ",") + "\r\n"
        }
        return out
    }
}
