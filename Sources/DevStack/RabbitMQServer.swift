import Foundation

/// A private RabbitMQ 3 node for the local stack and the tests: its own epmd, node name, mnesia and ports on
/// loopback, run as the `rabbitmq` system user, stopped by PID. The vhost, user and password are created on
/// the first boot from `rabbitmq.conf` (`default_vhost`, `default_user`, `default_pass`).
public final class RabbitMQServer: @unchecked Sendable {
    static let systemUser = "rabbitmq"

    public let directory: String
    public let port: Int
    public let username: String
    public let password: String
    public let virtualHost: String
    let distributionPort: Int
    let epmdPort: Int
    /// rabbitmq.conf lines given by the caller (a generated configuration under test) instead of the
    /// default user/vhost block; the AMQP listener is always ours.
    let customConfiguration: String?
    let enabledPlugins: String
    public private(set) var process: LocalProcess?
    public private(set) var epmd: LocalProcess?

    public var logFile: String { "\(directory)/rabbitmq.out" }
    public var url: String { "amqp://\(username)@127.0.0.1:\(port)/\(virtualHost)" }

    public init(directory: String, port: Int, username: String = "stam", password: String, virtualHost: String = "stam") throws {
        self.directory = directory
        self.port = port
        self.username = username
        self.password = password
        self.virtualHost = virtualHost
        distributionPort = try FreePort.find()
        epmdPort = try FreePort.find()
        customConfiguration = nil
        enabledPlugins = "[]."
    }

    /// A node that runs a given configuration (for example the generated production rabbitmq.conf with
    /// its definitions) instead of the default user block.
    /// - Parameters:
    ///   - configuration: rabbitmq.conf lines without the AMQP listener.
    ///   - enabledPlugins: the enabled_plugins file, `[].` for none.
    public init(directory: String, port: Int, configuration: String, enabledPlugins: String = "[].") throws {
        self.directory = directory
        self.port = port
        username = ""
        password = ""
        virtualHost = ""
        distributionPort = try FreePort.find()
        epmdPort = try FreePort.find()
        customConfiguration = configuration
        self.enabledPlugins = enabledPlugins
    }

    var environment: [String: String] {
        [
            "HOME": "\(directory)/home",
            "PATH": "/usr/lib/rabbitmq/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": "rabbit-\(port)@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": String(port),
            "RABBITMQ_DIST_PORT": String(distributionPort),
            "RABBITMQ_MNESIA_BASE": "\(directory)/mnesia",
            "RABBITMQ_LOG_BASE": "\(directory)/log",
            "RABBITMQ_CONFIG_FILE": "\(directory)/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": "\(directory)/enabled_plugins",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": String(epmdPort),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            // Makes the start script exec the VM in place (no wrapper shell), so our PID is the broker's.
            "RUNNING_UNDER_SYSTEMD": "1",
        ]
    }

    public func start() async throws {
        let manager = FileManager.default
        for sub in ["home", "mnesia", "log"] {
            try manager.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
        let escapedPassword = password.replacingOccurrences(of: "\n", with: "")
        let defaults = """
            listeners.tcp.default = 127.0.0.1:\(port)
            default_vhost = \(virtualHost)
            default_user = \(username)
            default_pass = \(escapedPassword)
            default_permissions.configure = .*
            default_permissions.read = .*
            default_permissions.write = .*
            loopback_users = none
            log.console = false
            log.file.level = warning
            disk_free_limit.absolute = 50MB

            """
        let configuration = customConfiguration.map { "\($0)\nlisteners.tcp.default = 127.0.0.1:\(port)\n" } ?? defaults
        try configuration.write(toFile: "\(directory)/rabbitmq.conf", atomically: true, encoding: .utf8)
        try (enabledPlugins + "\n").write(toFile: "\(directory)/enabled_plugins", atomically: true, encoding: .utf8)
        if getuid() == 0 {
            try LocalProcess.run("/bin/chown", ["-R", "\(Self.systemUser):\(Self.systemUser)", directory])
        }
        epmd = try LocalProcess(
            name: "epmd", executable: "/usr/bin/epmd",
            arguments: ["-port", String(epmdPort), "-address", "127.0.0.1"],
            user: Self.systemUser, environment: environment, logFile: "\(directory)/epmd.out")
        try await startBroker()
    }

    /// Starts (or restarts, after `kill`) the broker on the existing data.
    public func startBroker() async throws {
        process = try LocalProcess(
            name: "rabbitmq", executable: "/usr/lib/rabbitmq/bin/rabbitmq-server", arguments: [],
            user: Self.systemUser, environment: environment, logFile: logFile)
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else {
                throw LocalProcess.LaunchError(description: "rabbitmq exited during start-up; see \(logFile) and \(directory)/log")
            }
            if Self.acceptsConnections(port: port) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw LocalProcess.LaunchError(description: "rabbitmq did not open port \(port) within 90 s; see \(directory)/log")
    }

    /// Runs rabbitmqctl against this node (same node name, cookie and epmd as the server).
    @discardableResult
    public func ctl(_ arguments: [String]) throws -> String {
        try LocalProcess.run("/usr/lib/rabbitmq/bin/rabbitmqctl", ["-q"] + arguments, user: Self.systemUser, environment: environment)
    }

    /// A command line run the way a container health check runs it (`/bin/sh -c`), as the broker's user with the
    /// node's environment, so the CLI tools on its PATH address this node; its exit status and output.
    public func shell(_ commandLine: String) throws -> (status: Int32, output: String) {
        try LocalProcess.status("/bin/sh", ["-c", commandLine], user: Self.systemUser, environment: environment)
    }

    /// Writes the node's quorum-queue registry (Ra's `names.dets`: which Raft member each queue is) to disk now.
    /// RabbitMQ 3.10 (Ra 2.2, Debian 12) saves it on a 500 ms timer, about a second after a declaration. A node
    /// killed with SIGKILL before that repairs the file without the new entry: on restart the queue starts a new,
    /// empty member that never elects a leader, and every message confirmed into the queue is gone
    /// (`MessagingBrokerKillTests`; rabbitmq/ra#443, fixed upstream in 2024). The local stack calls this after
    /// declaring the topology and before any stam process starts; the generated production health check runs the
    /// same expression, so services that wait for a healthy broker start after the registry is on disk.
    public func syncQuorumQueueRegistry() throws {
        _ = try ctl(["eval", "\(Self.registrySync)."])
    }

    /// The Erlang expression that syncs the registry (schema/deployment.yaml's rabbitmq health check has it too).
    public static let registrySync = "ok = dets:sync(ra_directory_reverse)"

    /// Stops the broker only (for outage tests); `startBroker()` brings it back with its data.
    public func stopBroker(signal: Int32 = SIGTERM) {
        process?.stop(signal: signal, timeout: .seconds(60))
        process = nil
    }

    /// Appends the broker's and epmd's PIDs to a registry (see `LocalProcess.killRegistered`).
    public func recordProcesses(in file: String) throws {
        let lines = [process, epmd].compactMap { $0?.registryLine }.joined()
        if let handle = FileHandle(forWritingAtPath: file) {
            handle.seekToEndOfFile()
            handle.write(Data(lines.utf8))
            try handle.close()
        } else {
            try lines.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    public func stop() {
        stopBroker()
        epmd?.stop()
        epmd = nil
    }

    static func acceptsConnections(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
