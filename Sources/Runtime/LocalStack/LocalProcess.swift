import Foundation

/// A server process the local stack started itself and stops by PID. When stam runs as root, servers that
/// refuse root (PostgreSQL, RabbitMQ) run as their Debian system user through `setpriv`, which execs in
/// place, so the PID we hold is the server's own and signals reach it directly.
public final class LocalProcess: @unchecked Sendable {
    public let name: String
    private let process = Process()
    private let lock = NSLock()

    public struct LaunchError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// - Parameters:
    ///   - user: the system user to run as when we are root (ignored otherwise).
    ///   - logFile: stdout and stderr go here, so a failed start can be explained.
    public init(name: String, executable: String, arguments: [String], user: String? = nil,
                environment: [String: String]? = nil, logFile: String) throws {
        self.name = name
        if let user, getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        if let environment { process.environment = environment }
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logFile) else {
            throw LaunchError(description: "cannot write log file \(logFile)")
        }
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try Self.withUnblockedSignals { try process.run() }
        } catch {
            throw LaunchError(description: "cannot start \(name) (\(executable)): \(error)")
        }
    }

    /// A child starts with the signal mask of the thread that spawns it. Test runners and dispatch worker
    /// threads block most signals, and a server started with SIGTERM blocked never sees a stop request
    /// (it then runs until the SIGKILL fallback). So the spawning thread unblocks every signal around
    /// the spawn.
    static func withUnblockedSignals<T>(_ body: () throws -> T) rethrows -> T {
        var unblocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&unblocked)
        pthread_sigmask(SIG_SETMASK, &unblocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal`, waits up to `timeout` for the process to exit, then kills it.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) {
        lock.lock()
        defer { lock.unlock() }
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            usleep(20_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Runs a short command to completion and returns its output; throws with the output when it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], user: String? = nil,
                           environment: [String: String]? = nil) throws -> String {
        let process = Process()
        if let user, getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try withUnblockedSignals { try process.run() }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LaunchError(description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus)):\n\(output)")
        }
        return output
    }
}
