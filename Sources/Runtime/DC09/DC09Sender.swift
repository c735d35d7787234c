import NIOCore
import NIOPosix

/// Sends one frame to a receiver and waits for its answer, over TCP (the answer cut out by `DC09FrameDecoder`) or
/// UDP (one datagram each way): what a communicator does, for `stam dc09-send` and the tests.
public enum DC09Sender {
    public enum Transport: String, Sendable, CaseIterable {
        case tcp
        case udp
    }

    public struct NoAnswer: Error, CustomStringConvertible {
        public var description: String
    }

    /// The answer's bytes between its LF and CR.
    public static func send(_ frame: [UInt8], host: String, port: Int, transport: Transport, timeout: Duration) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            group.addTask {
                switch transport {
                case .tcp: try await sendTCP(frame, host: host, port: port)
                case .udp: try await sendUDP(frame, host: host, port: port)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw NoAnswer(description: "no answer from \(host):\(port) over \(transport.rawValue) within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next() else { throw NoAnswer(description: "no answer") }
            return answer
        }
    }

    static func sendTCP(_ frame: [UInt8], host: String, port: Int) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DC09FrameDecoder()))
                return try NIOAsyncChannel<DC09StreamItem, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: frame))
            for try await item in inbound {
                if case .frame(let answer) = item { return answer }
            }
            throw NoAnswer(description: "\(host):\(port) closed the connection without an answer")
        }
    }

    static func sendUDP(_ frame: [UInt8], host: String, port: Int) async throws -> [UInt8] {
        let target = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: target.protocol == .inet6 ? "::" : "0.0.0.0", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: frame)))
            for try await envelope in inbound {
                var data = envelope.data
                let bytes = data.readBytes(length: data.readableBytes) ?? []
                guard let answer = DC09FrameDecoder.datagramFrame(bytes) else { continue }
                return answer
            }
            throw NoAnswer(description: "no datagram from \(host):\(port)")
        }
    }
}
