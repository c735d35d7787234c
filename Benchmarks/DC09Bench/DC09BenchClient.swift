import DC09
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The communicators: one persistent TCP connection per account, as a communicator keeps its path to the receiver open,
/// all opened before the window. A connection the receiver closed (it does when a store fails, so the sender retries at
/// once) is opened again for that account's next frame, as a communicator would; its frames still waiting are lost.
/// `send` is called from one task only (the pass's schedule), so an account's frames are written in plan order.
final class DC09BenchClient: Sendable {
    private enum Slot: Sendable {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
    }

    private let group: any EventLoopGroup
    private let port: Int
    private let recorder: DC09BenchRecorder
    private let slots: NIOLockedValueBox<[Slot]>
    private let reopened = NIOLockedValueBox(0)

    init(accounts: Int, port: Int, group: any EventLoopGroup, recorder: DC09BenchRecorder) {
        self.group = group
        self.port = port
        self.recorder = recorder
        slots = NIOLockedValueBox(Array(repeating: .idle, count: accounts))
    }

    /// Connections opened again after the receiver closed one.
    var reconnections: Int { reopened.withLockedValue { $0 } }

    /// Opens every account's connection, 100 at a time (the receiver's listen backlog is 256).
    func connectAll() async throws {
        let count = slots.withLockedValue { $0.count }
        for first in stride(from: 0, to: count, by: 100) {
            let futures = (first..<min(count, first + 100)).map { connect(account: $0) }
            for future in futures { _ = try await future.get() }
        }
    }

    func send(_ frame: DC09OutgoingFrame, account: Int) {
        let slot = slots.withLockedValue { $0[account] }
        let target: EventLoopFuture<any Channel>
        switch slot {
        case .connected(let channel) where channel.isActive:
            write(frame, to: channel)
            return
        case .connecting(let future):
            target = future
        case .connected, .idle:
            reopened.withLockedValue { $0 += 1 }
            target = connect(account: account)
        }
        let recorder = recorder
        target.whenComplete { result in
            switch result {
            case .success(let channel): self.write(frame, to: channel)
            case .failure: recorder.record(frame.id, .notSent)
            }
        }
    }

    private func write(_ frame: DC09OutgoingFrame, to channel: any Channel) {
        let recorder = recorder
        // A write that fails never reached the handler's queue (or the connection closed under it): no answer will come.
        channel.writeAndFlush(frame).whenFailure { _ in recorder.record(frame.id, .connectionClosed) }
    }

    private func connect(account: Int) -> EventLoopFuture<any Channel> {
        let recorder = recorder
        let future = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DC09FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(DC09AnswerHandler(recorder: recorder))
                }
            }
            .connect(host: "127.0.0.1", port: port)
        slots.withLockedValue { $0[account] = .connecting(future) }
        // Registered after the slot is set, so the completion always finds it (it never runs inline: we are not on the loop).
        future.whenComplete { [slots] result in
            slots.withLockedValue { slots in
                switch result {
                case .success(let channel): slots[account] = .connected(channel)
                case .failure: slots[account] = .idle
                }
            }
        }
        return future
    }

    func closeAll() async {
        let channels = slots.withLockedValue { slots in
            defer { slots = Array(repeating: .idle, count: slots.count) }
            return slots.compactMap { slot -> (any Channel)? in
                if case .connected(let channel) = slot { return channel }
                return nil
            }
        }
        for channel in channels { try? await channel.close() }
    }
}
