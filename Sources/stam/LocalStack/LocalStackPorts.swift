import Foundation
import DevStack

/// The loopback ports of the local stack, chosen free on first use and kept in `ports.json`, so a second
/// run finds its data where it left it (RabbitMQ's node name, and so its data directory, carries its port;
/// the panels registered in the database carry the simulator's ports). A remembered port that another
/// program took meanwhile is replaced by a new free one.
final class LocalStackPorts {
    private let file: String
    private var ports: [String: Int]

    init(file: String) {
        self.file = file
        let data = FileManager.default.contents(atPath: file)
        ports = data.flatMap { try? JSONDecoder().decode([String: Int].self, from: $0) } ?? [:]
    }

    func port(_ name: String) throws -> Int {
        if let port = ports[name], FreePort.isFree(port) { return port }
        let port = try FreePort.find()
        ports[name] = port
        try save()
        return port
    }

    /// `count` consecutive free ports (the simulator serves one panel per port, from its first port up).
    func block(_ name: String, count: Int) throws -> Int {
        if let first = ports[name], ports["\(name).count"] == count, (first..<first + count).allSatisfy(FreePort.isFree) { return first }
        let first = try FreePort.consecutive(count: count)
        ports[name] = first
        ports["\(name).count"] = count
        try save()
        return first
    }

    private func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(ports).write(to: URL(fileURLWithPath: file))
    }
}
