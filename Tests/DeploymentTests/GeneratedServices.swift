import Foundation
import Generated
import GeneratorCore
import DevStack
import Messaging
import Secrets

/// Some services of the generated production compose file (with its generated local override) on the container
/// engine, exactly as `docker-compose up` runs them for an admin: the schema's images, the generated configuration
/// files and entrypoints, compose's DNS names. Each test gets a private project: its own networks, volumes and
/// secrets (`stam secrets init`'s), and a panel-VLAN subnet no other stack on this machine uses. `remove()` leaves
/// nothing behind; the project of a test process killed before it did is removed by the next run's
/// `RunDirectory.reapDeadRuns`.
final class GeneratedServices: @unchecked Sendable {
    let directory: String
    let project: ComposeProject
    /// Secret name -> contents, as the containers see them.
    let secrets: [String: String]

    /// The images the generated files name (built by scripts/build-images.sh, which `make test` runs first).
    static let images = [
        "localhost/stam-replacer-backend", "localhost/stam-patroni", "localhost/stam-pgbouncer", "docker.io/library/nginx:1.27-alpine",
        "docker.io/library/rabbitmq:3-management", "quay.io/coreos/etcd:v3.5.17",
    ]
    private static let preparation = PreparationOnce()

    /// The engine's API socket and the images, once per test process (for tests that `podman run` an image alone).
    static func prepareEngine() async throws { try await preparation.run() }

    /// A new project in a fresh directory; `extraFile` (compose YAML, given the directory) is applied after the
    /// generated files, for a test that replaces a service with a stand-in.
    static func make(_ name: String, extraFile: ((_ directory: String) -> String)? = nil) async throws -> GeneratedServices {
        try await prepareEngine()
        let directory = try DeploymentTools.temporaryDirectory("engine-\(name)")
        _ = try SecretsInitializer(specifications: StamSecrets.all).run(root: directory, owner: .stamImages, onlyMissing: false)
        var secrets: [String: String] = [:]
        for specification in StamSecrets.all {
            secrets[specification.name] = try String(contentsOfFile: "\(directory)/\(specification.file)", encoding: .utf8)
        }
        var files = ["docker-compose.prod.yml", "docker-compose.prod.local.yml"]
        if let extraFile {
            try extraFile(directory).write(toFile: "\(directory)/test-override.yml", atomically: true, encoding: .utf8)
            files.append("\(directory)/test-override.yml")
        }
        let nas = "\(directory)/nas"
        try FileManager.default.createDirectory(atPath: nas, withIntermediateDirectories: true)
        let vlan = try freeSubnet()
        let project = ComposeProject(
            name: "stamtest\(UUID().uuidString.prefix(8).lowercased())", directory: DeploymentTools.generated, files: files,
            variables: [
                "STAM_SECRETS_DIR": "\(directory)/secrets", "STAM_CERTS_DIR": "\(directory)/certs",
                "STAM_IMAGE_REGISTRY": "localhost", "STAM_IMAGE_TAG": "latest", "STAM_PUBLISH_ADDRESS": "127.0.0.1",
                "STAM_NGINX_HTTPS_PORT": String(try FreePort.find()), "STAM_MODEM_DEVICE": "/dev/null", "STAM_NAS_DIR": nas,
                "SATEL_VLAN_SUBNET": "\(vlan).0/24", "SATEL_VLAN_GATEWAY": "\(vlan).1",
            ])
        // Written before anything is created: a later run finds the project of a test process that was killed.
        try project.name.write(toFile: "\(directory)/compose-project", atomically: true, encoding: .utf8)
        return GeneratedServices(directory: directory, project: project, secrets: secrets)
    }

    private init(directory: String, project: ComposeProject, secrets: [String: String]) {
        self.directory = directory
        self.project = project
        self.secrets = secrets
    }

    /// `docker-compose up -d --no-deps <services>`: these services only, whatever they depend on in the file.
    func up(_ services: [String]) async throws {
        try await project.compose(["up", "-d", "--no-deps"] + services)
    }

    /// A command in a service's running container, as `docker exec` runs it; its status and output.
    func exec(_ service: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
        let variables = environment.sorted { $0.key < $1.key }.flatMap { ["-e", "\($0.key)=\($0.value)"] }
        return try await ContainerEngine.status(ContainerEngine.podman, ["exec"] + variables + [project.container(service)] + arguments)
    }

    /// The address of a service's container on its (first) network.
    func address(of service: String) async throws -> String {
        let (_, output) = try await ContainerEngine.status(ContainerEngine.podman, [
            "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", project.container(service),
        ])
        guard let address = output.split(separator: " ").first.map(String.init), !address.isEmpty else {
            throw ToolError(description: "\(service) has no address: \(output)")
        }
        return address
    }

    /// How one of the schema's RabbitMQ users reaches the project's broker, with its secret's password.
    func amqpConfiguration(user: String, topology: AMQPConfiguration.TopologyMode = .verify) async throws -> AMQPConfiguration {
        let settings = try StamGenerator(root: DeploymentTools.root).loadSchema().schema.deployment.rabbitmq
        guard let settings, let secret = settings.user(named: user)?.password.value, let password = secrets[secret] else {
            throw ToolError(description: "the schema has no RabbitMQ user \(user) with a secret")
        }
        var configuration = AMQPConfiguration(host: try await address(of: "rabbitmq"), port: 5672, virtualHost: settings.vhost, username: user,
                                              password: password.trimmingCharacters(in: .whitespacesAndNewlines))
        configuration.topology = topology
        return configuration
    }

    /// The container's output so far (its log, as `docker logs` shows it).
    func logs(_ service: String) async -> String {
        (try? await ContainerEngine.status(ContainerEngine.podman, ["logs", project.container(service)]).1) ?? ""
    }

    /// Polls a condition; on timeout the error shows the end of the service's log.
    func waitUntil(_ what: String, timeout: Duration = .seconds(90), log service: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        let tail = await logs(service).split(separator: "\n").suffix(30).joined(separator: "\n")
        throw ToolError(description: "timed out after \(timeout) waiting until \(what); the log of \(service) ends with:\n\(tail)")
    }

    /// The project's containers, networks and volumes, then the directory (kept with STAM_KEEP_TEST_DIRECTORIES).
    func remove() {
        ContainerEngine.removeProject(project.name)
        if ProcessInfo.processInfo.environment["STAM_KEEP_TEST_DIRECTORIES"] == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A /24 under 192.168.101-250 that no route of this machine covers (another stack's panel VLAN, ProdStackTests'
    /// 192.168.100.0/24 among them), taken under a lock so two tests of this process never pick the same.
    private static func freeSubnet() throws -> String {
        try subnetLock.withLock {
            let routes = try LocalProcess.run("/sbin/ip", ["-4", "route", "show"])
            for third in (101...250).shuffled() where !routes.contains("192.168.\(third).") && !takenSubnets.contains(third) {
                takenSubnets.insert(third)
                return "192.168.\(third)"
            }
            throw ToolError(description: "no free 192.168.x.0/24 for a test's panel VLAN")
        }
    }
    private static let subnetLock = NSLock()
    nonisolated(unsafe) private static var takenSubnets = Set<Int>()

    /// Once per test process: the engine's API socket and the images.
    private actor PreparationOnce {
        private var done = false

        func run() async throws {
            guard !done else { return }
            try await ContainerEngine.prepare(projectRoot: DeploymentTools.root)
            var missing: [String] = []
            for image in GeneratedServices.images {
                let (status, _) = try await ContainerEngine.status(ContainerEngine.podman, ["image", "exists", image])
                if status != 0 { missing.append(image) }
            }
            if !missing.isEmpty {
                // `make test` builds them before the tests; a lone `swift test` gets them here.
                try await ContainerEngine.runLogged("\(DeploymentTools.root)/scripts/build-images.sh", [],
                                                    logFile: "\(DeploymentTools.base)/build-images-\(getpid()).log")
            }
            done = true
        }
    }
}
