import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of a real server, so a test can cut one client off it the way a network
/// does: after `cut()` every byte in either direction is read and dropped (open connections go silent, new
/// ones are accepted and never answered), nothing is closed or refused; `restore()` forwards again on new
/// connections. `hold()` delays instead of dropping. Blocking sockets on threads of its own, never on the
/// cooperative pool.
public final class TCPRelay: @unchecked Sendable {
    public let port: Int
    private let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var isCut = false
    private var isHeld = false
    private var isClosed = false
    private var connections: [Int32] = []

    public init(to targetPort: Int) throws {
        self.targetPort = targetPort
        // Listening before any stored property is set: a throw after that would run `deinit`, which shuts the
        // listener down again, by then perhaps another thread's descriptor.
        (listener, port) = try Self.listen()
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "tcp-relay-accept"
        thread.start()
    }

    private static func listen() throws -> (listener: Int32, port: Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(listener, 64) == 0 else {
            let code = errno
            Glibc.close(listener)
            throw RelayFailure(description: "cannot listen: errno \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Drops everything from now on, in both directions, on every connection.
    public func cut() { lock.withLock { isCut = true } }
    /// Forwards again (connections opened while cut stay dead, as after a real partition).
    public func restore() { lock.withLock { isCut = false } }
    /// Forwards nothing from now on but keeps every byte (new connections are accepted and wait too), as PgBouncer
    /// keeps its clients' queries while the primary is gone; `release()` lets all of it through, late.
    public func hold() { lock.withLock { isHeld = true } }
    public func release() { lock.withLock { isHeld = false } }

    /// Stops listening and ends every connection. Only `shutdown` here: each descriptor is closed by the one
    /// thread that last uses it, so a number the kernel hands out again is never closed twice.
    public func close() {
        lock.withLock {
            guard !isClosed else { return }
            isClosed = true
            shutdown(listener, Int32(SHUT_RDWR))
            for socket in connections { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    deinit { close() }

    private var cutNow: Bool { lock.withLock { isCut } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if lock.withLock({ isClosed }) {
                    Glibc.close(listener)
                    return
                }
                continue
            }
            lock.withLock { connections.append(client) }
            if cutNow {
                Self.start("tcp-relay-drain") { [self] in
                    pump(from: client, to: nil)
                    forget([client])
                }
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(upstream)
                forget([client])
                continue
            }
            lock.withLock { connections.append(upstream) }
            // The second pump to finish closes both descriptors.
            let pumps = Mutex(2)
            let done: @Sendable () -> Void = { [self] in
                let last = pumps.withLock { count -> Bool in
                    count -= 1
                    return count == 0
                }
                if last { forget([client, upstream]) }
            }
            Self.start("tcp-relay-up") { [self] in pump(from: client, to: upstream); done() }
            Self.start("tcp-relay-down") { [self] in pump(from: upstream, to: client); done() }
        }
    }

    private func forget(_ sockets: [Int32]) {
        lock.withLock {
            connections.removeAll { sockets.contains($0) }
            for socket in sockets { Glibc.close(socket) }
        }
    }

    /// Copies until either side closes; while cut, reads and drops.
    private func pump(from source: Int32, to destination: Int32?) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(source, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            guard let destination, !cutNow else { continue }
            while lock.withLock({ isHeld && !isClosed }) { usleep(20_000) }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { break }
                sent += written
            }
        }
        if let destination, !cutNow { shutdown(destination, Int32(SHUT_RDWR)) }
    }

    private static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    struct RelayFailure: Error, CustomStringConvertible {
        var description: String
    }
}
