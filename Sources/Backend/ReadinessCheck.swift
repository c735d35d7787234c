import APISupport
import Foundation
import Hummingbird

/// `/readyz`: 200 when every dependency answers within its timeout, else 503 naming the ones that did not.
/// nginx takes a backend out of the pool on 5xx (docs/DEPLOYMENT.md), so this is what drains a backend that
/// lost its database.
public struct ReadinessCheck: Sendable {
    public typealias Probe = @Sendable () async throws -> Void

    /// What a probe throws when its dependency is known to be unreachable.
    public struct Unreachable: Error {
        public init() {}
    }

    let probes: [(name: String, probe: Probe)]
    let timeout: Duration

    public init(probes: [(name: String, probe: Probe)], timeout: Duration = .seconds(2)) {
        self.probes = probes
        self.timeout = timeout
    }

    /// Names of the dependencies that failed.
    public func failing() async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            for (name, probe) in probes {
                group.addTask {
                    let passed = await withTaskGroup(of: Bool.self) { race in
                        race.addTask { (try? await probe()) != nil }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return false
                        }
                        let first = await race.next() ?? false
                        race.cancelAll()
                        return first
                    }
                    return passed ? nil : name
                }
            }
            var failed: [String] = []
            for await name in group { if let name { failed.append(name) } }
            return failed.sorted()
        }
    }

    func response() async throws -> Response {
        let failed = await failing()
        struct Body: Encodable { var ready: Bool; var failing: [String] }
        return try APIResponse.json(Body(ready: failed.isEmpty, failing: failed), status: failed.isEmpty ? .ok : .serviceUnavailable)
    }
}
