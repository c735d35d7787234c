import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 GET over a real loopback socket: the local stack's health probes and the tests' view
/// of servers from outside. The blocking socket calls run on a thread of their own: on the cooperative pool
/// they could starve the very server handlers they wait for (two cores).
public struct HTTPGet {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
    }

    /// - Parameter timeout: for the connection's reads (a server that accepts and never answers).
    public static func get(port: Int, host: String = "127.0.0.1", path: String, timeout: Int = 30) async throws -> Response {
        try await LoopbackSocket.onOwnThread {
            let socket = try LoopbackSocket(port: port, host: host, timeout: timeout)
            try socket.send("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            return try parse(try socket.receive())
        }
    }

    static func parse(_ data: [UInt8]) throws -> Response {
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw LoopbackSocket.Failure(description: "no header end in \(text)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw LoopbackSocket.Failure(description: "bad status line in \(text)") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var body = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let utf8 = rest.utf8
            let end = utf8.index(start, offsetBy: size)
            body += String(rest[start..<end])
            rest = rest[end...].dropFirst(2)
        }
        return body
    }
}
