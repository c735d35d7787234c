import Foundation

/// A server process the local stack started itself and stops by PID. When stam runs as root, servers that
/// refuse root (PostgreSQL, RabbitMQ) run as their Debian system user through `setpriv`, which execs in
/// place, so the PID we hold is the server's own and signals reach it directly.
public final class LocalProcess: @unchecked Sendable {
    public let name: String
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    public struct LaunchError: Error, CustomStringConvertible, Sendable {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// Spawns the server with `posix_spawn`, not Foundation's `Process`: children of `Process` inherit the
    /// spawning thread's blocked signal mask, so servers that do not reset it (RabbitMQ's Erlang VM, epmd)
    /// would ignore SIGTERM and could only be killed. Here the child starts with no blocked signals, default
    /// handlers, and its own process group (a Ctrl-C in the terminal reaches the supervisor, which stops
    /// the servers in order, rather than every server at once).
    ///
    /// - Parameters:
    ///   - user: the system user to run as when we are root (ignored otherwise).
    ///   - logFile: stdout and stderr are appended here, so a failed start can be explained.
    public init(name: String, executable: String, arguments: [String], user: String? = nil,
                environment: [String: String]? = nil, logFile: String) throws {
        self.name = name
        var argv = [executable] + arguments
        if let user, getuid() == 0 {
            argv = ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + argv
        }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours: NIO, postgres-nio, hiredis and rabbitmq-c do not mark their sockets
        // close-on-exec, and a child holding the parent's listening socket keeps its port bound after the
        // parent dies (a restarted backend could not bind it; found by the console test with chromium).
        guard Self.closeFrom(&actions, 3) == 0 else { throw LaunchError(description: "cannot start \(name): posix_spawn_file_actions_addclosefrom_np failed") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var child: pid_t = 0
        let status = Self.withCStrings(argv) { cArguments in
            Self.withCStrings(envp) { cEnvironment in
                posix_spawn(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
            }
        }
        guard status == 0 else {
            throw LaunchError(description: "cannot start \(name) (\(executable)): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+, Debian 12 has 2.36); Swift's Glibc module
    /// does not export it (it needs _GNU_SOURCE), so it is looked up once by name.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or later is required (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result) -> Result {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The kernel's start time of a process (field 22 of /proc/PID/stat), which tells a PID apart from a
    /// later process that reused it.
    public static func startTime(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// `pid starttime` lines for a registry file that a later run can use to clean up after a crash.
    public var registryLine: String { "\(pid) \(Self.startTime(of: pid) ?? "?")\n" }

    /// Kills (SIGKILL) every process listed in a registry file that is still the same process.
    public static func killRegistered(in file: String) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let pid = pid_t(parts[0]), startTime(of: pid) == String(parts[1]) else { continue }
            kill(pid, SIGKILL)
        }
    }

    /// Whether the process still runs (reaps it once it has exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result == -1 && errno == ECHILD) {
            exitStatus = status
            return false
        }
        return true
    }

    /// Sends `signal`, waits up to `timeout` for the process to exit, then kills it.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) {
        guard isRunning else { return }
        kill(pid, signal)
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline {
            usleep(20_000)
        }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(10_000) }
        }
    }

    /// Runs a command to completion: its exit status and its output (stdout and stderr together).
    /// - Parameters:
    ///   - user: the system user to run it as (through setpriv, when we are root).
    ///   - directory: the child's working directory (default: ours).
    public static func status(_ executable: String, _ arguments: [String], user: String? = nil, environment: [String: String]? = nil,
                              directory: String? = nil) throws -> (Int32, String) {
        if let user, getuid() == 0 {
            return try status("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", executable] + arguments,
                              environment: environment, directory: directory)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Runs a short command to completion (as `user` through setpriv when root) and returns its output;
    /// throws with the output when it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], user: String? = nil,
                           environment: [String: String]? = nil) throws -> String {
        let (status, output) = try Self.status(executable, arguments, user: user, environment: environment)
        guard status == 0 else {
            throw LaunchError(description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (exit \(status)):\n\(output)")
        }
        return output
    }
}
