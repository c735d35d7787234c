import Foundation
import Yams

/// The metric names the generated alert rules and Grafana dashboard query, read from the committed files, so
/// a test can prove a real process exports each one (issue 18: an alert on a series nobody exports never fires).
enum MonitoredSeries {
    /// Series Prometheus makes itself rather than scrapes.
    static let synthetic: Set<String> = ["up"]

    /// Series of the exporters and third-party services (RabbitMQ's plugin, redis_exporter, Patroni, etcd, nginx's
    /// exporter): the native dev stack runs none of them; `ProdStackTests` finds them in Prometheus.
    static let exporterPrefixes = ["rabbitmq_", "redis_", "patroni_", "etcd_", "nginx_"]

    static func isFromExporter(_ name: String) -> Bool { exporterPrefixes.contains { name.hasPrefix($0) } }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Every metric an alert rule's expression names.
    static func alertRules() throws -> Set<String> {
        let text = try String(contentsOfFile: "\(repositoryRoot)/deploy/generated/prometheus/alerts.yml", encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any], let groups = root["groups"] as? [[String: Any]] else {
            throw EndToEndFailure(description: "alerts.yml has no groups")
        }
        let expressions = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        return Set(expressions.flatMap(names(in:))).subtracting(synthetic)
    }

    /// Every metric a dashboard panel's query names.
    static func dashboard() throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/deploy/generated/grafana/dashboards/stam.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let panels = root["panels"] as? [[String: Any]] else { throw EndToEndFailure(description: "the dashboard has no panels") }
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        return Set(expressions.flatMap(names(in:))).subtracting(synthetic)
    }

    /// The metric names of a PromQL expression: identifiers that are not functions (followed by `(`), keywords,
    /// label matchers (`{...}`), ranges (`[...]`) or strings.
    static func names(in expression: String) -> [String] {
        var text = ""
        var depth: (brace: Int, bracket: Int) = (0, 0)
        var quote: Character?
        for character in expression {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "{": depth.brace += 1
            case "}": depth.brace -= 1
            case "[": depth.bracket += 1
            case "]": depth.bracket -= 1
            default:
                text.append(depth.brace == 0 && depth.bracket == 0 ? character : " ")
            }
            if "{}[]\"'".contains(character) { text.append(" ") }
        }
        let keywords: Set<String> = ["by", "without", "or", "and", "unless", "on", "ignoring", "group_left", "group_right",
                                     "bool", "offset", "inf", "nan",
                                     // aggregation operators, which may stand before `by (...)` instead of `(`
                                     "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                                     "bottomk", "topk", "quantile"]
        var names: [String] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character.isLetter || character == "_" || character == ":" else { index += 1; continue }
            var end = index
            while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == ":" { end += 1 }
            let word = String(characters[index..<end])
            var next = end
            while next < characters.count, characters[next] == " " { next += 1 }
            let isFunction = next < characters.count && characters[next] == "("
            // A grouping list, `by (a, b)`, names labels.
            var previous = index - 1
            while previous >= 0, characters[previous] == " " { previous -= 1 }
            let inGrouping = Self.insideGrouping(characters, before: index)
            if !isFunction, !keywords.contains(word.lowercased()), !inGrouping, previous < 0 || !characters[previous].isNumber {
                names.append(word)
            }
            index = end
        }
        return names
    }

    /// Whether the identifier at `index` is inside the parentheses after `by`/`without`/`on`/`ignoring`/`group_*`.
    private static func insideGrouping(_ characters: [Character], before index: Int) -> Bool {
        var position = index - 1
        while position >= 0, characters[position] != "(" && characters[position] != ")" { position -= 1 }
        guard position >= 0, characters[position] == "(" else { return false }
        var end = position - 1
        while end >= 0, characters[end] == " " { end -= 1 }
        var start = end
        while start >= 0, characters[start].isLetter || characters[start] == "_" { start -= 1 }
        guard end > start else { return false }
        return ["by", "without", "on", "ignoring", "group_left", "group_right"].contains(String(characters[start + 1...end]).lowercased())
    }

    /// The metric names a Prometheus text page exports (samples, not only HELP lines).
    static func exported(byPage page: String) -> Set<String> {
        var names = Set<String>()
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            guard !name.isEmpty else { continue }
            names.insert(String(name))
            // A histogram's or summary's samples name its family too.
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { names.insert(String(name.dropLast(suffix.count))) }
        }
        return names
    }
}
