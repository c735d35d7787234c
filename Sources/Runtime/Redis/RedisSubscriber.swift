import Foundation
import Logging
import ServiceLifecycle
import StamCore

/// A pub/sub connection on its own owner thread: SUBSCRIBE to fixed channels, report what arrives on
/// `events`, and after a lost connection reconnect (with the client's backoff) and subscribe again.
///
/// Redis pub/sub is fire-and-forget: a message published while this subscriber is reconnecting is gone.
/// Use it for wake-ups and live views that can be rebuilt, never for events that must not be lost (those
/// go through the outbox and RabbitMQ).
public final class RedisSubscriber: Service, Sendable {
    public enum Event: Sendable, Hashable {
        /// The server confirmed the subscription (again after every reconnect): from now on messages arrive.
        case subscribed(channel: String)
        case message(channel: String, payload: [UInt8])
    }

    public let channels: [String]
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let slot: RedisConnectionSlot
    private let thread: OwnerThread
    private let stopFlag = StopFlag()
    private let logger: Logger

    public init(configuration: RedisConfiguration, channels: [String], logger: Logger) {
        self.channels = channels
        self.logger = logger
        slot = RedisConnectionSlot(configuration: configuration, logger: logger)
        thread = OwnerThread(name: "redis-subscriber", idleInterval: 60,
                             shutDownError: { RedisError(code: .disconnected, message: "the subscriber was stopped") })
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Receives until cancelled or graceful shutdown, then closes the connection and finishes `events`.
    public func run() async throws {
        let (slot, channels, continuation, stopFlag, logger) = (self.slot, self.channels, self.continuation, self.stopFlag, self.logger)
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                _ = try? await self.thread.run {
                    Self.receive(slot: slot, channels: channels, continuation: continuation, stopFlag: stopFlag, logger: logger)
                }
            } onCancel: {
                stopFlag.stop()
            }
        }
        _ = try? await thread.run { slot.close() }
        thread.shutdown()
        continuation.finish()
    }

    /// The blocking receive loop, on the owner thread. It waits in `poll` for at most 100 ms at a time so a
    /// stop request is noticed promptly without closing the socket from another thread.
    private static func receive(slot: RedisConnectionSlot, channels: [String], continuation: AsyncStream<Event>.Continuation,
                                stopFlag: StopFlag, logger: Logger) {
        var subscribed = false
        while !stopFlag.isStopped {
            do {
                try slot.with { connection in
                    if !subscribed {
                        try connection.send(["SUBSCRIBE"] + channels)
                        subscribed = true
                    }
                    guard let reply = try connection.bufferedReply() ?? (Self.readable(connection.fileDescriptor) ? connection.nextReply() : nil),
                          let parts = reply.array, parts.count == 3, let kind = parts[0].string, let channel = parts[1].string else { return }
                    switch kind {
                    case "subscribe": continuation.yield(.subscribed(channel: channel))
                    case "message":
                        if case .bulk(let payload) = parts[2] { continuation.yield(.message(channel: channel, payload: payload)) }
                    default: break
                    }
                }
            } catch {
                subscribed = false
                logger.debug("subscriber connection failed", metadata: ["error": "\(error)"])
                usleep(20_000)
            }
        }
    }

    private static func readable(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 100) > 0
    }
}

/// A flag one thread sets and another reads.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}
