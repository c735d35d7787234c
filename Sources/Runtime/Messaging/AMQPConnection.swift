import CRabbitMQ
import Foundation
import StamCore

/// A blocking AMQP 0-9-1 connection with one channel, over rabbitmq-c 0.11. Not thread-safe: every call
/// must come from the connection's `OwnerThread`. Any error leaves the connection unusable; owners drop it
/// and reconnect.
final class AMQPConnection: @unchecked Sendable {
    static let channel: amqp_channel_t = 1

    // Method ids (amqp_framing.h defines them as casts, which Swift does not import).
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let connectionClose: amqp_method_number_t = 0x000A_0032

    private let state: amqp_connection_state_t
    private var open = true
    private var nextDeliveryTag: UInt64 = 1
    /// This connection's `PublishStream`: its id and the last sequence number per exchange.
    private let streamID = UUID().uuidString.lowercased()
    private var streamSequences: [String: UInt64] = [:]
    let configuration: AMQPConfiguration

    init(configuration: AMQPConfiguration) throws {
        self.configuration = configuration
        guard let state = amqp_new_connection() else {
            throw AMQPError(code: .connect, message: "cannot allocate a connection")
        }
        self.state = state
        // From here on a throw runs deinit (the object is fully initialised), which destroys `state`.
        guard let socket = amqp_tcp_socket_new(state) else {
            open = false
            throw AMQPError(code: .connect, message: "cannot create a socket")
        }
        var timeout = timeval(tv_sec: configuration.connectTimeoutSeconds, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            open = false
            throw AMQPError(code: .connect, message: "cannot reach \(configuration.host):\(configuration.port): \(Self.statusText(status))", status: Int(status))
        }
        // Every wait of rabbitmq-c gets a bound. Reads are bounded by the callers' timeouts and by heartbeats
        // (rabbitmq-c checks them while it waits for a frame); these cover the rest:
        // - the handshake (a port that accepts but never speaks AMQP: a broker still booting, or not a broker);
        amqp_set_handshake_timeout(state, &timeout)
        // - sends: rabbitmq-c waits for a writable socket without a deadline, so a peer that vanished without
        //   FIN, or stopped reading, would hold the call until the kernel gives up (~15 min of retransmits).
        //   TCP_USER_TIMEOUT makes the kernel fail the socket once sent data stays unacknowledged this long
        //   (zero-window probes included since Linux 5.x).
        var userTimeout = UInt32(configuration.callTimeoutSeconds * 1000)
        setsockopt(amqp_get_sockfd(state), Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &userTimeout, socklen_t(MemoryLayout<UInt32>.size))
        let reply = amqp_login_with_password(state, configuration)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            open = false
            throw Self.error(from: reply, code: .login, context: "login as \(configuration.username) to vhost \(configuration.virtualHost)")
        }
        // - synchronous methods: a live broker (heartbeats flowing) may still never answer one; on timeout
        //   rabbitmq-c closes the socket and the owner reconnects.
        var callTimeout = timeval(tv_sec: configuration.callTimeoutSeconds, tv_usec: 0)
        amqp_set_rpc_timeout(state, &callTimeout)
        amqp_channel_open(state, Self.channel)
        try check("open channel")
    }

    deinit {
        if open {
            amqp_channel_close(state, Self.channel, AMQP_REPLY_SUCCESS)
            amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        amqp_destroy_connection(state)
    }

    /// Closes politely; after a failure the socket is just dropped.
    func close() {
        guard open else { return }
        open = false
        amqp_channel_close(state, Self.channel, AMQP_REPLY_SUCCESS)
        amqp_connection_close(state, AMQP_REPLY_SUCCESS)
    }

    // MARK: Topology

    func declare(_ topology: MessagingTopology, instance: String?, mode: AMQPConfiguration.TopologyMode) throws {
        let passive: amqp_boolean_t = mode == .verify ? 1 : 0
        for exchange in topology.exchanges {
            let arena = AMQPArena()
            amqp_exchange_declare(state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.type),
                                  passive, 1, 0, 0, amqp_empty_table)
            try check("\(mode == .verify ? "find" : "declare") exchange \(exchange.name)")
        }
        // Per-instance queues belong to their consuming instance; a connection without one (a publisher)
        // declares only the shared ones.
        for queue in topology.queues where !queue.perInstance || instance != nil {
            let name = Self.queueName(queue, instance: instance)
            if mode == .verify && !queue.perInstance {
                let arena = AMQPArena()
                amqp_queue_declare(state, Self.channel, arena.bytes(name), 1, 1, 0, 0, amqp_empty_table)
                try check("find queue \(name)")
                continue
            }
            try declareQueue(name, arguments: queue.arguments)
            for binding in queue.bindings {
                let arena = AMQPArena()
                amqp_queue_bind(state, Self.channel, arena.bytes(name), arena.bytes(binding.exchange),
                                arena.bytes(binding.routingKey), amqp_empty_table)
                try check("bind queue \(name) to \(binding.exchange):\(binding.routingKey)")
            }
        }
    }

    static func queueName(_ queue: MessagingTopology.Queue, instance: String?) -> String {
        queue.perInstance ? "\(queue.name).\(instance ?? "default")" : queue.name
    }

    func declareQueue(_ name: String, arguments: [(key: String, value: MessagingTopology.ArgumentValue)]) throws {
        let arena = AMQPArena()
        let table = arena.table(arguments)
        amqp_queue_declare(state, Self.channel, arena.bytes(name), 0, 1, 0, 0, table)
        try check("declare queue \(name)")
    }

    func purge(_ queue: String) throws {
        let arena = AMQPArena()
        amqp_queue_purge(state, Self.channel, arena.bytes(queue))
        try check("purge queue \(queue)")
    }

    // MARK: Publishing

    func enablePublisherConfirms() throws {
        amqp_confirm_select(state, Self.channel)
        try check("enable publisher confirms")
    }

    /// Publishes a persistent message and returns its delivery tag (for `waitForConfirms`).
    func publish(_ message: OutgoingMessage) throws -> UInt64 {
        let arena = AMQPArena()
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
            | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG)
        properties.content_type = arena.bytes("application/json")
        properties.delivery_mode = 2  // persistent
        properties.message_id = arena.bytes(message.messageId)
        properties.type = arena.bytes(message.type)
        properties.timestamp = UInt64(max(0, message.timestamp.timeIntervalSince1970))
        var headers = message.headers
        if headers[PublishStream.streamHeader] == nil {
            let sequence = streamSequences[message.exchange, default: 0] + 1
            streamSequences[message.exchange] = sequence
            headers[PublishStream.streamHeader] = streamID
            headers[PublishStream.sequenceHeader] = String(sequence)
        }
        properties.headers = arena.table(headers.map { ($0.key, MessagingTopology.ArgumentValue.string($0.value)) })
        if let correlationId = message.correlationId {
            properties._flags |= amqp_flags_t(AMQP_BASIC_CORRELATION_ID_FLAG)
            properties.correlation_id = arena.bytes(correlationId)
        }
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(state, Self.channel, arena.bytes(message.exchange), arena.bytes(message.routingKey), 0, 0,
                               &properties, amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(code: .disconnected, message: "publish failed: \(Self.statusText(status))", status: Int(status))
        }
        defer { nextDeliveryTag += 1 }
        return nextDeliveryTag
    }

    /// Reads the broker's confirms until every tag from `first` up to `last` is acked or nacked; returns the
    /// nacked tags. Tags before `first` were settled by an earlier call: counting from them would wait for
    /// confirms that already came (a single, non-multiple ack of a later batch never settled it).
    func waitForConfirms(from first: UInt64 = 1, through last: UInt64, timeout: TimeInterval) throws -> Set<UInt64> {
        var confirmedThrough: UInt64 = first - 1
        var singles = Set<UInt64>()
        var nacked = Set<UInt64>()
        let deadline = Date(timeIntervalSinceNow: timeout)
        func settled() -> Bool {
            confirmedThrough >= last || (confirmedThrough + 1...last).allSatisfy { singles.contains($0) }
        }
        while !settled() {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw AMQPError(code: .timeout, message: "no publisher confirm within \(Int(timeout)) s")
            }
            guard let frame = try waitFrame(timeout: remaining) else { continue }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            switch frame.payload.method.id {
            case Self.basicAck, Self.basicNack:
                let isNack = frame.payload.method.id == Self.basicNack
                let (tag, multiple): (UInt64, Bool) = isNack
                    ? frame.payload.method.decoded.withMemoryRebound(to: amqp_basic_nack_t.self, capacity: 1) { ($0.pointee.delivery_tag, $0.pointee.multiple != 0) }
                    : frame.payload.method.decoded.withMemoryRebound(to: amqp_basic_ack_t.self, capacity: 1) { ($0.pointee.delivery_tag, $0.pointee.multiple != 0) }
                if multiple {
                    if isNack { nacked.formUnion((confirmedThrough + 1...max(tag, confirmedThrough + 1)).filter { !singles.contains($0) }) }
                    confirmedThrough = max(confirmedThrough, tag)
                } else {
                    singles.insert(tag)
                    if isNack { nacked.insert(tag) }
                }
                while singles.contains(confirmedThrough + 1) { confirmedThrough += 1 }
            case Self.channelClose, Self.connectionClose:
                open = false
                throw AMQPError(code: .brokerClosed, message: "the broker closed the channel while confirming")
            default:
                continue  // basic.return of an unroutable message is still confirmed (acked) afterwards
            }
        }
        return nacked
    }

    /// One frame, or nil on timeout. rabbitmq-c sends due heartbeats while it waits.
    private func waitFrame(timeout: TimeInterval) throws -> amqp_frame_t? {
        var frame = amqp_frame_t()
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        let status = amqp_simple_wait_frame_noblock(state, &frame, &tv)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else {
            open = false
            throw AMQPError(code: Self.code(for: status, otherwise: .disconnected), message: "connection lost: \(Self.statusText(status))", status: Int(status))
        }
        return frame
    }

    /// Keeps an idle connection alive: reads pending frames, letting rabbitmq-c answer and send heartbeats.
    func pump() throws {
        _ = try waitFrame(timeout: 0.001)
    }

    // MARK: Consuming

    func consume(queue: String, prefetch: UInt16) throws {
        amqp_basic_qos(state, Self.channel, 0, prefetch, 0)
        try check("set prefetch")
        let arena = AMQPArena()
        amqp_basic_consume(state, Self.channel, arena.bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        try check("consume from \(queue)")
    }

    /// The next delivery, or nil when none arrived within `timeout`.
    func nextDelivery(timeout: TimeInterval) throws -> Delivery? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        let reply = amqp_consume_message(state, &envelope, &tv, 0)
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT.rawValue {
            return nil
        }
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // A non-delivery frame (e.g. channel.close) arrived; read it to learn why.
                if let frame = try waitFrame(timeout: 1), frame.frame_type == UInt8(AMQP_FRAME_METHOD),
                   frame.payload.method.id == Self.channelClose || frame.payload.method.id == Self.connectionClose {
                    open = false
                    throw AMQPError(code: .brokerClosed, message: "the broker closed the channel")
                }
                return nil
            }
            open = false
            throw Self.error(from: reply, code: .disconnected, context: "consume")
        }
        defer { amqp_destroy_envelope(&envelope) }
        return Delivery(envelope: envelope)
    }

    func ack(_ deliveryTag: UInt64) throws {
        let status = amqp_basic_ack(state, Self.channel, deliveryTag, 0)
        guard status == 0 else { throw AMQPError(code: .disconnected, message: "ack failed: \(Self.statusText(status))", status: Int(status)) }
    }

    /// `requeue: false` sends the message to the queue's dead-letter exchange.
    func reject(_ deliveryTag: UInt64, requeue: Bool) throws {
        let status = amqp_basic_nack(state, Self.channel, deliveryTag, 0, requeue ? 1 : 0)
        guard status == 0 else { throw AMQPError(code: .disconnected, message: "nack failed: \(Self.statusText(status))", status: Int(status)) }
    }

    // MARK: Errors

    private func check(_ what: String) throws {
        let reply = amqp_get_rpc_reply(state)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            open = false
            let timedOut = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT.rawValue
            throw Self.error(from: reply, code: timedOut ? .timeout : .channel,
                             context: timedOut ? "\(what): no answer within \(configuration.callTimeoutSeconds) s" : what)
        }
    }

    /// A silent broker is told apart from a closed socket: the first may still be restarting or cut off.
    static func code(for status: Int32, otherwise code: AMQPError.Code) -> AMQPError.Code {
        status == AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue ? .heartbeatTimeout : code
    }

    static func statusText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    static func error(from reply: amqp_rpc_reply_t, code: AMQPError.Code, context: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return AMQPError(code: self.code(for: reply.library_error, otherwise: code), message: "\(context): \(statusText(reply.library_error))", status: Int(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == channelClose {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return AMQPError(code: code, message: "\(context): \(AMQPArena.string(close.reply_text))", status: Int(close.reply_code))
            }
            if reply.reply.id == connectionClose {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return AMQPError(code: code, message: "\(context): \(AMQPArena.string(close.reply_text))", status: Int(close.reply_code))
            }
            return AMQPError(code: code, message: "\(context): broker error (method \(reply.reply.id))")
        default:
            return AMQPError(code: code, message: "\(context): no reply")
        }
    }
}

/// `amqp_login` is variadic in C; this wraps the SASL PLAIN case.
private func amqp_login_with_password(_ state: amqp_connection_state_t, _ configuration: AMQPConfiguration) -> amqp_rpc_reply_t {
    stam_amqp_login_plain(state, configuration.virtualHost, 0, 131_072, Int32(configuration.heartbeatSeconds),
                          configuration.username, configuration.password)
}
