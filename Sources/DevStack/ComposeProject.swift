import Foundation

/// One stack of the generated compose files on the container engine: the project name, the files (the
/// environment's own and its generated local override) and the variables they read (secrets directory,
/// published port, modem device, image registry). Kept in `<root>/compose.json` so `stam stop/start` and the
/// tests drive the same project the supervisor started.
public struct ComposeProject: Codable, Sendable {
    public var name: String
    /// deploy/generated, where the files are and relative paths in them resolve.
    public var directory: String
    /// Relative to `directory`, or absolute (a test's own override).
    public var files: [String]
    public var variables: [String: String]

    public init(name: String, directory: String, files: [String], variables: [String: String]) {
        self.name = name
        self.directory = directory
        self.files = files
        self.variables = variables
    }

    public static func file(in root: String) -> String { "\(root)/compose.json" }

    public func write(to root: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.file(in: root)), options: .atomic)
    }

    public static func read(from root: String) throws -> ComposeProject {
        try JSONDecoder().decode(ComposeProject.self, from: Data(contentsOf: URL(fileURLWithPath: file(in: root))))
    }

    private var arguments: [String] { ["--project-name", name, "--project-directory", directory] + files.flatMap { ["-f", $0.hasPrefix("/") ? $0 : "\(directory)/\($0)"] } }

    /// `docker-compose <arguments>` for this project; its output, or an error with it.
    @discardableResult
    public func compose(_ arguments: [String], input: String? = nil) async throws -> String {
        try await ContainerEngine.run(ContainerEngine.compose, self.arguments + arguments, environment: variables, input: input)
    }

    /// `docker-compose <arguments>`: its exit status and output, for callers that tell failures apart.
    public func composeStatus(_ arguments: [String], input: String? = nil) async throws -> (Int32, String) {
        try await ContainerEngine.status(ContainerEngine.compose, self.arguments + arguments, environment: variables, input: input)
    }

    /// The same, with the output appended to `logFile` (long runs such as `up`).
    public func composeLogged(_ arguments: [String], logFile: String) async throws {
        try await ContainerEngine.runLogged(ContainerEngine.compose, self.arguments + arguments, logFile: logFile, environment: variables)
    }

    /// compose 1.29 names a service's container `<project>_<service>_1`.
    public func container(_ service: String) -> String { "\(name)_\(service)_1" }

    /// The volume compose created for a named volume of the file.
    public func volume(_ name: String) -> String { "\(self.name)_\(name)" }

    /// A field of `podman inspect` of a service's container (a Go template), nil when there is no container.
    public func inspect(_ service: String, _ format: String) async throws -> String? {
        let (status, output) = try await ContainerEngine.status(ContainerEngine.podman, ["inspect", "--type", "container", "--format", format, container(service)])
        return status == 0 ? output : nil
    }

    /// The service's address on the project's internal network (the host reaches it there).
    public func address(of service: String) async throws -> String? {
        try await inspect(service, "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}")?
            .split(separator: " ").first.map(String.init)
    }

    /// Every service's main PID (0 while stopped) and address, from one `podman inspect` of all the containers.
    public func snapshot(of services: [String]) async throws -> [String: (pid: Int, address: String?)] {
        let output = try await ContainerEngine.run(ContainerEngine.podman, [
            "inspect", "--type", "container", "--format",
            "{{index .Config.Labels \"com.docker.compose.service\"}}|{{.State.Pid}}|{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
        ] + services.map(container))
        var result: [String: (pid: Int, address: String?)] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            let address = parts[2].split(separator: " ").first.map(String.init)
            result[parts[0]] = (Int(parts[1]) ?? 0, address)
        }
        return result
    }

    /// Services with a container of this project, running or not.
    public func services() async throws -> [String] {
        let output = try await ContainerEngine.run(ContainerEngine.podman, [
            "ps", "-a", "--filter", "label=com.docker.compose.project=\(name)", "--format", "{{index .Labels \"com.docker.compose.service\"}}",
        ])
        return output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.sorted()
    }

    /// Every container of this project with its engine status (`<name> Up 3 minutes (healthy)`), one per line, for
    /// error reports; empty when the engine does not answer.
    public func containerStatuses() async -> String {
        (try? await ContainerEngine.run(ContainerEngine.podman, [
            "ps", "-a", "--filter", "label=com.docker.compose.project=\(name)", "--format", "{{.Names}} {{.Status}}",
        ])) ?? ""
    }
}
