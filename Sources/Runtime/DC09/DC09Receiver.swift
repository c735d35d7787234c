import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `stam receiver`'s listener: DC-09 over TCP and UDP on the same port, as communicators are configured with one
/// address per path. A TCP connection may carry many frames and a read several frames or part of one
/// (`DC09FrameDecoder`); a datagram is one frame. Connections are served at once, each frame answered in order on
/// its connection; a connection idle past `idleTimeout` is closed. Every frame goes through `DC09FrameHandler`.
public final class DC09Receiver: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0: any free port (tests); `boundPort` says which.
        public var port: Int
        public var idleTimeout: Duration

        public init(host: String, port: Int, idleTimeout: Duration = .seconds(120)) {
            self.host = host
            self.port = port
            self.idleTimeout = idleTimeout
        }
    }

    let configuration: Configuration
    let handler: DC09FrameHandler
    let logger: Logger
    /// Called for every frame and every run of dropped bytes, for the metrics.
    let observe: @Sendable (DC09ReceiverObservation) -> Void
    private let bound = NIOLockedValueBox<Int?>(nil)

    public init(configuration: Configuration, handler: DC09FrameHandler, logger: Logger,
                observe: @escaping @Sendable (DC09ReceiverObservation) -> Void = { _ in }) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.observe = observe
    }

    /// The port both listeners are on, once they are.
    public var boundPort: Int? { bound.withLockedValue { $0 } }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let idleTimeout = TimeAmount.nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000
                                                 + configuration.idleTimeout.components.attoseconds / 1_000_000_000)
        // Any free port (0): the one TCP got may be taken for UDP; then both are given up and another tried.
        var attempt = 0
        var listeners: (TCPListener, UDPListener, Int)?
        while listeners == nil {
            attempt += 1
            let server = try await bindTCP(group: group, idleTimeout: idleTimeout)
            guard let port = server.channel.localAddress?.port else { throw DC09ReceiverError(message: "the TCP listener has no port") }
            do {
                listeners = (server, try await bindUDP(group: group, port: port), port)
            } catch where configuration.port == 0 && attempt < 10 {
                try? await server.channel.close()
            }
        }
        guard let (server, datagrams, port) = listeners else { return }
        bound.withLockedValue { $0 = port }
        logger.info("DC-09 receiver listening", metadata: ["address": "\(configuration.host):\(port)", "transports": "tcp, udp"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.serveTCP(server) }
                group.addTask { try await self.serveUDP(datagrams) }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            datagrams.channel.close(promise: nil)
        }
    }

    typealias TCPListener = NIOAsyncChannel<NIOAsyncChannel<DC09StreamItem, ByteBuffer>, Never>
    typealias UDPListener = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    func bindTCP(group: MultiThreadedEventLoopGroup, idleTimeout: TimeAmount) async throws -> TCPListener {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DC09FrameDecoder()))
                    return try NIOAsyncChannel<DC09StreamItem, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    func bindUDP(group: MultiThreadedEventLoopGroup, port: Int) async throws -> UDPListener {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: configuration.host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try UDPListener(wrappingChannelSynchronously: channel)
                }
            }
    }

    func serveTCP(_ server: TCPListener) async throws {
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    func serve(_ connection: NIOAsyncChannel<DC09StreamItem, ByteBuffer>) async {
        let peer = Self.peer(connection.channel.remoteAddress)
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await item in inbound {
                    switch item {
                    case .frame(let body):
                        let (answer, report) = await handler.handle(body, transport: .tcp, peer: peer)
                        observe(.frame(report))
                        // Not stored: close, so the sender retries at once instead of waiting for its timeout.
                        guard let answer else { return }
                        try await outbound.write(ByteBuffer(bytes: answer))
                    case .discarded(let count, let reason):
                        observe(.discarded(byteCount: count, reason: reason))
                        logger.notice("DC-09 bytes dropped", metadata: ["peer": .string(peer), "bytes": "\(count)", "reason": .string(reason.rawValue)])
                    }
                }
            }
        } catch {
            logger.debug("DC-09 connection ended: \(error)", metadata: ["peer": .string(peer)])
        }
    }

    /// `address:port`, as the log, the stored message and the security log name a sender.
    static func peer(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress else { return "?" }
        return "\(ip):\(address.port ?? 0)"
    }

    func serveUDP(_ channel: UDPListener) async throws {
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await envelope in inbound {
                    group.addTask {
                        var data = envelope.data
                        let bytes = data.readBytes(length: data.readableBytes) ?? []
                        let peer = Self.peer(envelope.remoteAddress)
                        guard let body = DC09FrameDecoder.datagramFrame(bytes) else {
                            self.observe(.discarded(byteCount: bytes.count, reason: .beforeFrame))
                            self.logger.notice("DC-09 datagram that is not a frame dropped", metadata: ["peer": .string(peer), "bytes": "\(bytes.count)"])
                            return
                        }
                        let (answer, report) = await self.handler.handle(body, transport: .udp, peer: peer)
                        self.observe(.frame(report))
                        guard let answer else { return }
                        try? await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: answer)))
                    }
                }
            }
        }
    }
}

/// What `DC09Receiver` reports for the metrics.
public enum DC09ReceiverObservation: Sendable, Hashable {
    case frame(DC09FrameReport)
    case discarded(byteCount: Int, reason: DC09StreamItem.DiscardReason)
}

public struct DC09ReceiverError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// Closes a connection on `IdleStateHandler`'s read timeout: a communicator that holds a connection without sending
/// does not hold it for ever.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
