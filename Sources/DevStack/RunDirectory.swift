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

    /// Every run under `base` whose owner process is gone: SIGKILL what it recorded (only a PID that still has the
    /// recorded start time, so a reused PID is never hit), remove its compose project from the container engine,
    /// stop the PostgreSQL servers found under it (Patroni's are recorded nowhere), then remove it.
    public static func reapDeadRuns(under base: String = tests) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for entry in entries {
            let directory = "\(base)/\(entry)"
            guard let owner = (try? String(contentsOfFile: "\(directory)/owner.pid", encoding: .utf8)).flatMap({ pid_t($0) }),
                  kill(owner, 0) != 0, errno == ESRCH else { continue }
            LocalProcess.killRegistered(in: "\(directory)/processes")
            if let project = try? String(contentsOfFile: "\(directory)/compose-project", encoding: .utf8) {
                ContainerEngine.removeProject(project)
            }
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let path = enumerator?.nextObject() as? String {
                if path.hasSuffix("postmaster.pid") {
                    PostgresServer.stopStale(dataDirectory: "\(directory)/\((path as NSString).deletingLastPathComponent)")
                }
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
