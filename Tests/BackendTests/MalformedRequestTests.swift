import APISupport
import Backend
import DevStack
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Requests that never reach a route, sent as raw bytes to the backend as `stam backend` serves it (the WebSocket
/// upgrade channel included, which is where the first request of a connection is parsed). Each must get an answer
/// and a closed connection: before `FirstRequestGuard`, a NUL byte in a header value or a space in a header name got
/// neither, and the client waited until its own timeout.
@Suite struct MalformedRequestTests {
    let logger = Logger(label: "test.malformed")

    func withBackend(metrics: BackendMetrics, firstRequestTimeout: TimeAmount = .seconds(30),
                     _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router(context: StamRequestContext.self)
        router.get("/ping") { _, _ in "pong" }
        let application = BackendApplication.make(router: router, live: nil, host: "127.0.0.1", port: 0, metrics: metrics,
                                                  firstRequestTimeout: firstRequestTimeout, logger: logger)
        try await application.test(.live) { client in try await body(try #require(client.port)) }
    }

    /// Everything the server sends until it closes; a server that neither answers nor closes fails the read after 10 s.
    static func exchange(_ bytes: String, port: Int) async throws -> String {
        try await LoopbackSocket.onOwnThread {
            let socket = try LoopbackSocket(port: port, timeout: 10)
            try socket.send(bytes)
            return String(decoding: try socket.receive(), as: UTF8.self)
        }
    }

    static func metric(_ metrics: BackendMetrics, reason: String) -> String? {
        String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(#"stam_http_requests_rejected_total{reason="\#(reason)"}"#) }
            .map { String($0.split(separator: " ").last ?? "") }
    }

    @Test(arguments: [
        "X-Probe: a\u{0}b",  // schemathesis's "NULL byte in headers"
        "X Probe: b",  // a space in a header name
        "X-Probe b",  // a header line without a colon
    ])
    func aFirstRequestWhoseHeadDoesNotParseIsAnswered400AndClosed(header: String) async throws {
        let metrics = BackendMetrics()
        try await withBackend(metrics: metrics) { port in
            let answer = try await Self.exchange("GET /ping HTTP/1.1\r\nHost: stam\r\n\(header)\r\n\r\n", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer.debugDescription)")
            #expect(answer.lowercased().contains("connection: close"))
            #expect(answer.contains(#""code":"malformed_request""#))
            let requestID = answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id: ") }?.dropFirst(14)
            #expect(requestID.map { answer.contains("request id \($0)") } == true, "the body quotes the request id of the header")
            #expect(Self.metric(metrics, reason: "malformed_request") == "1")
            // The server keeps serving.
            let good = try await Self.exchange("GET /ping HTTP/1.1\r\nHost: stam\r\nConnection: close\r\n\r\n", port: port)
            #expect(good.hasPrefix("HTTP/1.1 200 OK\r\n") && good.hasSuffix("pong"), "\(good.debugDescription)")
        }
    }

    @Test func aMalformedSecondRequestOnAKeptAliveConnectionIsAnswered400AfterTheFirstIsServed() async throws {
        let metrics = BackendMetrics()
        try await withBackend(metrics: metrics) { port in
            let answer = try await Self.exchange(
                "GET /ping HTTP/1.1\r\nHost: stam\r\n\r\nGET /ping HTTP/1.1\r\nHost: stam\r\nX-Probe: a\u{0}b\r\n\r\n", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer.debugDescription)")
            #expect(answer.contains("\r\n\r\npongHTTP/1.1 400 Bad Request\r\n"), "\(answer.debugDescription)")
            // The second request is Hummingbird's to answer: the guard has left the connection after the first head.
            #expect(Self.metric(metrics, reason: "malformed_request") == nil)
        }
    }

    @Test func aFirstRequestHeadThatNeverCompletesIsAnswered408AndClosed() async throws {
        let metrics = BackendMetrics()
        try await withBackend(metrics: metrics, firstRequestTimeout: .milliseconds(500)) { port in
            let answer = try await Self.exchange("GET /ping HTTP/1.1\r\nHost: st", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer.debugDescription)")
            #expect(answer.contains(#""code":"header_timeout""#))
            // The test harness's own client connection, idle, may be counted too.
            #expect(Self.metric(metrics, reason: "header_timeout").flatMap { Int($0) }.map { $0 >= 1 } == true)
        }
    }

    @Test func aConnectionThatSendsNothingIsClosedAfterTheFirstRequestTimeoutToo() async throws {
        let metrics = BackendMetrics()
        try await withBackend(metrics: metrics, firstRequestTimeout: .milliseconds(500)) { port in
            let answer = try await Self.exchange("", port: port)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer.debugDescription)")
        }
    }
}
