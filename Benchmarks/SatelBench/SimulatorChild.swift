import Foundation
import NIOCore
import Satel
import SatelSimulator

/// The simulator side of the polling benchmark, run as `SatelBench simulator --panels N` in its own process.
/// It prints `READY <ports>` once listening, answers `stats` on standard input, and exits on `quit` or EOF.
enum SimulatorChild {
    static func run(panels: Int) async throws {
        let server = SimulatorServer(configuration: SimulatorConfiguration(port: 0, panelCount: panels, idleTimeout: .seconds(25)))
        let ports = try await server.start()
        say("READY " + ports.map(String.init).joined(separator: ","))
        while let line = readLine() {
            if line == "stats" {
                var received = 0
                var connections = 0
                for panel in server.panels {
                    let statistics = try await panel.statistics()
                    received += statistics.framesReceived
                    connections += statistics.connectionsAccepted
                }
                say("STATS \(received) \(connections)")
            } else if line == "quit" {
                break
            }
        }
        await server.stop()
    }

    /// One line to the parent, unbuffered: it waits for it.
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
