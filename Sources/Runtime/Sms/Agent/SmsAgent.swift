import Foundation
import Logging
import Messaging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Owns the GSM modem: opens the serial port, drives `ModemStateMachine` over it and hands the stored
/// messages to `SmsIntake`. One session per opened port; a session ends when the modem disappears (the
/// port reads EOF or fails), stops answering (a command timeout) or asks to be reopened, and the next one
/// starts after a capped exponential back-off.
public final class SmsAgent: Service, Sendable {
    let configuration: SmsAgentConfiguration
    let intake: SmsIntake
    let metrics: SmsMetrics
    let logger: Logger

    public init(configuration: SmsAgentConfiguration, publisher: Publisher, publication: SmsPublication,
                metrics: SmsMetrics, logger: Logger) throws {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let store = try SmsPartStore(directory: "\(configuration.stateDirectory)/parts")
        intake = SmsIntake(store: store, publisher: publisher, publication: publication, metrics: metrics,
                           partialTimeout: configuration.partialTimeout, logger: logger)
    }

    enum SessionEnd {
        /// The port could not be opened (or the modem never finished initialising).
        case failed
        /// The session had initialised the modem before it ended: start the back-off from the beginning.
        case lostAfterReady
        case fatal(String)
        case cancelled
    }

    enum SessionEvent: Sendable {
        case line(ModemLine)
        case tick
        case closed(String)
        case delivered([Int])
        case expired
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.runSessions() }
        metrics.setModem(problem: "the agent stopped")
    }

    /// Why `/readyz` fails while the modem is not usable.
    public struct ModemNotReady: Error, CustomStringConvertible {
        public var description: String
    }

    /// For `/readyz`: passes while the modem is initialised and answering; throws with the reason otherwise
    /// (port cannot be opened, initialising, waiting to reopen, stopped).
    public func checkModem() throws {
        let snapshot = metrics.snapshot()
        guard snapshot.modemReady else { throw ModemNotReady(description: "modem not ready: \(snapshot.modemProblem ?? "unknown")") }
    }

    func runSessions() async {
        // One machine for the life of the process: it remembers a rejected PIN across reopens.
        var machine = ModemStateMachine(configuration: configuration.modem)
        var failures = 0
        var opened = false
        while !Task.isCancelled {
            if opened { metrics.recordReopen() }
            opened = true
            let end = await session(&machine)
            if case .fatal(let reason) = end {
                metrics.setModem(problem: reason)
            } else if metrics.snapshot().modemReady {
                metrics.setModem(problem: "the modem session ended; reopening")
            }
            switch end {
            case .cancelled:
                return
            case .fatal(let reason):
                logger.critical("SMS agent stopped talking to the modem", metadata: ["reason": "\(reason)"])
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(60))
                    logger.critical("SMS agent is stopped; fix the cause and restart it", metadata: ["reason": "\(reason)"])
                }
                return
            case .lostAfterReady:
                failures = 1
            case .failed:
                failures += 1
            }
            // Parts waiting for the rest still expire while there is no modem.
            await intake.expireStaleGroups()
            try? await Task.sleep(for: backoff(failures: failures))
        }
    }

    func backoff(failures: Int) -> Duration {
        var delay = configuration.reopenInitialDelay
        for _ in 1..<max(1, failures) {
            delay = min(delay * 2, configuration.reopenMaximumDelay)
        }
        // Up to a quarter less, so agents of many stations restarted together do not move in lockstep.
        return delay * (1 - Double.random(in: 0..<0.25))
    }

    private func session(_ machine: inout ModemStateMachine) async -> SessionEnd {
        let channel: NIOAsyncChannel<ModemLine, ByteBuffer>
        do {
            channel = try await openPort()
        } catch {
            logger.warning("cannot open the modem", metadata: ["device": "\(configuration.device)", "error": "\(error)"])
            metrics.setModem(problem: "cannot open \(configuration.device): \(error)")
            return .failed
        }
        logger.info("modem port open", metadata: ["device": "\(configuration.device)", "baud": "\(configuration.baud)"])
        metrics.setModem(problem: "initialising the modem")
        do {
            return try await channel.executeThenClose { inbound, outbound in
                await self.converse(&machine, inbound: inbound, outbound: outbound)
            }
        } catch {
            return .failed
        }
    }

    /// The modem's line: a serial device (termios raw mode, then NIO over the descriptor), or `tcp://host:port`
    /// for a modem behind a serial device server (ser2net, Moxa NPort) or the simulator in another container.
    private func openPort() async throws -> NIOAsyncChannel<ModemLine, ByteBuffer> {
        @Sendable func initialize(_ channel: any Channel) -> EventLoopFuture<NIOAsyncChannel<ModemLine, ByteBuffer>> {
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ATLineDecoder()))
                return try NIOAsyncChannel<ModemLine, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        if configuration.device.hasPrefix("tcp://") {
            let address = configuration.device.dropFirst("tcp://".count)
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                throw SerialPort.OpenError(path: configuration.device, operation: "expected tcp://host:port, cannot parse", errno: EINVAL)
            }
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: String(address[..<colon]), port: port) { initialize($0) }
        }
        let descriptor = try SerialPort.open(path: configuration.device, baud: configuration.baud,
                                             hardwareFlowControl: configuration.hardwareFlowControl)
        do {
            return try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .takingOwnershipOfDescriptor(inputOutput: descriptor) { initialize($0) }
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// The session's one loop: every input (lines, clock ticks, finished deliveries) becomes an event on a
    /// single stream, goes through the state machine, and its actions are executed here in order.
    private func converse(_ machine: inout ModemStateMachine, inbound: NIOAsyncChannelInboundStream<ModemLine>,
                          outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async -> SessionEnd {
        let (events, continuation) = AsyncStream<SessionEvent>.makeStream()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await line in inbound { continuation.yield(.line(line)) }
                    continuation.yield(.closed("the modem closed the port"))
                } catch {
                    continuation.yield(.closed("\(error)"))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    continuation.yield(.tick)
                }
            }
            defer {
                group.cancelAll()
                continuation.finish()
            }
            var ready = false
            var intakeBusy = false
            var waitingDelivery: [StoredPdu]?
            var lastExpiry = ContinuousClock.now
            var iterator = events.makeAsyncIterator()
            var actions = machine.connected(now: .now)
            while true {
                for action in actions {
                    switch action {
                    case .send(let text), .sendSecret(let text, _):
                        if case .send = action { logger.debug("modem <- \(text)") }
                        do {
                            try await outbound.write(ByteBuffer(string: text + "\r"))
                        } catch {
                            machine.closed()
                            logger.warning("cannot write to the modem", metadata: ["error": "\(error)"])
                            return ready ? .lostAfterReady : .failed
                        }
                    case .ready(let used, let total):
                        ready = true
                        metrics.setModem(problem: nil)
                        logger.info("modem ready", metadata: ["storage_used": "\(used.map(String.init) ?? "?")",
                                                              "storage_total": "\(total.map(String.init) ?? "?")"])
                    case .deliver(let stored):
                        if intakeBusy {
                            waitingDelivery = stored
                        } else {
                            intakeBusy = true
                            startDelivery(stored, group: &group, continuation: continuation)
                        }
                    case .leftAlone(let message, let kind):
                        metrics.recordLeftAlone(kind)
                        logger.notice("a stored message that is not a received SMS stays on the SIM",
                                      metadata: ["index": "\(message.index)", "status": "\(message.status)", "kind": "\(kind.rawValue)"])
                    case .reopen(let reason):
                        machine.closed()
                        logger.warning("reopening the modem", metadata: ["reason": "\(reason)"])
                        return ready ? .lostAfterReady : .failed
                    case .fatal(let reason):
                        return .fatal(reason)
                    case .warn(let message):
                        logger.warning("\(message)")
                    case .garbage(let line):
                        metrics.recordGarbageLine()
                        logger.notice("unexpected modem line", metadata: ["line": "\(line.prefix(120))"])
                    }
                }
                guard let event = await iterator.next() else { return .cancelled }
                let now = ContinuousClock.now
                switch event {
                case .line(let line):
                    if case .line(let text) = line { logger.trace("modem -> \(text)") }
                    actions = machine.received(line, now: now)
                case .tick:
                    if Task.isCancelled { return .cancelled }
                    actions = machine.tick(now: now)
                    if !intakeBusy, now - lastExpiry >= .seconds(1) {
                        lastExpiry = now
                        intakeBusy = true
                        group.addTask {
                            await self.intake.expireStaleGroups()
                            continuation.yield(.expired)
                        }
                    }
                case .closed(let reason):
                    machine.closed()
                    logger.warning("modem port closed", metadata: ["reason": "\(reason)"])
                    return ready ? .lostAfterReady : .failed
                case .delivered(let indices):
                    intakeBusy = false
                    actions = machine.deliveryFinished(delete: indices, now: now)
                case .expired:
                    intakeBusy = false
                    actions = []
                    if let stored = waitingDelivery {
                        waitingDelivery = nil
                        intakeBusy = true
                        startDelivery(stored, group: &group, continuation: continuation)
                    }
                }
            }
        }
    }

    private func startDelivery(_ stored: [StoredPdu], group: inout TaskGroup<Void>,
                               continuation: AsyncStream<SessionEvent>.Continuation) {
        group.addTask {
            if let indices = await self.intake.process(stored) {
                continuation.yield(.delivered(indices))
            }
        }
    }
}
