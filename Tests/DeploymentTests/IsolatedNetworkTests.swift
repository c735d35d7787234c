import Foundation
import LocalStack
import Testing

/// Containers of a `NamespaceBed` with isolated networking behave as Docker's do on one compose network:
/// two services listen on the same port, each reaches the others by name and itself on 127.0.0.1, and the
/// host reaches them on the bridge; the host's side of the network is gone after the bed stops.
@Suite struct IsolatedNetworkTests {
    @Test func twoContainersShareAPortAndReachEachOtherByName() async throws {
        _ = try DeploymentTools.tool("/usr/bin/unshare")
        let directory = try DeploymentTools.temporaryDirectory("network")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bed = try NamespaceBed(directory: directory, hostNames: ["web-1", "web-2", "client"], isolated: true)
        var stopped = false
        defer { if !stopped { bed.stop() } }
        let network = try #require(bed.isolatedNetwork)
        var webs: [NamespaceBed.Container] = []
        for name in ["web-1", "web-2"] {
            let root = "\(directory)/\(name)-www"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try name.write(toFile: "\(root)/name", atomically: true, encoding: .utf8)
            let container = try bed.container(name)
            webs.append(container)
            // The same port in both: each container has its own.
            _ = try bed.start(name, in: container, ["/usr/bin/python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "--directory", root])
        }
        let client = try bed.container("client")
        func get(in container: NamespaceBed.Container, _ url: String) async throws -> String {
            var last = ""
            for _ in 0..<100 {
                let (status, output) = try bed.status(in: container, ["/usr/bin/curl", "-fsS", "--max-time", "2", url])
                if status == 0 { return output }
                last = output
                try await Task.sleep(for: .milliseconds(100))
            }
            return "failed: \(last)"
        }
        #expect(try await get(in: client, "http://web-1:8000/name") == "web-1")
        #expect(try await get(in: client, "http://web-2:8000/name") == "web-2")
        // A compose healthcheck on 127.0.0.1 reaches the container's own service.
        #expect(try await get(in: webs[1], "http://127.0.0.1:8000/name") == "web-2")
        // Nothing listens on the client's own port 8000.
        #expect(try bed.status(in: client, ["/usr/bin/curl", "-fsS", "--max-time", "2", "http://127.0.0.1:8000/name"]).0 != 0)
        // The host reaches a container at its address on the bridge.
        let fromHost = try DeploymentTools.status("/usr/bin/curl", ["-fsS", "--max-time", "5", "http://\(network.address(ofContainer: 1)):8000/name"])
        #expect(fromHost.0 == 0 && fromHost.1 == "web-2", "\(fromHost.1)")

        bed.stop()
        stopped = true
        let links = try LocalProcess.run("/sbin/ip", ["link", "show"])
        #expect(!links.contains(network.hostInterface))
    }
}
