import APISupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Watches a connection until its first request head has parsed, the stretch in which hummingbird-websocket's
/// upgrade handler owns it and answers nothing: a head NIO cannot parse (a NUL byte in a value, a space in a header
/// name) left the client waiting with the connection open for ever, and a client that never finished its head kept a
/// connection for ever. Here the first is answered 400 and the second 408, each with a request id, counted and
/// logged, and the connection closed. Once a head has passed, this handler leaves the pipeline: later requests are
/// Hummingbird's, which answers a parse error 400 itself.
final class FirstRequestGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// How the watch ended; `BackendServerChannel` hands the connection to the upgrade handler only on `.headParsed`.
    enum Outcome: Sendable, Equatable {
        case headParsed
        case rejected(Rejection)
        case closedByClient
    }

    enum Rejection: String, Sendable {
        /// The head did not parse: answered 400.
        case malformedRequest = "malformed_request"
        /// No complete head within the time allowed: answered 408.
        case headerTimeout = "header_timeout"
    }

    private let outcome: EventLoopPromise<Outcome>
    private let timeout: TimeAmount
    private let logger: Logger
    private let onRejected: @Sendable (Rejection) -> Void
    private var settled = false
    private var timer: Scheduled<Void>?

    init(outcome: EventLoopPromise<Outcome>, timeout: TimeAmount, logger: Logger, onRejected: @escaping @Sendable (Rejection) -> Void) {
        self.outcome = outcome
        self.timeout = timeout
        self.logger = logger
        self.onRejected = onRejected
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.reject(.headerTimeout, context: context, detail: "no complete request head within \(Duration.nanoseconds(handler.timeout.nanoseconds))")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(.closedByClient)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !settled else { return }
        if case .head = unwrapInboundIn(data) {
            settle(.headParsed)
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } else {
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !settled, error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        reject(.malformedRequest, context: context, detail: String(describing: error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(.closedByClient)
        context.fireChannelInactive()
    }

    private func reject(_ rejection: Rejection, context: ChannelHandlerContext, detail: String) {
        guard !settled else { return }
        settle(.rejected(rejection))
        let requestID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "request_id"] = .string(requestID)
        logger.notice("request rejected before routing", metadata: [
            "reason": .string(rejection.rawValue), "detail": .string(detail),
            "peer": .string(context.remoteAddress.map { "\($0)" } ?? "unknown"),
        ])
        onRejected(rejection)
        let answer = switch rejection {
        case .malformedRequest:
            APIError(status: .badRequest, code: rejection.rawValue, message: "the request head is not valid HTTP/1.1; request id \(requestID)")
        case .headerTimeout:
            APIError(status: .requestTimeout, code: rejection.rawValue, message: "the request head did not arrive in time; request id \(requestID)")
        }
        let body = ByteBuffer(bytes: (try? answer.body()) ?? Data())
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status.code), headers: [
            "Content-Type": "application/json; charset=utf-8", "Content-Length": String(body.readableBytes),
            "Connection": "close", "X-Request-ID": requestID,
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func settle(_ result: Outcome) {
        guard !settled else { return }
        settled = true
        timer?.cancel()
        outcome.succeed(result)
    }
}
