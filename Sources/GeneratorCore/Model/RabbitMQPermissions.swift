/// A RabbitMQ user's rights in its vhost, as the three regular expressions the broker matches resource names
/// against, derived from what the user consumes and publishes:
/// - publishing to an exchange needs `write` on it;
/// - consuming a shared queue needs `read` on it (the broker declared it from the definitions; a passive
///   declare needs no right);
/// - a per-instance queue (`<queue>.<instance>`) is declared and bound by its consumer: `configure`, `write` and
///   `read` on names of that shape, and `read` on the exchanges it is bound to.
/// Nothing else: no user may declare, delete or bind the shared topology. Names are matched whole (`^...$`);
/// a dot is written `[.]` so the expression has no backslash to escape in JSON or shell.
public struct RabbitMQPermissions: Hashable, Sendable {
    public var configure: String
    public var write: String
    public var read: String

    public init(user: RabbitMQUser, queues: [QueueDeclaration]) {
        var configure: [String] = [], write: [String] = [], read: [String] = []
        for exchange in user.publishes { write.append(Self.literal(exchange.value)) }
        for name in user.consumes {
            guard let queue = queues.first(where: { $0.name == name.value }) else { continue }
            if queue.perInstance {
                let instances = Self.literal(queue.name + ".") + ".+"
                configure.append(instances)
                write.append(instances)
                read.append(instances)
                read += queue.bindings.map { Self.literal($0.exchange.value) }
            } else {
                read.append(Self.literal(queue.name))
            }
        }
        self.configure = Self.expression(configure)
        self.write = Self.expression(write)
        self.read = Self.expression(read)
    }

    static func literal(_ name: String) -> String { name.replacingOccurrences(of: ".", with: "[.]") }

    /// `^(a|b)$`; `^$` matches no resource (every resource has a name), so an empty list grants nothing.
    static func expression(_ alternatives: [String]) -> String {
        var unique: [String] = []
        for alternative in alternatives where !unique.contains(alternative) { unique.append(alternative) }
        switch unique.count {
        case 0: return "^$"
        case 1: return "^\(unique[0])$"
        default: return "^(\(unique.joined(separator: "|")))$"
        }
    }
}
