import Foundation

/// A TCP port on 127.0.0.1 that nothing listens on right now, chosen by the kernel (bind to port 0).
public enum FreePort {
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalProcess.LaunchError(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LocalProcess.LaunchError(description: "bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a port can be bound on 127.0.0.1 right now.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// `count` consecutive free ports on 127.0.0.1 (the panel simulator listens on P...P+count-1). Searched
    /// below the kernel's ephemeral range (32768 and up on Debian), where outgoing connections of the
    /// processes about to start cannot take one between this check and the simulator's bind.
    public static func consecutive(count: Int) throws -> Int {
        let (lowest, highest) = (10_000, 32_767 - count)
        guard highest > lowest else { throw LocalProcess.LaunchError(description: "no room for \(count) consecutive ports below 32768") }
        for _ in 0..<200 {
            let first = Int.random(in: lowest...highest)
            if (first..<first + count).allSatisfy(isFree) { return first }
        }
        throw LocalProcess.LaunchError(description: "found no \(count) consecutive free ports below 32768 on 127.0.0.1")
    }
}
