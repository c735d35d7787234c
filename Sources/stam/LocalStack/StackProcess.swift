import Foundation
import DevStack
import Logging

/// One program of the local stack that `stam up` started (a stam subcommand, nginx, etcd, Patroni, ...):
/// its log under `.stam/logs/`, how to tell that it is ready, and a restart when it exits on its own
/// (the compose files say `restart: always`; the native stack behaves the same).
final class StackProcess: @unchecked Sendable {
    enum Readiness: Sendable {
        /// HTTP 200 from `path` on 127.0.0.1:`port`.
        case http(port: Int, path: String)
        /// The port accepts TCP connections.
        case tcp(port: Int)
        /// Ready once started (simulators report nothing).
        case started
        /// A check of its own passes (a compose health check run inside the container).
        case check(@Sendable () async -> Bool)
    }

    let name: String
    let executable: String
    let arguments: [String]
    let environment: [String: String]
    let user: String?
    let logFile: String
    let readiness: Readiness
    let registry: String
    /// Runs before a restart: a container's leftovers go first (a killed Patroni leaves its PostgreSQL).
    let beforeRestart: (@Sendable () -> Void)?
    /// While this file exists the process is not restarted (`stam stop <service>`, as `docker stop`).
    let holdFile: String?
    private let lock = NSLock()
    private var process: LocalProcess?
    private var stopping = false
    private(set) var restarts = 0

    init(name: String, executable: String, arguments: [String], environment: [String: String], user: String? = nil,
         logDirectory: String, readiness: Readiness, registry: String,
         beforeRestart: (@Sendable () -> Void)? = nil, holdFile: String? = nil) {
        self.beforeRestart = beforeRestart
        self.holdFile = holdFile
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.user = user
        self.logFile = "\(logDirectory)/\(name).log"
        self.readiness = readiness
        self.registry = registry
    }

    var pid: pid_t? { lock.withLock { process?.pid } }

    func start() throws {
        let process = try LocalProcess(name: name, executable: executable, arguments: arguments, user: user,
                                       environment: environment, logFile: logFile)
        lock.withLock { self.process = process }
        if let handle = FileHandle(forWritingAtPath: registry) {
            handle.seekToEndOfFile()
            handle.write(Data(process.registryLine.utf8))
            try? handle.close()
        } else {
            try process.registryLine.write(toFile: registry, atomically: true, encoding: .utf8)
        }
    }

    /// Waits until the readiness condition holds; fails early when the process exits meanwhile.
    func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard lock.withLock({ process?.isRunning }) == true else {
                throw LocalProcess.LaunchError(description: "\(name) exited during start-up; see \(logFile):\n\(tail())")
            }
            if await isReady() { return }
            guard ContinuousClock.now < deadline else {
                throw LocalProcess.LaunchError(description: "\(name) was not ready within \(timeout); see \(logFile):\n\(tail())")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func isReady() async -> Bool {
        switch readiness {
        case .http(let port, let path): return (try? await HTTPGet.get(port: port, path: path, timeout: 3))?.status == 200
        case .tcp(let port): return !FreePort.isFree(port)
        case .started: return lock.withLock { process?.isRunning } == true
        case .check(let check): return await check()
        }
    }

    /// Starts the process again when it exited by itself (not while the stack stops). Returns whether it did.
    func restartIfExited(logger: Logger) -> Bool {
        let exited = lock.withLock { !stopping && process?.isRunning == false }
        guard exited else { return false }
        if let holdFile, FileManager.default.fileExists(atPath: holdFile) { return false }
        beforeRestart?()
        logger.warning("process exited; restarting it", metadata: ["process": "\(name)", "log": "\(logFile)"])
        do {
            try start()
            lock.withLock { restarts += 1 }
            return true
        } catch {
            logger.error("restart failed", metadata: ["process": "\(name)", "error": "\(error)"])
            return false
        }
    }

    /// SIGTERM (a graceful shutdown of its ServiceGroup), SIGKILL after `timeout`.
    func stop(timeout: Duration = .seconds(20)) {
        let process = lock.withLock { () -> LocalProcess? in
            stopping = true
            return self.process
        }
        process?.stop(signal: SIGTERM, timeout: timeout)
    }

    func tail(_ lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
