import NIOCore
import NIOPosix
@testable import Satel

/// A bare TCP connection to a simulator that sends frames and collects raw bytes and decoded items, so
/// tests can see exactly what the module put on the wire.
struct RawPanelConnection {
    let channel: any Channel
    private var iterator: AsyncStream<ByteBuffer>.AsyncIterator
    private let processor = NIOSingleStepByteToMessageProcessor(SatelFrameDecoder())
    private(set) var rawBytes: [UInt8] = []
    private(set) var items: [SatelDecodedItem] = []
    private(set) var closedByPeer = false

    static func connect(port: Int) async throws -> RawPanelConnection {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamingHandler(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawPanelConnection(channel: channel, iterator: stream.makeAsyncIterator())
    }

    func send(_ request: SatelRequest) async throws {
        try await send(bytes: request.frame.wireBytes)
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Reads until `count` decoded items have arrived or the peer closed. Tests bound the wait with
    /// `.timeLimit`, so there is no clock here.
    mutating func receive(items count: Int) async throws -> [SatelDecodedItem] {
        while items.count < count && !closedByPeer {
            try await readOnce()
        }
        return items
    }

    /// Reads whatever arrives next.
    mutating func receiveSome() async throws {
        try await readOnce()
    }

    /// Reads until the peer closes the connection.
    mutating func receiveUntilClosed() async throws {
        while !closedByPeer {
            try await readOnce()
        }
    }

    /// The decoded frames as typed answers.
    var responses: [SatelResponse] {
        get throws {
            try items.compactMap { item in
                if case .frame(let frame) = item { return try SatelResponse(frame: frame) }
                return nil
            }
        }
    }

    func close() async {
        try? await channel.close()
    }

    private mutating func readOnce() async throws {
        let next = await iterator.next()
        switch next {
        case .none:
            closedByPeer = true
            var collected: [SatelDecodedItem] = []
            try processor.finishProcessing(seenEOF: true) { collected.append($0) }
            items += collected
        case .some(let buffer):
            rawBytes += Array(buffer.readableBytesView)
            var collected: [SatelDecodedItem] = []
            try processor.process(buffer: buffer) { collected.append($0) }
            items += collected
        }
    }
}

/// Hands every read to an `AsyncStream` and finishes it when the connection closes.
final class StreamingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncStream<ByteBuffer>.Continuation

    init(continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
