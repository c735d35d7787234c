/// Exchanges, queues and bindings, as generated from `schema/queues.yaml`. The messaging runtime declares
/// them at start-up (idempotently); the generator renders the same model as RabbitMQ `definitions.json`.
public struct MessagingTopology: Sendable, Hashable {
    public struct Exchange: Sendable, Hashable {
        public var name: String
        /// `topic`, `direct`, `fanout` or `headers`.
        public var type: String

        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    public struct Queue: Sendable, Hashable {
        public var name: String
        public var quorum: Bool
        /// Named `<name>.<instance>` for each instance of the consuming service.
        public var perInstance: Bool
        public var deadLetterExchange: String?
        public var deliveryLimit: Int?
        public var expiresMilliseconds: Int?
        public var maxLength: Int?
        public var bindings: [Binding]

        public init(name: String, quorum: Bool, perInstance: Bool = false, deadLetterExchange: String? = nil,
                    deliveryLimit: Int? = nil, expiresMilliseconds: Int? = nil, maxLength: Int? = nil, bindings: [Binding]) {
            self.name = name
            self.quorum = quorum
            self.perInstance = perInstance
            self.deadLetterExchange = deadLetterExchange
            self.deliveryLimit = deliveryLimit
            self.expiresMilliseconds = expiresMilliseconds
            self.maxLength = maxLength
            self.bindings = bindings
        }

        /// The queue's arguments as RabbitMQ names them (`x-queue-type`, `x-dead-letter-exchange`, ...).
        public var arguments: [(key: String, value: ArgumentValue)] {
            var arguments: [(String, ArgumentValue)] = [("x-queue-type", .string(quorum ? "quorum" : "classic"))]
            if let deadLetterExchange { arguments.append(("x-dead-letter-exchange", .string(deadLetterExchange))) }
            if let deliveryLimit { arguments.append(("x-delivery-limit", .integer(deliveryLimit))) }
            if let expiresMilliseconds { arguments.append(("x-expires", .integer(expiresMilliseconds))) }
            if let maxLength { arguments.append(("x-max-length", .integer(maxLength))) }
            return arguments
        }
    }

    public enum ArgumentValue: Sendable, Hashable {
        case string(String)
        case integer(Int)
    }

    public struct Binding: Sendable, Hashable {
        public var exchange: String
        public var routingKey: String

        public init(exchange: String, routingKey: String) {
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange], queues: [Queue]) {
        self.exchanges = exchanges
        self.queues = queues
    }
}
