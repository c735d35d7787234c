import NIOConcurrencyHelpers
import NIOCore
@testable import Satel
@testable import SatelSimulator

/// Runs a real `SatelClient` against a real `SimulatorServer` on loopback and records every update, so
/// tests can wait for what the client reports.
final class ClientHarness: Sendable {
    let client: SatelClient
    let server: SimulatorServer
    private let collected = NIOLockedValueBox<[PanelUpdate]>([])

    private init(client: SatelClient, server: SimulatorServer) {
        self.client = client
        self.server = server
    }

    var panel: PanelSimulator { server.panels[0] }

    var updates: [PanelUpdate] { collected.withLockedValue { $0 } }

    /// Fast polling and short back-off so the tests move quickly; correctness does not depend on them.
    static func clientConfiguration(port: Int, _ adjust: (inout SatelClientConfiguration) -> Void = { _ in }) -> SatelClientConfiguration {
        var configuration = SatelClientConfiguration(
            host: "127.0.0.1", port: port, pollInterval: .milliseconds(20), requestTimeout: .seconds(5),
            backoff: ReconnectBackoff(initialDelay: 0.05, maximumDelay: 0.2, busyDelay: 0.1))
        adjust(&configuration)
        return configuration
    }

    static func run(
        simulator: SimulatorConfiguration = SimulatorConfiguration(port: 0),
        client adjust: @escaping (inout SatelClientConfiguration) -> Void = { _ in },
        _ body: (ClientHarness) async throws -> Void
    ) async throws {
        let server = SimulatorServer(configuration: simulator)
        let ports = try await server.start()
        let client = SatelClient(configuration: clientConfiguration(port: ports[0], adjust))
        let harness = ClientHarness(client: client, server: server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask {
                for await report in client.updates {
                    harness.collected.withLockedValue { $0.append(contentsOf: report) }
                }
            }
            do {
                try await body(harness)
            } catch {
                client.shutdown()
                await server.stop()
                throw error
            }
            client.shutdown()
            try await group.waitForAll()
        }
        await server.stop()
    }

    /// Waits until an update after position `from` matches; returns it and its position.
    @discardableResult
    func waitFor<Value>(from start: Int = 0, _ match: (PanelUpdate) -> Value?) async throws -> (Value, Int) {
        var position = start
        while true {
            let current = updates
            while position < current.count {
                if let value = match(current[position]) { return (value, position) }
                position += 1
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for the client to finish its first full read (or the next one after `from`).
    @discardableResult
    func waitForSynchronized(from start: Int = 0) async throws -> Int {
        try await waitFor(from: start) { update in
            if case .connection(.synchronized) = update { return () }
            return nil
        }.1
    }

    /// Waits until the client's snapshot satisfies `condition`.
    func waitForSnapshot(_ condition: (PanelSnapshot) -> Bool) async throws {
        while !condition(client.snapshot) {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
