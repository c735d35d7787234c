import Foundation
import DevStack

/// The local stack's state under `.stam/` in the project (or `--root`): data, logs, secrets, the ports it
/// chose, what it started (`stack.json`) and the supervisor's PID.
struct LocalStackPaths {
    let root: String

    init(projectRoot: String) { root = "\(projectRoot)/.stam" }
    init(root: String) { self.root = root }

    var secrets: String { "\(root)/secrets" }
    var supervisorPID: String { "\(root)/up.pid" }
    var environmentFile: String { "\(root)/env" }
    var logs: String { "\(root)/logs" }
    var ports: String { "\(root)/ports.json" }
    var stack: String { "\(root)/stack.json" }
    var adminPassword: String { "\(root)/admin_password" }
    var modemDevice: String { "\(root)/modem.tty" }
    var modemControl: String { "\(root)/modem.control" }
    /// Where child processes are registered (PID + start time) so a later run can kill what a killed
    /// supervisor left behind.
    var processRegistry: String { "\(root)/processes" }

    /// The PID of a `stam up` running on this state directory (not this process), if any.
    var runningSupervisor: pid_t? {
        guard let text = try? String(contentsOfFile: supervisorPID, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid != getpid(), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    /// Makes this process the state directory's supervisor (`up.pid`); fails when another one runs.
    func claimSupervisor() throws {
        if let pid = runningSupervisor {
            throw LocalProcess.LaunchError(description: "a stack is already running here (pid \(pid)); `stam down` stops it")
        }
        try String(getpid()).write(toFile: supervisorPID, atomically: true, encoding: .utf8)
    }

    /// The shell environment file (`source <root>/env`) for a running stack.
    func writeEnvironmentFile(_ summary: StackSummary) throws {
        try """
            DATABASE_URL=\(summary.databaseURL)
            REDIS_URL=\(summary.redisURL)
            RABBITMQ_URL=\(summary.rabbitmqURL)
            STAM_SECRETS_DIR=\(secrets)
            STAM_API=\(summary.api)
            """.write(toFile: environmentFile, atomically: true, encoding: .utf8)
    }

    /// A server's directory. Servers that refuse root run as their system user (postgres, rabbitmq), which
    /// must be able to walk into it: when we are root and it cannot (a checkout under a private home
    /// directory), the directory lives under /var/tmp instead, keyed by the root's path.
    func serverDirectory(_ name: String) -> String {
        let preferred = "\(root)/\(name)"
        guard getuid() == 0, !Self.isSearchableByOthers(root) else { return preferred }
        let key = String(UInt32(truncatingIfNeeded: root.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) }), radix: 16)
        return "/var/tmp/stam-\(name)-\(key)"
    }

    var postgres: String { serverDirectory("postgres") }

    /// Whether every ancestor of `path` lets other users traverse it.
    static func isSearchableByOthers(_ path: String) -> Bool {
        var current = (path as NSString).deletingLastPathComponent
        while !current.isEmpty && current != "/" {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: current),
                  let mode = attributes[.posixPermissions] as? Int, mode & 0o001 != 0 else { return false }
            current = (current as NSString).deletingLastPathComponent
        }
        return true
    }

    /// Finds the project root (the directory holding schema/) from the current directory upwards.
    static func projectRoot() -> String {
        var directory = FileManager.default.currentDirectoryPath
        while directory != "/" {
            if FileManager.default.fileExists(atPath: "\(directory)/schema/entities.yaml") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return FileManager.default.currentDirectoryPath
    }

    /// Reads a secret, creating it with 32 random bytes (hex) on first use; files are mode 600.
    func secret(_ name: String) throws -> String {
        let path = "\(secrets)/\(name)"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .newlines)
        }
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var generator = SystemRandomNumberGenerator()
        let value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return value
    }
}
