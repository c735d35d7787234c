import Foundation
import LocalStack
import Testing

struct ToolError: Error, CustomStringConvertible {
    var description: String
}

/// The one way deployment tests get a tool: the project's own install scripts run when it is missing
/// (apt for Debian packages, pip --target .tools/python for PyPI's), never an assumption that it is there.
enum DeploymentTools {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let generated = "\(root)/deploy/generated"
    static let pythonTools = "\(root)/.tools/python"

    /// Debian executables and the package that brings them (scripts/install-deps.sh lists them all).
    static let debianTools: [String: String] = [
        "/usr/sbin/nginx": "nginx", "/usr/bin/docker-compose": "docker-compose", "/usr/bin/promtool": "prometheus",
        "/usr/sbin/pgbouncer": "pgbouncer", "/usr/bin/etcd": "etcd-server", "/usr/bin/etcdctl": "etcd-client",
        "/usr/lib/rabbitmq/bin/rabbitmq-server": "rabbitmq-server", "/usr/bin/redis-server": "redis-server",
        "/usr/bin/redis-cli": "redis-tools", "/usr/bin/rsync": "rsync", "/usr/bin/openssl": "openssl",
        "/usr/lib/postgresql/15/bin/postgres": "postgresql-15",
    ]

    private static let installLock = NSLock()

    /// The path of a Debian tool, installing the project's dependencies first when it is missing.
    static func tool(_ path: String) throws -> String {
        precondition(debianTools[path] != nil, "add \(path) to DeploymentTools.debianTools and scripts/install-deps.sh")
        try installLock.withLock {
            if !FileManager.default.isExecutableFile(atPath: path) {
                try LocalProcess.run("\(root)/scripts/install-deps.sh", [])
            }
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolError(description: "scripts/install-deps.sh ran but \(path) is still missing")
        }
        return path
    }

    /// Environment for running the PyPI tools (openapi-spec-validator) with .tools/python on the path.
    static func pythonEnvironment() throws -> [String: String] {
        try installLock.withLock {
            try LocalProcess.run("\(root)/scripts/install-python-tools.sh", [])
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = pythonTools
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        return environment
    }

    /// A fresh directory under /tmp/stam-tests (reachable by system users), removed by the caller. What
    /// runs killed test processes left behind is cleaned up first (`reapDeadRuns`).
    static func temporaryDirectory(_ name: String) throws -> String {
        reapDeadRuns()
        let directory = "\(base)/deploy-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try LocalProcess.run("/bin/chmod", ["755", base])
        try String(getpid()).write(toFile: "\(directory)/owner.pid", atomically: true, encoding: .utf8)
        return directory
    }

    static let base = "/tmp/stam-tests"
    private static let recordLock = NSLock()

    /// Notes a process started for a test in its directory (PID and start time), so a later run can stop
    /// it if this test process is killed before it stops it itself.
    static func record(_ pid: Int32, in directory: String) {
        guard let start = startTime(of: pid) else { return }
        recordLock.withLock {
            let line = "\(pid) \(start)\n"
            if let handle = FileHandle(forWritingAtPath: "\(directory)/processes") {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                handle.closeFile()
            } else {
                try? line.write(toFile: "\(directory)/processes", atomically: true, encoding: .utf8)
            }
        }
    }

    /// Directories of test processes that no longer exist: SIGKILL the processes they recorded (only if
    /// the PID still has the recorded start time, so a reused PID is never hit), then remove them.
    static func reapDeadRuns() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for entry in entries where entry.hasPrefix("deploy-") {
            let directory = "\(base)/\(entry)"
            guard let owner = (try? String(contentsOfFile: "\(directory)/owner.pid", encoding: .utf8)).flatMap({ Int32($0) }),
                  kill(owner, 0) != 0, errno == ESRCH else { continue }
            let recorded = (try? String(contentsOfFile: "\(directory)/processes", encoding: .utf8)) ?? ""
            for line in recorded.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let pid = Int32(parts[0]), startTime(of: pid) == String(parts[1]) else { continue }
                kill(pid, SIGKILL)
            }
            // A compose project on the engine (GeneratedServices): its containers, networks and volumes.
            if let project = try? String(contentsOfFile: "\(directory)/compose-project", encoding: .utf8) {
                ContainerEngine.removeProject(project)
            }
            // PostgreSQL servers that Patroni started are not recorded: stop them by their postmaster.pid.
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let path = enumerator?.nextObject() as? String {
                if path.hasSuffix("/postmaster.pid") {
                    PostgresServer.stopStale(dataDirectory: "\(directory)/\((path as NSString).deletingLastPathComponent)")
                }
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot.
    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: "\(generated)/\(relative)", encoding: .utf8)
    }

    /// Runs a command and returns (exit status, combined output) instead of throwing on failure.
    static func status(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
        try LocalProcess.status(executable, arguments, environment: environment)
    }

    /// A self-signed certificate and key for a host name, written as PEM files.
    static func selfSignedCertificate(name: String, certificate: String, key: String) throws {
        try LocalProcess.run(try tool("/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name),IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
    }
}
