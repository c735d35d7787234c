import Foundation

/// `count` consecutive free TCP ports on 127.0.0.1: `stam simulator --port P --panels N` listens on
/// P…P+N-1. Searched below the kernel's ephemeral range (32768 and up on Debian), where the worker's own
/// outgoing connections cannot take one between the check and the simulator's bind.
enum PortRange {
    static func findFree(count: Int) throws -> Int {
        let lowest = 10_000
        let highest = 32_767 - count
        guard highest > lowest else { throw WorkerBenchError("no room for \(count) consecutive ports below 32768") }
        for _ in 0..<50 {
            let base = Int.random(in: lowest...highest)
            if (base..<(base + count)).allSatisfy(isFree) { return base }
        }
        throw WorkerBenchError("found no \(count) consecutive free ports below 32768")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
