import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The backend's connections: hummingbird-websocket's HTTP/1.1 channel with the upgrade on `/ws`, and a
/// `FirstRequestGuard` in front of its upgrade handler, so a first request that does not parse, or does not arrive,
/// is answered and closed instead of held open unanswered.
struct BackendServerChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let upgrade: HTTP1WebSocketUpgradeChannel.Value
        let firstRequest: EventLoopFuture<FirstRequestGuard.Outcome>
        var channel: any Channel { upgrade.channel }
    }

    let upgrade: HTTP1WebSocketUpgradeChannel
    /// nginx waits 60 s for a client's head (`client_header_timeout`) and sends the backend a whole one at once.
    let firstRequestTimeout: TimeAmount
    let onRejected: @Sendable (FirstRequestGuard.Rejection) -> Void

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        upgrade.setup(channel: channel, logger: logger).flatMapThrowing { [firstRequestTimeout, onRejected] value in
            let outcome = channel.eventLoop.makePromise(of: FirstRequestGuard.Outcome.self)
            let pipeline = channel.pipeline.syncOperations
            let upgradeHandler = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(FirstRequestGuard(outcome: outcome, timeout: firstRequestTimeout, logger: logger, onRejected: onRejected),
                                    position: .before(upgradeHandler))
            return Value(upgrade: value, firstRequest: outcome.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        // Rejected or closed before a head: the guard has answered (or there is no one to answer); the upgrade
        // handler's result would only fail once the channel is gone.
        guard (try? await value.firstRequest.get()) == .headParsed else { return }
        await upgrade.handle(value: value.upgrade, logger: logger)
    }
}
