import Foundation
import DevStack
import Logging

/// The local stack's demo: every panel's partitions armed once at start (as if someone left the premises),
/// then every `interval` one panel in turn sees zone 3 (a burglary zone of partition 1) violated and, ten
/// seconds later, restored. Each violation of an armed zone is an alarm record in the panel's event log,
/// which the worker turns into an Alarm: an operator watching the console sees one arrive every interval.
/// Through the simulator's control port, the same way a developer would (`nc 127.0.0.1 PORT`).
struct DemoScenario: Sendable {
    static let zone = 3

    let controlPort: Int
    var controlHost = "127.0.0.1"
    let panelCount: Int
    let interval: Duration
    let logger: Logger

    func prepare() async throws {
        let answer = try await ControlLine.send("{ panel: 0, action: arm, partitions: [1, 2, 3, 4], mode: 0, user: 1 }", port: controlPort, host: controlHost)
        guard answer.hasPrefix("ok") else { throw LocalProcess.LaunchError(description: "the panel simulator refused to arm: \(answer)") }
    }

    func run() async throws {
        var panel = 0
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            panel = panel % panelCount + 1
            do {
                _ = try await ControlLine.send("{ panel: \(panel), action: violate-zone, zone: \(Self.zone) }", port: controlPort, host: controlHost)
                logger.info("demo: zone violated", metadata: ["panel": "\(panel)", "zone": "\(Self.zone)"])
                try await Task.sleep(for: .seconds(10))
                _ = try await ControlLine.send("{ panel: \(panel), action: restore-zone, zone: \(Self.zone) }", port: controlPort, host: controlHost)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("demo: the panel simulator did not answer", metadata: ["error": "\(error)"])
            }
        }
    }
}
