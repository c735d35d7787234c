import NIOCore
import NIOPosix

/// Publishes a container's port on the host's loopback, as the compose file's `ports:` does for nginx: every
/// connection to 127.0.0.1:`listenPort` is relayed byte for byte to `targetHost`:`targetPort` on the stack's
/// bridge (TLS and WebSockets pass through untouched). A relay ends when either side closes.
struct PortPublisher: Sendable {
    let listenPort: Int
    let targetHost: String
    let targetPort: Int

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: listenPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { clients in
                for try await client in clients {
                    group.addTask { await relay(client) }
                }
            }
        }
    }

    private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            let upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: targetHost, port: targetPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await client.executeThenClose { clientInbound, clientOutbound in
                try await upstream.executeThenClose { upstreamInbound, upstreamOutbound in
                    try await withThrowingTaskGroup(of: Void.self) { directions in
                        directions.addTask { for try await bytes in clientInbound { try await upstreamOutbound.write(bytes) } }
                        directions.addTask { for try await bytes in upstreamInbound { try await clientOutbound.write(bytes) } }
                        try await directions.next()
                        directions.cancelAll()
                    }
                }
            }
        } catch {
            try? await client.channel.close()
        }
    }
}
