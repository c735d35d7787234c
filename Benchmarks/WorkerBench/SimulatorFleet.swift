import DevStack
import Foundation

/// The simulated panels of one run, spread over as many `stam simulator` processes as the descriptor limit needs: a
/// simulator holds a listener and a connection per panel, and a process here may open 20,000 descriptors at most, so
/// one process serves up to `panelsPerProcess` panels. Panel `i` (0-based) of the run is panel `i % panelsPerProcess +
/// 1` of simulator `i / panelsPerProcess`; each simulator has a block of consecutive ports and a control port.
struct SimulatorFleet {
    static let panelsPerProcess = 5000

    let processes: [LocalProcess]
    let controls: [SimulatorControl]
    /// The TCP port of each panel, by run index.
    let ports: [Int]

    static func launch(panels: Int, name: String, stack: WorkerBenchStack, stamBinary: String, cleanup: RunCleanup,
                       connect: (Int, LocalProcess) async throws -> SimulatorControl) async throws -> SimulatorFleet {
        var processes: [LocalProcess] = []
        var controls: [SimulatorControl] = []
        var ports: [Int] = []
        var first = 0
        while first < panels {
            let count = min(panelsPerProcess, panels - first)
            let base = try FreePort.consecutive(count: count)
            let controlPort = try FreePort.find()
            let process = try stack.launch(
                name: processes.isEmpty ? name : "\(name) \(processes.count + 1)", executable: stamBinary,
                arguments: ["simulator", "--host", "127.0.0.1", "--port", String(base), "--panels", String(count),
                            "--control-port", String(controlPort)],
                environment: stack.childEnvironment)
            cleanup.add(process)
            processes.append(process)
            controls.append(try await connect(controlPort, process))
            ports += (0..<count).map { base + $0 }
            first += count
        }
        return SimulatorFleet(processes: processes, controls: controls, ports: ports)
    }

    /// A control line for run panel `panel` (0-based); `line` gets the simulator's own panel number.
    func send(panel: Int, _ line: (Int) -> String) async throws -> String {
        try await controls[panel / Self.panelsPerProcess].send(line(panel % Self.panelsPerProcess + 1))
    }

    /// A line for every simulator (`{ panel: 0, ... }` forms), the answers in order.
    func sendToAll(_ line: String) async throws -> [String] {
        var answers: [String] = []
        for control in controls { answers.append(try await control.send(line)) }
        return answers
    }

    var pids: [pid_t] { processes.map(\.pid) }

    func close() async {
        for control in controls { await control.close() }
    }
}
