import Foundation
import DevStack
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
    /// runs killed test processes left behind is cleaned up first (`RunDirectory.reapDeadRuns`).
    static func temporaryDirectory(_ name: String) throws -> String {
        try RunDirectory.create("deploy-\(name)").path
    }

    static let base = RunDirectory.tests

    /// Notes a process started for a test in its directory, so a later run can stop it if this test process is
    /// killed before it stops it itself.
    static func record(_ pid: Int32, in directory: String) {
        RunDirectory(path: directory).record(pid)
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
