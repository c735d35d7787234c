import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The directory of one run of a test suite or a benchmark under a base such as /tmp/stam-tests: its servers'
/// data, `owner.pid` (the process the run belongs to) and `processes` (`pid starttime` of what it started). A run
/// killed before its clean-up (SIGKILL, a crash, a timeout) leaves servers behind; the next run reaps them
/// (`reapDeadRuns`) before it starts its own. The one place for this: suites, the deployment tests and the
/// worker benchmark all use it.
public struct RunDirectory: Sendable {
    /// Where the tests' runs live (reachable by the system users PostgreSQL and RabbitMQ run as).
    public static let tests = "/tmp/stam-tests"

    public let path: String

    /// An existing run directory (one `create` made).
    public init(path: String) {
        self.path = path
    }
    /// The registry of processes started for the run (`LocalProcess.killRegistered` reads it).
    public var processes: String { "\(path)/processes" }

    /// Reaps the dead runs under `base`, then creates `<base>/<pid>-<kind>-<random>` (mode 0755) owned by this process.
    public static func create(_ kind: String, under base: String = tests) throws -> RunDirectory {
        reapDeadRuns(under: base)
        let path = "\(base)/\(getpid())-\(kind)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // The base itself too (it may predate this process): the servers' system users must reach their directories.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base)
        try String(getpid()).write(toFile: "\(path)/owner.pid", atomically: true, encoding: .utf8)
        return RunDirectory(path: path)
    }

    /// Removes the directory (its servers must be stopped first).
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Notes a process started for the run that no server type recorded itself, so a later run can stop it.
    public func record(_ pid: pid_t) {
        guard let start = LocalProcess.startTime(of: pid) else { return }
        Self.recordLock.withLock {
            let line = "\(pid) \(start)\n"
            if let handle = FileHandle(forWritingAtPath: processes) {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                handle.closeFile()
            } else {
                try? line.write(toFile: processes, atomically: true, encoding: .utf8)
            }
        }
    }

    private static let recordLock = NSLock()

    /// Every run under `base` whose owner process is gone: SIGKILL what it recorded, in any `processes` registry
    /// under it (a `stam up` run keeps its own in its state directory; only a PID that still has the recorded start
    /// time is hit, so a reused PID never is), remove the compose projects named under it (`compose-project`, or a
    /// stack's `compose.json`) from the container engine, stop the PostgreSQL servers found under it (Patroni's are
    /// recorded nowhere), then remove it. A killed test run's prod stack otherwise keeps its containers and its
    /// networks, whose fixed VLAN subnet the next prod stack cannot create.
    public static func reapDeadRuns(under base: String = tests) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for entry in entries {
            let directory = "\(base)/\(entry)"
            guard let owner = (try? String(contentsOfFile: "\(directory)/owner.pid", encoding: .utf8)).flatMap({ pid_t($0) }),
                  kill(owner, 0) != 0, errno == ESRCH else { continue }
            var registries: [String] = [], projects: [String] = [], postgresDirectories: [String] = []
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let relative = enumerator?.nextObject() as? String {
                let path = "\(directory)/\(relative)", name = (relative as NSString).lastPathComponent
                switch name {
                case "processes": registries.append(path)
                case "compose-project":
                    if let project = try? String(contentsOfFile: path, encoding: .utf8) { projects.append(project.trimmingCharacters(in: .whitespacesAndNewlines)) }
                case "compose.json":
                    if let project = try? ComposeProject.read(from: (path as NSString).deletingLastPathComponent) { projects.append(project.name) }
                case "postmaster.pid": postgresDirectories.append((path as NSString).deletingLastPathComponent)
                default: break
                }
            }
            // Processes first: a supervisor left running would start again what the engine is removing.
            registries.forEach(LocalProcess.killRegistered(in:))
            projects.forEach(ContainerEngine.removeProject)
            postgresDirectories.forEach(PostgresServer.stopStale(dataDirectory:))
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
