import NIOCore
import NIOPosix

/// A client of `stam simulator`'s line-based control port: one line out, one line back, in order.
final class SimulatorControl: Sendable {
    private let channel: any Channel

    init(port: Int) async throws {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SimulatorControlReplyHandler())
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
    }

    /// Sends one command line and returns the simulator's answer (`ok`, `state …`, `changes …`, `error: …`).
    func send(_ line: String) async throws -> String {
        let reply = channel.eventLoop.makePromise(of: String.self)
        channel.writeAndFlush(SimulatorControlReplyHandler.Request(line: line, reply: reply)).whenFailure { reply.fail($0) }
        return try await reply.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}
