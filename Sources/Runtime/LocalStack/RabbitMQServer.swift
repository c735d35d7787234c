import Foundation

/// A private RabbitMQ (Debian 12's 3.10) for the local stack and the tests, set up as native-testbed.md
/// 2.4 describes: its own node name, Mnesia, logs, HOME (Erlang cookie) and its own epmd, all under a
/// directory of ours and on loopback, run as the `rabbitmq` system user when we are root. The broker runs
/// without the rabbitmq-server script's signal-forwarding shell (RUNNING_UNDER_SYSTEMD makes the script
/// exec the Erlang VM), so the PID held is the VM's own. It is stopped with `rabbitmqctl shutdown`, then
/// by PID; epmd by PID.
public final class RabbitMQServer: @unchecked Sendable {
    public static let binDirectory = "/usr/lib/rabbitmq/bin"
    static let systemUser = "rabbitmq"

    public let directory: String
    public let amqpPort: Int
    public let distributionPort: Int
    public let epmdPort: Int
    public let nodeName: String
    /// rabbitmq.conf; the listener lines for `amqpPort` on 127.0.0.1 are added to it.
    public let configuration: String
    public let enabledPlugins: String
    public private(set) var process: LocalProcess?
    public private(set) var epmd: LocalProcess?

    public var logFile: String { "\(directory)/rabbitmq.out" }

    /// - Parameters:
    ///   - configuration: rabbitmq.conf lines (definitions, limits, ...) without the AMQP listener.
    ///   - enabledPlugins: the enabled_plugins file, `[].` for none.
    public init(directory: String, amqpPort: Int, distributionPort: Int, epmdPort: Int,
                configuration: String = "", enabledPlugins: String = "[].") {
        self.directory = directory
        self.amqpPort = amqpPort
        self.distributionPort = distributionPort
        self.epmdPort = epmdPort
        self.configuration = configuration
        self.enabledPlugins = enabledPlugins
        nodeName = "stam-\(UUID().uuidString.prefix(8).lowercased())@localhost"
    }

    /// The environment the server and rabbitmqctl share (node, cookie in HOME, ports, paths).
    public var environment: [String: String] {
        [
            "HOME": "\(directory)/home", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": nodeName, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": String(amqpPort),
            "RABBITMQ_DIST_PORT": String(distributionPort), "ERL_EPMD_PORT": String(epmdPort), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": "\(directory)/mnesia", "RABBITMQ_LOG_BASE": "\(directory)/log",
            "RABBITMQ_CONFIG_FILE": "\(directory)/rabbitmq.conf", "RABBITMQ_ENABLED_PLUGINS_FILE": "\(directory)/enabled_plugins",
            "RABBITMQ_CONF_ENV_FILE": "\(directory)/rabbitmq-env.conf",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            // A node that fails to boot exits at once instead of writing a crash dump first.
            "ERL_CRASH_DUMP_SECONDS": "0",
            // Exec the VM instead of running it under a shell that traps signals (the VM then ignores
            // SIGTERM and the shell's exit is easy to miss).
            "RUNNING_UNDER_SYSTEMD": "true",
        ]
    }

    public func start() async throws {
        let manager = FileManager.default
        for subdirectory in ["home", "mnesia", "log"] {
            try manager.createDirectory(atPath: "\(directory)/\(subdirectory)", withIntermediateDirectories: true)
        }
        try (configuration + "\nlisteners.tcp.default = 127.0.0.1:\(amqpPort)\n")
            .write(toFile: "\(directory)/rabbitmq.conf", atomically: true, encoding: .utf8)
        try (enabledPlugins + "\n").write(toFile: "\(directory)/enabled_plugins", atomically: true, encoding: .utf8)
        try "".write(toFile: "\(directory)/rabbitmq-env.conf", atomically: true, encoding: .utf8)
        if getuid() == 0 {
            try LocalProcess.run("/bin/chown", ["-R", "\(Self.systemUser):\(Self.systemUser)", directory])
        }
        epmd = try LocalProcess(name: "epmd", executable: "/usr/bin/epmd", arguments: ["-port", String(epmdPort), "-address", "127.0.0.1"],
                                user: Self.systemUser, logFile: "\(directory)/epmd.out")
        process = try LocalProcess(name: "rabbitmq", executable: "\(Self.binDirectory)/rabbitmq-server", arguments: [],
                                   user: Self.systemUser, environment: environment, logFile: logFile)
        try await waitUntilRunning()
    }

    /// Cold start takes a few seconds; `rabbitmqctl await_startup` fails until the node is reachable, so poll.
    private func waitUntilRunning() async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else {
                throw LocalProcess.LaunchError(description: "rabbitmq exited during start-up; see \(logFile):\n\(tail(logFile))")
            }
            if (try? ctl(["await_startup", "--timeout", "5"])) != nil { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw LocalProcess.LaunchError(description: "rabbitmq did not start within 90 s; see \(logFile):\n\(tail(logFile))")
    }

    /// Runs rabbitmqctl against this node.
    @discardableResult
    public func ctl(_ arguments: [String]) throws -> String {
        try LocalProcess.run("\(Self.binDirectory)/rabbitmqctl", ["-q"] + arguments, user: Self.systemUser, environment: environment)
    }

    /// `rabbitmqctl shutdown` (stops the node and waits for the VM to exit), then SIGTERM/SIGKILL by PID
    /// if it is still there; then epmd.
    public func stop() {
        if process?.isRunning == true { _ = try? ctl(["shutdown", "--timeout", "60"]) }
        process?.stop(signal: SIGTERM, timeout: .seconds(30))
        process = nil
        epmd?.stop(signal: SIGTERM, timeout: .seconds(10))
        epmd = nil
    }

    private func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}
