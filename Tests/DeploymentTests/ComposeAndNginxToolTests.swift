import Foundation
import LocalStack
import Testing

/// The compose files and nginx.conf, checked by docker-compose and nginx themselves.
@Suite struct ComposeAndNginxToolTests {
    @Test(arguments: ["prod", "dev"]) func dockerComposeAcceptsTheComposeFile(environment: String) throws {
        let compose = try DeploymentTools.tool("/usr/bin/docker-compose")
        let file = "\(DeploymentTools.generated)/docker-compose.\(environment).yml"
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STAM_") && !$0.key.hasPrefix("SATEL_") }
        env["COMPOSE_PROJECT_NAME"] = "stam"
        let (status, output) = try DeploymentTools.status(compose, ["-f", file, "config", "-q"], environment: env)
        #expect(status == 0, "\(output)")
        // The resolved file: secrets come from the project's secrets/ and certs/ directories.
        let (_, resolved) = try DeploymentTools.status(compose, ["-f", file, "config"], environment: env)
        #expect(resolved.contains("file: \(DeploymentTools.root)/secrets/rabbitmq_password"))
    }

    @Test func dockerComposeRejectsABrokenFile() throws {
        // The check above can fail: the same tool refuses a wrong health condition.
        let compose = try DeploymentTools.tool("/usr/bin/docker-compose")
        let directory = try DeploymentTools.temporaryDirectory("compose")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = try DeploymentTools.read("docker-compose.prod.yml").replacingOccurrences(of: "service_healthy", with: "healthy")
        try broken.write(toFile: "\(directory)/docker-compose.yml", atomically: true, encoding: .utf8)
        let (status, output) = try DeploymentTools.status(compose, ["-f", "\(directory)/docker-compose.yml", "config", "-q"])
        #expect(status != 0)
        #expect(output.contains("condition"))
    }

    /// `nginx -t` on the generated nginx.conf, in a private mount namespace: its own /etc/hosts (the
    /// upstream host names resolve to loopback) and its own /run with the test certificate at the paths
    /// the configuration names. The machine's files are never touched.
    @Test func nginxAcceptsTheGeneratedConfiguration() throws {
        let (status, output) = try nginxTest(configuration: try DeploymentTools.read("nginx/nginx.conf"))
        #expect(status == 0, "\(output)")
        #expect(output.contains("syntax is ok") && output.contains("test is successful"), "\(output)")
    }

    @Test func nginxRejectsABrokenConfiguration() throws {
        let broken = try DeploymentTools.read("nginx/nginx.conf").replacingOccurrences(of: "ip_hash;", with: "ip_hash")
        let (status, _) = try nginxTest(configuration: broken)
        #expect(status != 0)
    }

    private func nginxTest(configuration: String) throws -> (Int32, String) {
        let nginx = try DeploymentTools.tool("/usr/sbin/nginx")
        let unshare = try DeploymentTools.tool("/usr/bin/unshare")
        let directory = try DeploymentTools.temporaryDirectory("nginx")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try configuration.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        try DeploymentTools.selfSignedCertificate(name: "stam.local", certificate: "\(directory)/tls_certificate",
                                                  key: "\(directory)/tls_private_key")
        let hosts = Self.upstreamHosts(in: configuration).map { "127.0.0.1 \($0)" }
        try (["127.0.0.1 localhost"] + hosts).joined(separator: "\n").appending("\n")
            .write(toFile: "\(directory)/hosts", atomically: true, encoding: .utf8)
        let script = """
            set -e
            mount -t tmpfs tmpfs /run
            mkdir -p /run/secrets
            cp "$1/tls_certificate" "$1/tls_private_key" /run/secrets/
            mount --bind "$1/hosts" /etc/hosts
            exec "$2" -t -c "$1/nginx.conf" -e "$1/error.log"
            """
        return try DeploymentTools.status(unshare, ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", directory, nginx])
    }

    /// The host names of `server host:port` lines in upstream blocks.
    static func upstreamHosts(in configuration: String) -> [String] {
        let names = configuration.split(separator: "\n").compactMap { line -> String? in
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard words.count >= 2, words[0] == "server", let host = words[1].split(separator: ":").first,
                  words[1].contains(":") else { return nil }
            return String(host)
        }
        return Array(Set(names)).sorted()
    }
}
