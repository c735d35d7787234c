import Foundation
import Yams

/// The parts of a generated docker-compose file that running it natively needs, read the way
/// docker-compose reads them: `${NAME:-default}` from the given variables, `$$` for a literal `$`.
struct ComposeFile {
    struct Volume {
        /// A named volume (`media`) or a path relative to the compose file's directory (`./nginx/nginx.conf`).
        var source: String
        var target: String
        var isNamed: Bool { !source.hasPrefix(".") && !source.hasPrefix("/") }
    }

    struct Service {
        var name: String
        var image: String
        var entrypoint: [String]?
        var command: [String]?
        var environment: [String: String]
        var volumes: [Volume]
        var secrets: [String]
        var devices: [(host: String, container: String)]
        var groups: [String]
        var dependsOn: [String]
        /// `CMD` test as argv; `CMD-SHELL` as `sh -c`.
        var healthcheck: [String]?
        var healthcheckStartPeriod: Duration
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    /// In file order (the generator writes dependencies first where it can; `startOrder` does not rely on it).
    let services: [Service]
    /// Secret name -> file on the host.
    let secretFiles: [String: String]

    init(path: String, variables: [String: String]) throws {
        self.path = path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let document = try Yams.compose(yaml: text), case .mapping(let top) = document,
              case .mapping(let services)? = top["services"] else {
            throw ParseError(description: "\(path): no services")
        }
        let directory = (path as NSString).deletingLastPathComponent
        func interpolate(_ value: String) -> String { Self.interpolate(value, variables: variables) }
        func strings(_ node: Node?) -> [String]? {
            switch node {
            case .sequence(let items)?: return items.compactMap { $0.string.map(interpolate) }
            case .scalar(let scalar)?: return ["/bin/sh", "-c", interpolate(scalar.string)]
            default: return nil
            }
        }
        var parsed: [Service] = []
        for (key, node) in services {
            guard let name = key.string, case .mapping(let service) = node else { continue }
            var environment: [String: String] = [:]
            if case .mapping(let variables)? = service["environment"] {
                for (variable, value) in variables { environment[variable.string ?? ""] = interpolate(value.string ?? "") }
            }
            let volumes = (strings(service["volumes"]) ?? []).map { entry -> Volume in
                let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                var source = parts[0]
                if source.hasPrefix("./") { source = "\(directory)/\(source.dropFirst(2))" }
                return Volume(source: source, target: parts.count > 1 ? parts[1] : parts[0])
            }
            let devices = (strings(service["devices"]) ?? []).map { entry -> (String, String) in
                let parts = entry.split(separator: ":").map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : parts[0])
            }
            var dependsOn: [String] = []
            switch service["depends_on"] {
            case .mapping(let dependencies)?: dependsOn = dependencies.keys.compactMap(\.string)
            case .sequence(let dependencies)?: dependsOn = dependencies.compactMap(\.string)
            default: break
            }
            var healthcheck: [String]?
            var startPeriod = Duration.seconds(0)
            if case .mapping(let check)? = service["healthcheck"], let test = strings(check["test"]), let kind = test.first {
                switch kind {
                case "CMD": healthcheck = Array(test.dropFirst())
                case "CMD-SHELL": healthcheck = ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")]
                default: healthcheck = nil
                }
                if let period = check["start_period"]?.string, let seconds = Int(period.dropLast()), period.hasSuffix("s") {
                    startPeriod = .seconds(seconds)
                }
            }
            parsed.append(Service(
                name: name, image: interpolate(service["image"]?.string ?? ""),
                entrypoint: service["entrypoint"].flatMap { node in
                    if case .sequence = node { return strings(node) }
                    return node.string.map { [interpolate($0)] }
                },
                command: strings(service["command"]), environment: environment, volumes: volumes,
                secrets: strings(service["secrets"]) ?? [], devices: devices, groups: strings(service["group_add"]) ?? [],
                dependsOn: dependsOn, healthcheck: healthcheck, healthcheckStartPeriod: startPeriod))
        }
        self.services = parsed
        var secretFiles: [String: String] = [:]
        if case .mapping(let secrets)? = top["secrets"] {
            for (key, node) in secrets {
                guard let name = key.string, case .mapping(let secret) = node, let file = secret["file"]?.string else { continue }
                let interpolated = interpolate(file)
                secretFiles[name] = interpolated.hasPrefix("/") ? interpolated
                    : URL(fileURLWithPath: "\(directory)/\(interpolated)").standardizedFileURL.path
            }
        }
        self.secretFiles = secretFiles
    }

    func service(_ name: String) -> Service? { services.first { $0.name == name } }

    /// `names` and everything they depend on, each after its dependencies (ties in file order).
    func startOrder(of names: [String]) throws -> [Service] {
        var ordered: [Service] = []
        var visiting: Set<String> = []
        func visit(_ name: String) throws {
            if ordered.contains(where: { $0.name == name }) { return }
            guard let service = service(name) else { throw ParseError(description: "\(path): no service \(name)") }
            guard visiting.insert(name).inserted else { throw ParseError(description: "\(path): dependency cycle through \(name)") }
            for dependency in service.dependsOn { try visit(dependency) }
            ordered.append(service)
        }
        for name in names { try visit(name) }
        return ordered
    }

    /// docker-compose's interpolation: `${NAME}`, `${NAME:-default}`, `$NAME`, and `$$` for `$`.
    static func interpolate(_ text: String, variables: [String: String]) -> String {
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
            } else if text[next] == "{", let close = text[next...].firstIndex(of: "}") {
                let expression = text[text.index(after: next)..<close]
                if let separator = expression.range(of: ":-") {
                    let value = variables[String(expression[..<separator.lowerBound])] ?? ""
                    result += value.isEmpty ? String(expression[separator.upperBound...]) : value
                } else {
                    result += variables[String(expression)] ?? ""
                }
                index = text.index(after: close)
            } else {
                let name = text[next...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                result += variables[String(name)] ?? ""
                index = text.index(next, offsetBy: name.count)
            }
        }
        return result
    }
}
