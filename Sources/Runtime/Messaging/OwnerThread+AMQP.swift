import Foundation
import StamCore

extension OwnerThread {
    /// An owner thread for an AMQP connection: calls after shutdown fail with `AMQPError.disconnected`.
    convenience init(name: String, idleInterval: TimeInterval = 1, onIdle: (() -> Void)? = nil) {
        self.init(name: name, idleInterval: idleInterval,
                  shutDownError: { AMQPError(code: .disconnected, message: "the connection was shut down") },
                  onIdle: onIdle)
    }
}
