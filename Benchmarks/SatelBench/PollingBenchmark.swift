import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Satel
import SatelSimulator

/// Many `SatelClient`s polling simulated panels at 1 Hz, the simulator in a child process so the
/// client's CPU and memory are its own.
struct PollingBenchmark {
    struct Result {
        var panels: Int
        var synchronized: Int
        var seconds: Double
        var requestsPerSecond: Double
        var clientCPUPercent: Double
        var clientRSSBytes: Int
        var clientRSSBeforeBytes: Int
        var simulatorCPUPercent: Double
        var simulatorRSSBytes: Int
        var reconnects: Int
    }

    var panels: Int
    var seconds: Double

    func run() async throws -> Result {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["simulator", "--panels", String(panels)]
        let toChild = Pipe()
        let fromChild = Pipe()
        child.standardInput = toChild
        child.standardOutput = fromChild
        try child.run()
        defer {
            try? toChild.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
            child.waitUntilExit()
        }
        let lines = LineReader(handle: fromChild.fileHandleForReading)
        guard let ready = lines.next(), ready.hasPrefix("READY ") else {
            throw BenchmarkError(message: "simulator did not start")
        }
        let ports = ready.dropFirst(6).split(separator: ",").compactMap { Int($0) }
        let before = ProcessUsage.current!

        let clients = ports.map { port in
            SatelClient(
                configuration: SatelClientConfiguration(host: "127.0.0.1", port: port, pollInterval: .seconds(1)),
                bufferingPolicy: .bufferingNewest(1))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.run() }
            }
            // Wait until every client has done its first full read (or give up after 60 s).
            let deadline = ContinuousClock.now + .seconds(60)
            var synchronized = 0
            while ContinuousClock.now < deadline {
                synchronized = clients.count { $0.snapshot.clock != nil }
                if synchronized == clients.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            // Let the connection burst settle, then measure a steady window.
            try await Task.sleep(for: .seconds(2))
            let requestsBefore = try stats(lines: lines, pipe: toChild)
            let clientStart = ProcessUsage.current!
            let simulatorStart = ProcessUsage.of(pid: child.processIdentifier)!
            let start = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            let elapsed = ContinuousClock.now - start
            let clientEnd = ProcessUsage.current!
            let simulatorEnd = ProcessUsage.of(pid: child.processIdentifier)!
            let requestsAfter = try stats(lines: lines, pipe: toChild)
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            for client in clients {
                client.shutdown()
            }
            try await group.waitForAll()
            return Result(
                panels: clients.count, synchronized: synchronized, seconds: wall,
                requestsPerSecond: Double(requestsAfter.frames - requestsBefore.frames) / wall,
                clientCPUPercent: (clientEnd.cpuSeconds - clientStart.cpuSeconds) / wall * 100,
                clientRSSBytes: clientEnd.residentBytes, clientRSSBeforeBytes: before.residentBytes,
                simulatorCPUPercent: (simulatorEnd.cpuSeconds - simulatorStart.cpuSeconds) / wall * 100,
                simulatorRSSBytes: simulatorEnd.residentBytes,
                reconnects: requestsAfter.connections - clients.count)
        }
    }

    private func stats(lines: LineReader, pipe: Pipe) throws -> (frames: Int, connections: Int) {
        try pipe.fileHandleForWriting.write(contentsOf: Data("stats\n".utf8))
        guard let line = lines.next(), line.hasPrefix("STATS ") else { throw BenchmarkError(message: "no stats from simulator") }
        let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
        return (numbers[0], numbers[1])
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Blocking line reader over a pipe (the benchmark talks to its child in lines).
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(handle: FileHandle) {
        self.handle = handle
    }

    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }
}
