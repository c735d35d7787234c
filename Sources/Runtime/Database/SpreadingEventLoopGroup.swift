import Dispatch
import NIOCore
import NIOPosix

/// NIO's singleton event loops with `any()` meaning `next()`: every new connection of a pool goes to the next loop.
///
/// Why: a process that runs Swift concurrency on NIO's loops (the backend,
/// `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`) runs the pool's own task on one loop,
/// and `any()` is sticky to the calling loop, so postgres-nio's `ConnectionFactory` put every connection on that
/// one loop and every request resumed there after its query: one core busy, the other a quarter idle (ApiBench's
/// profile, `API_BENCH_PROFILE=1`).
public final class SpreadingEventLoopGroup: EventLoopGroup, Sendable {
    public static let singleton = SpreadingEventLoopGroup(MultiThreadedEventLoopGroup.singleton)

    private let base: MultiThreadedEventLoopGroup

    init(_ base: MultiThreadedEventLoopGroup) {
        self.base = base
    }

    public func next() -> any EventLoop { base.next() }

    public func any() -> any EventLoop { base.next() }

    public func makeIterator() -> EventLoopIterator { base.makeIterator() }

    public func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        base.shutdownGracefully(queue: queue, callback)
    }
}
