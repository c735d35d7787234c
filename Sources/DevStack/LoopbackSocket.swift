import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to a port on 127.0.0.1 (or another IPv4 address), for the small clients of the local stack and the
/// tests (`HTTPGet`, `ControlLine`). Blocking: callers run it on a thread of their own, never on the
/// cooperative pool or an event loop.
public final class LoopbackSocket {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let fd: Int32

    /// - Parameter timeout: seconds a read may wait (a server that accepts and never answers).
    public init(port: Int, host: String = "127.0.0.1", timeout seconds: Int) throws {
        // `fd` is set only once connected: an initialiser that throws after every stored property is set runs
        // `deinit`, which would close the descriptor a second time, by then perhaps another thread's socket (a
        // server being bound on the port this one was refused by: NIO trapped on it in `getsockname`).
        fd = try Self.connect(port: port, host: host, timeout: seconds)
    }

    /// A connected socket, or a throw with nothing left open.
    static func connect(port: Int, host: String, timeout seconds: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect to \(host):\(port) failed: errno \(code)")
        }
        return fd
    }

    deinit { close(fd) }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send failed") }
    }

    /// Reads until the peer closes, or until `stop` says the bytes so far are enough.
    public func receive(until stop: ([UInt8]) -> Bool = { _ in false }) throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stop(data) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 { throw Failure(description: "recv failed: errno \(errno)") }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// Runs blocking socket work on a thread of its own and awaits its result.
    public static func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
        }
    }
}

/// One line to a line-based control port (the panel simulator's) and its one-line answer.
public enum ControlLine {
    public static func send(_ line: String, port: Int, host: String = "127.0.0.1", timeout: Int = 10) async throws -> String {
        try await LoopbackSocket.onOwnThread {
            let socket = try LoopbackSocket(port: port, host: host, timeout: timeout)
            try socket.send(line + "\n")
            let answer = try socket.receive { $0.contains(10) }
            return String(decoding: answer, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        }
    }
}
