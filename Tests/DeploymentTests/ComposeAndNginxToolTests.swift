import Foundation
import DevStack
import Testing
import TestSupport

/// The compose files and nginx.conf, checked by docker-compose and nginx themselves.
@Suite(.integration, .tags(.integration)) struct ComposeAndNginxToolTests {
    @Test(arguments: ["prod", "stage", "dev"]) func dockerComposeAcceptsTheComposeFile(environment: String) throws {
        let compose = try DeploymentTools.tool("/usr/bin/docker-compose")
        let file = "\(DeploymentTools.generated)/docker-compose.\(environment).yml"
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STAM_") && !$0.key.hasPrefix("SATEL_") }
        env["COMPOSE_PROJECT_NAME"] = "stam"
        let (status, output) = try DeploymentTools.status(compose, ["-f", file, "config", "-q"], environment: env)
        #expect(status == 0, "\(output)")
        // The resolved file: secrets come from the project's secrets/ and certs/ directories.
        let (_, resolved) = try DeploymentTools.status(compose, ["-f", file, "config"], environment: env)
        #expect(resolved.contains("file: \(DeploymentTools.root)/secrets/rabbitmq_relay_password"))
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

    /// `nginx -t` on each generated nginx file, in the image the compose file names: the upstream host names
    /// resolve to loopback (--add-host) and the test certificate is where compose puts the secrets.
    @Test(arguments: ["nginx/nginx.prod.conf", "nginx/nginx.stage.conf"]) func nginxAcceptsTheGeneratedConfiguration(file: String) async throws {
        let (status, output) = try await nginxTest(configuration: try DeploymentTools.read(file))
        #expect(status == 0, "\(output)")
        #expect(output.contains("syntax is ok") && output.contains("test is successful"), "\(output)")
    }

    @Test func nginxRejectsABrokenConfiguration() async throws {
        let broken = try DeploymentTools.read("nginx/nginx.prod.conf").replacingOccurrences(of: "ip_hash;", with: "ip_hash")
        let (status, output) = try await nginxTest(configuration: broken)
        #expect(status != 0)
        #expect(output.contains("nginx.conf"), "\(output)")
    }

    private func nginxTest(configuration: String) async throws -> (Int32, String) {
        try await GeneratedServices.prepareEngine()
        let directory = try DeploymentTools.temporaryDirectory("nginx")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try configuration.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        try DeploymentTools.selfSignedCertificate(name: "stam.local", certificate: "\(directory)/tls_certificate",
                                                  key: "\(directory)/tls_private_key")
        let hosts = Self.upstreamHosts(in: configuration).flatMap { ["--add-host", "\($0):127.0.0.1"] }
        let mounts = ["-v", "\(directory)/nginx.conf:/etc/nginx/nginx.conf:ro",
                      "-v", "\(directory)/tls_certificate:/run/secrets/tls_certificate:ro",
                      "-v", "\(directory)/tls_private_key:/run/secrets/tls_private_key:ro"]
        return try await ContainerEngine.status(ContainerEngine.podman, ["run", "--rm"] + hosts + mounts + ["nginx:1.27-alpine", "nginx", "-t"])
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
