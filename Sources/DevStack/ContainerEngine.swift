import Foundation
import Synchronization

/// This machine's container engine as `stam up --env prod` drives it: podman (rootful) behind its
/// Docker-compatible API socket, and Debian's docker-compose 1.29 talking to that socket, so the generated
/// compose files run exactly as on an admin's Docker host. scripts/install-container-engine.sh installs and
/// configures it; the API service is a process, started here when nothing answers on the socket and left
/// running afterwards (as dockerd would be), its PID in `/run/stam-podman-service.pid`.
public enum ContainerEngine {
    public static let socket = "/run/podman/podman.sock"
    public static let dockerHost = "unix://\(socket)"
    public static let servicePIDFile = "/run/stam-podman-service.pid"
    public static let podman = "/usr/bin/podman"
    public static let compose = "/usr/bin/docker-compose"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Installs what is missing, then makes sure the API socket answers.
    public static func prepare(projectRoot: String) async throws {
        try await run("\(projectRoot)/scripts/install-container-engine.sh", [])
        stopServiceInRemovedDirectory()
        if try await answers() { return }
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: socket)
        // setsid: the service outlives this supervisor (and a Ctrl-C to its terminal), as an engine daemon does.
        let service = Process()
        service.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        service.arguments = [podman, "system", "service", "--time=0", dockerHost]
        // From /, not from the checkout that asked: the service outlives it, and once its working directory is
        // removed podman can no longer start a container ("write child: broken pipe").
        service.currentDirectoryURL = URL(fileURLWithPath: "/")
        service.standardInput = FileHandle.nullDevice
        service.standardOutput = FileHandle.nullDevice
        service.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try service.run()
        try String(service.processIdentifier).write(toFile: servicePIDFile, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await answers() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure(description: "podman's API socket \(socket) does not answer 30 s after `podman system service` started")
    }

    /// Stops a service we started earlier from a directory that has since been removed (a temporary checkout): it
    /// still answers `_ping` but cannot start containers. `prepare` then starts a new one.
    static func stopServiceInRemovedDirectory() {
        // Found by its command line: setsid may fork, so the recorded PID need not be the service's.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: commandLine, as: UTF8.self).contains("system\u{0}service"),
                  String(decoding: commandLine, as: UTF8.self).contains(socket),
                  let directory = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                  directory.hasSuffix(" (deleted)") else { continue }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(100_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: socket)
        }
    }

    /// Whether the Docker API answers `_ping` on the socket.
    public static func answers() async throws -> Bool {
        guard FileManager.default.fileExists(atPath: socket) else { return false }
        let (status, output) = try await status("/usr/bin/curl", ["-s", "--max-time", "3", "--unix-socket", socket, "http://d/_ping"])
        return status == 0 && output == "OK"
    }

    /// Runs a command off Swift's cooperative pool (podman and compose calls block for a while) and returns its
    /// exit status and output (stdout and stderr together). Cancelling the calling task sends the command SIGTERM
    /// (a `stam up` told to stop while `docker-compose up` starts containers must not wait for it, nor leave it
    /// running after it exits); the command's exit then comes back as usual, as a status that is not 0.
    public static func status(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       input: String? = nil) async throws -> (Int32, String) {
        let running = RunningCommand()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: executable)
                        process.arguments = arguments
                        var merged = ProcessInfo.processInfo.environment
                        merged["DOCKER_HOST"] = dockerHost
                        merged.merge(environment ?? [:]) { $1 }
                        process.environment = merged
                        let output = Pipe()
                        process.standardOutput = output
                        process.standardError = output
                        let stdin = Pipe()
                        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
                        try running.start(process)
                        if let input {
                            stdin.fileHandleForWriting.write(Data(input.utf8))
                            try? stdin.fileHandleForWriting.close()
                        }
                        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                        process.waitUntilExit()
                        return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
                    })
                }
            }
        } onCancel: {
            running.terminate()
        }
    }

    /// Runs a command and returns its output; throws with the output when it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil) async throws -> String {
        let (code, output) = try await status(executable, arguments, environment: environment, input: input)
        guard code == 0 else {
            throw Failure(description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (exit \(code)):\n\(output)")
        }
        return output
    }

    /// Runs a command with its output going to `logFile` (long builds), and throws with the log's end when it fails.
    public static func runLogged(_ executable: String, _ arguments: [String], logFile: String, environment: [String: String] = [:]) async throws {
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let (code, _) = try await status("/bin/sh", ["-c", "exec \"$0\" \"$@\" >>'\(logFile)' 2>&1", executable] + arguments,
                                         environment: environment)
        guard code == 0 else {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw Failure(description: "\((executable as NSString).lastPathComponent) failed (exit \(code)); the end of \(logFile):\n"
                + log.split(separator: "\n").suffix(30).joined(separator: "\n"))
        }
    }

    /// Removes everything the engine holds of a compose project, whatever state it is in: its containers (running
    /// or not), networks and volumes, found by compose's project label. For tests and benchmarks, which leave
    /// nothing behind; `stam down` keeps the volumes (docker-compose down).
    public static func removeProject(_ project: String) {
        let label = "label=com.docker.compose.project=\(project)"
        for (kind, list) in [("container", ["ps", "-aq"]), ("network", ["network", "ls", "-q"]), ("volume", ["volume", "ls", "-q"])] {
            let ids = ((try? LocalProcess.run(podman, list + ["--filter", label])) ?? "").split(separator: "\n").map(String.init)
            if !ids.isEmpty { _ = try? LocalProcess.run(podman, [kind, "rm", "-f"] + ids) }
        }
    }
}

/// The process of one `ContainerEngine.status` call, for its cancellation handler: terminated if it runs, never
/// started if the cancellation came first.
private final class RunningCommand: Sendable {
    private struct State {
        var process: Process?
        var cancelled = false
    }

    private let state = Mutex(State())

    struct Cancelled: Error, CustomStringConvertible {
        var description: String { "cancelled before it started" }
    }

    func start(_ process: Process) throws {
        try state.withLock { state in
            guard !state.cancelled else { throw Cancelled() }
            // Foundation's Process passes the calling thread's signal mask on, and this is a Dispatch worker thread,
            // which blocks SIGTERM among others: the command would never see the SIGTERM of `terminate()`.
            var none = sigset_t(), inherited = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, &inherited)
            defer { pthread_sigmask(SIG_SETMASK, &inherited, nil) }
            try process.run()
            state.process = process
        }
    }

    func terminate() {
        state.withLock { state in
            state.cancelled = true
            if let process = state.process, process.isRunning { process.terminate() }
        }
    }
}
