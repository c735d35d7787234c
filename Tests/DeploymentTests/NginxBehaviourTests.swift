import Foundation
import DevStack
import Testing
import TestSupport

/// The generated nginx service on the container engine (the image, mounts, secrets and nginx.conf of the
/// generated prod compose file), in front of two stand-in backends under the backends' service names: TLS, the
/// headers the backends get, stickiness, a backend that answers 503 leaving the pool (the passive check
/// docs/DEPLOYMENT.md describes), WebSocket upgrades and the login rate limit.
@Suite(.integration, .tags(.integration)) struct NginxBehaviourTests {
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
        _ = try DeploymentTools.tool("/usr/bin/openssl")
        let configuration = try DeploymentTools.read("nginx/nginx.prod.conf")
        #expect(ComposeAndNginxToolTests.upstreamHosts(in: configuration).filter { $0.hasPrefix("backend-") } == ["backend-1", "backend-2"])
        // The backends replaced by the stand-in (in an image that has Python, with the test's directory at /stand-in);
        // nginx is the generated service as it is.
        let services = try await GeneratedServices.make("nginx") { directory in
            "services:\n" + ["backend-1", "backend-2"].map { name in """
                  \(name):
                    image: localhost/stam-patroni:latest
                    entrypoint: ["python3", "/stand-in/backend.py"]
                    command: ["\(name)", "0.0.0.0", "/stand-in"]
                    volumes: ["\(directory):/stand-in"]
                """ }.joined(separator: "\n")
        }
        defer { services.remove() }
        let directory = services.directory
        try Self.backend.write(toFile: "\(directory)/backend.py", atomically: true, encoding: .utf8)
        try await services.up(["backend-1", "backend-2"])
        try await services.up(["nginx"])
        let nginx = try #require(try await services.project.address(of: "nginx"))
        let gateway = try #require(try await services.project.inspect("nginx", "{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}")?
            .split(separator: " ").first.map(String.init))

        // From this host to the container, as another machine on the network would reach it.
        func curl(_ arguments: [String]) async throws -> (Int32, String) {
            try await ContainerEngine.status("/usr/bin/curl", ["-sk", "--max-time", "10", "--resolve", "stam.local:443:\(nginx)"] + arguments)
        }
        func get(_ path: String, _ extra: [String] = []) async throws -> [String: Any] {
            let (_, output) = try await curl(extra + ["https://stam.local\(path)"])
            return (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? ["raw": output]
        }
        try await services.waitUntil("nginx answers", log: "nginx") {
            try await curl(["-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 == "200"
        }
        // The published port (STAM_NGINX_HTTPS_PORT on 127.0.0.1) reaches it too.
        let published = try #require(services.project.variables["STAM_NGINX_HTTPS_PORT"])
        #expect(try await ContainerEngine.status("/usr/bin/curl", ["-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                                                                   "https://127.0.0.1:\(published)/"]).1 == "200")

        // TLS 1.2 and 1.3 only.
        #expect(try await curl(["--tlsv1.3", "-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 == "200")
        #expect(try await curl(["--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/"]).1 == "200")
        #expect(try await curl(["--tlsv1.1", "--tls-max", "1.1", "-o", "/dev/null", "https://stam.local/"]).0 != 0)
        // The backends' /metrics is for Prometheus inside, not passed through.
        #expect(try await curl(["-o", "/dev/null", "-w", "%{http_code}", "https://stam.local/metrics"]).1 == "404")

        // The backend gets the client's address (this host's on the project network) and a request id: the
        // caller's, or one nginx made, which the client sees too.
        let first = try await get("/api/panels")
        #expect(first["real_ip"] as? String == gateway, "\(first)")
        #expect((first["request_id"] as? String)?.count == 32)
        #expect(try await get("/api/panels", ["-H", "X-Request-ID: operator-42"])["request_id"] as? String == "operator-42")
        let headers = try await curl(["-D", "-", "-o", "/dev/null", "https://stam.local/api/panels"]).1.lowercased()
        #expect(headers.contains("x-request-id: ") && headers.contains("strict-transport-security: max-age=63072000"))

        // ip_hash: one client, one backend.
        var sticky: [String?] = []
        for _ in 0..<6 { sticky.append(try await get("/api/panels")["backend"] as? String) }
        #expect(Set(sticky).count == 1)
        let home = try #require(sticky.first ?? nil)
        let other = home == "backend-1" ? "backend-2" : "backend-1"

        // WebSocket upgrade reaches the backend with Upgrade and Connection.
        let upgrade = try await curl(["--http1.1", "-D", "-", "-o", "/dev/null", "--max-time", "3", "-H", "Upgrade: websocket", "-H", "Connection: Upgrade",
                                      "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "https://stam.local/ws"]).1
        #expect(upgrade.contains("101"), "\(upgrade)")

        // The client's backend stops being ready: it answers 503, nginx retries on the other one, and
        // after max_fails the client is served by the other backend without a retry.
        try "".write(toFile: "\(directory)/\(home).down", atomically: true, encoding: .utf8)
        for _ in 0..<3 { #expect(try await get("/api/panels")["backend"] as? String == other) }
        // The backend is on several networks (edge, app, data); nginx names its address on the edge.
        let homeAddresses = try #require(try await services.project.inspect(home, "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"))
            .split(separator: " ").map(String.init)
        let nginxLog = await services.logs("nginx")
        #expect(homeAddresses.contains { nginxLog.contains("upstream=\($0):8000") }, "\(homeAddresses)")
        try FileManager.default.removeItem(atPath: "\(directory)/\(home).down")

        // Login: 5 per minute with a burst of 5, then 429.
        var codes: [String] = []
        for _ in 0..<8 { codes.append(try await curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "https://stam.local/api/auth/login"]).1) }
        #expect(Array(codes.prefix(6)) == Array(repeating: "200", count: 6), "\(codes)")
        #expect(codes.suffix(2).allSatisfy { $0 == "429" }, "\(codes)")
        // Every spelling the backend's router takes for login is in the same limit (its router ignores a trailing
        // slash; nginx merges slashes and decodes escapes before matching), and /metrics stays private spelled so too.
        for spelling in ["/api/auth/login/", "//api/auth/login", "/api/auth/%6Cogin", "/api/auth/login/?next=1"] {
            #expect(try await curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "https://stam.local\(spelling)"]).1 == "429", "\(spelling)")
        }
        for spelling in ["/metrics/", "//metrics", "/%6Detrics"] {
            #expect(try await curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", "https://stam.local\(spelling)"]).1 == "404", "\(spelling)")
        }
    }
}
