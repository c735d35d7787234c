/// How a panel's state reaches the client: asked for (`poll`), pushed by the module (`push`, doc §3.7), or pushed
/// when the module serves it and asked for otherwise (`auto`). Modules before ETHM-1 Plus 2.04 do not push.
public enum StateDeliveryMode: String, Hashable, Sendable, CaseIterable {
    case auto
    case push
    case poll
}

/// How the state of one connection is delivered, as the client decided it; reported once per connection, and again
/// when a connection falls back from pushes to polling.
public enum StateDelivery: Hashable, Sendable {
    /// The module accepted monitoring mode (`EF 00`): it pushes the selected states, a keepalive checks it still does.
    case pushed(commands: [UInt8])
    /// The client polls 0x7F; why it does.
    case polled(PollingReason)

    public enum PollingReason: String, Hashable, Sendable {
        /// The panel is configured `poll`.
        case configured
        /// The module answered the monitoring request with an error, or with something other than `EF 00`.
        case refused
        /// The module gave no answer to the monitoring request, yet answered 0x7E right after.
        case unanswered
        /// Configured `auto` or `push`, but none of the watched states could be read from this module (each one
        /// unanswered, so unsupported): there is nothing to ask it to push, and the new-data flags are polled.
        case nothingToWatch = "nothing-to-watch"
        /// A keepalive found a monitored state flagged "new data", and reading it brought a change the module had not
        /// pushed.
        case stoppedPushing = "stopped-pushing"
    }

    public var isPushed: Bool {
        if case .pushed = self { true } else { false }
    }

    /// `push`, or `poll` with its reason, for a log line or a metric label.
    public var label: String {
        switch self {
        case .pushed: "push"
        case .polled(let reason): "poll (\(reason.rawValue))"
        }
    }
}
