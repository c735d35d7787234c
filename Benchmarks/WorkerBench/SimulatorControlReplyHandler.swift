import NIOCore

/// Writes control lines and completes each one's promise with the next line the simulator sends back (it
/// answers in order, one line per command).
final class SimulatorControlReplyHandler: ChannelDuplexHandler {
    struct Request: Sendable {
        var line: String
        var reply: EventLoopPromise<String>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var waiting: [EventLoopPromise<String>] = []
    private var pending = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.reply)
        context.write(wrapOutboundOut(ByteBuffer(string: request.line + "\n")), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending.readString(length: newline - pending.readerIndex) ?? ""
            pending.moveReaderIndex(forwardBy: 1)
            if !waiting.isEmpty { waiting.removeFirst().succeed(line) }
        }
        pending.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for reply in waiting { reply.fail(WorkerBenchError("the simulator closed its control port")) }
        waiting = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
