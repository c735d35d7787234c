import Foundation
import LocalStack
import Testing

/// The generated nginx.conf running, in front of two stand-in backends: TLS, the headers the backends
/// get, stickiness, a backend that answers 503 leaving the pool (the passive check docs/DEPLOYMENT.md
/// describes), WebSocket upgrades and the login rate limit.
@Suite struct NginxBehaviourTests {
    /// A backend stand-in: answers with its name and the headers it got; 503 while the file `<name>.down`
    /// exists (a backend whose /readyz fails answers 503 everywhere); 101 to a WebSocket upgrade.
    static let backend = #"""
        import http.server, json, os, sys
        name, address, directory = sys.argv[1], sys.argv[2], sys.argv[3]
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def answer(self):
                if os.path.exists(os.path.join(directory, name + ".down")):
                    body = b"not ready"
                    self.send_response(503)
                elif self.headers.get("Upgrade", "").lower() == "websocket" and "upgrade" in self.headers.get("Connection", "").lower():
                    self.send_response(101)
                    self.send_header("Upgrade", "websocket")
                    self.send_header("Connection", "Upgrade")
                    self.send_header("X-Backend", name)
                    self.end_headers()
                    return
                else:
                    body = json.dumps({"backend": name, "real_ip": self.headers.get("X-Real-IP"),
                                       "request_id": self.headers.get("X-Request-ID"), "path": self.path}).encode()
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            do_GET = answer
            do_POST = answer
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer((address, 8000), Handler).serve_forever()
        """#

    @Test func nginxRoutesLimitsAndDropsABackendThatIsNotReady() async throws {
        let nginx = try DeploymentTools.tool("/usr/sbin/nginx")
        _ = try DeploymentTools.tool("/usr/bin/openssl")
        let directory = try DeploymentTools.temporaryDirectory("nginx-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try DeploymentTools.read("nginx/nginx.conf")
        #expect(ComposeAndNginxToolTests.upstreamHosts(in: configuration).filter { $0.hasPrefix("backend-") } == ["backend-1", "backend-2"])
        let bed = try NamespaceBed(directory: directory, hostNames: ["grafana", "stam.local"],
                                   addresses: ["backend-1": "127.0.0.2", "backend-2": "127.0.0.3"])
        defer { bed.stop() }
        try configuration.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        try Self.backend.write(toFile: "\(directory)/backend.py", atomically: true, encoding: .utf8)
        try DeploymentTools.selfSignedCertificate(name: "stam.local", certificate: "\(directory)/cert.pem", key: "\(directory)/key.pem")
        let secrets = ["tls_certificate": try String(contentsOfFile: "\(directory)/cert.pem", encoding: .utf8),
                       "tls_private_key": try String(contentsOfFile: "\(directory)/key.pem", encoding: .utf8)]
        let container = try bed.container("nginx", secrets: secrets, secretOwner: "0:0")
        for (name, address) in [("backend-1", "127.0.0.2"), ("backend-2", "127.0.0.3")] {
            _ = try bed.start(name, in: container, ["/usr/bin/python3", "\(directory)/backend.py", name, address, directory])
        }
        _ = try bed.start("nginx", in: container, [nginx, "-c", "\(directory)/nginx.conf", "-e", "\(directory)/error.log", "-g", "daemon off;"])

        func curl(_ arguments: [String]) throws -> (Int32, String) {
            try bed.status(in: container, ["/usr/bin/curl", "-sk", "--max-time", "10", "--resolve", "stam.local:443:127.0.0.1"] + arguments)
        }
        func get(_ path: String, _ extra: [String] = []) throws -> [String: Any] {
            let (_, output) = try curl(extra + ["https://stam.local\(path)"])
            return (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? ["raw": output]
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while try curl(["-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 != "200" {
            if ContinuousClock.now > deadline { throw ToolError(description: "nginx did not answer: \(bed.log("nginx"))") }
            try await Task.sleep(for: .milliseconds(200))
        }

        // TLS 1.2 and 1.3 only.
        #expect(try curl(["--tlsv1.3", "-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 == "200")
        #expect(try curl(["--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 == "200")
        #expect(try curl(["--tlsv1.1", "--tls-max", "1.1", "-o", "/dev/null", "https://stam.local/"]).0 != 0)
        // The backends' /metrics is for Prometheus inside, not passed through.
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/metrics"]).1 == "404")

        // The backend gets the client's address and a request id: the caller's, or one nginx made, which
        // the client sees too.
        let first = try get("/api/panels")
        #expect(first["real_ip"] as? String == "127.0.0.1", "\(first)")
        #expect((first["request_id"] as? String)?.count == 32)
        #expect(try get("/api/panels", ["-H", "X-Request-ID: operator-42"])["request_id"] as? String == "operator-42")
        let headers = try curl(["-D", "-", "-o", "/dev/null", "https://stam.local/api/panels"]).1.lowercased()
        #expect(headers.contains("x-request-id: ") && headers.contains("strict-transport-security: max-age=63072000"))

        // ip_hash: one client, one backend.
        let sticky = try (0..<6).map { _ in try get("/api/panels")["backend"] as? String }
        #expect(Set(sticky).count == 1)
        let home = try #require(sticky.first ?? nil)
        let other = home == "backend-1" ? "backend-2" : "backend-1"

        // WebSocket upgrade reaches the backend with Upgrade and Connection.
        let upgrade = try curl(["--http1.1", "-D", "-", "-o", "/dev/null", "--max-time", "3", "-H", "Upgrade: websocket", "-H", "Connection: Upgrade",
                                "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "https://stam.local/ws"]).1
        #expect(upgrade.contains("101"), "\(upgrade)")

        // The client's backend stops being ready: it answers 503, nginx retries on the other one, and
        // after max_fails the client is served by the other backend without a retry.
        try "".write(toFile: "\(directory)/\(home).down", atomically: true, encoding: .utf8)
        for _ in 0..<3 { #expect(try get("/api/panels")["backend"] as? String == other) }
        #expect(bed.log("nginx").contains("upstream=127.0.0.") )
        try FileManager.default.removeItem(atPath: "\(directory)/\(home).down")

        // Login: 5 per minute with a burst of 5, then 429.
        let codes = try (0..<8).map { _ in try curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "https://stam.local/api/auth/login"]).1 }
        #expect(Array(codes.prefix(6)) == Array(repeating: "200", count: 6), "\(codes)")
        #expect(codes.suffix(2).allSatisfy { $0 == "429" }, "\(codes)")
    }
}
