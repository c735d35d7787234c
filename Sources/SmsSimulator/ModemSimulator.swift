import Sms
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A GSM modem on a pseudo-terminal, for tests and `stam modem-sim`: it answers AT commands, keeps
/// messages in PDU form (encoded with `SmsPduEncoder`), announces them with +CMTI and misbehaves on demand.
/// The agent opens `devicePath`, a symbolic link to the current pty, so the modem can disappear and come
/// back (as a USB modem re-enumerates) under the same name.
public final class ModemSimulator: Service, Sendable {
    public let devicePath: String
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let encoder = SmsPduEncoder()

    private struct State {
        var modem: SimulatedModem
        var channel: (any Channel)?
        var terminal: PseudoTerminal?
        var reference = 0
        var commands = 0
    }

    public init(devicePath: String, modem: SimulatedModem = SimulatedModem(), logger: Logger = Logger(label: "sms.modem-sim")) {
        self.devicePath = devicePath
        self.logger = logger
        state = NIOLockedValueBox(State(modem: modem))
    }

    /// Creates the pty and the link; returns the pty's own path.
    @discardableResult
    public func start() async throws -> String {
        let terminal = try PseudoTerminal.open()
        let channel: any Channel
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ATLineDecoder()))
                        try channel.pipeline.syncOperations.addHandler(CommandHandler(simulator: self))
                    }
                }
                .takingOwnershipOfDescriptor(inputOutput: terminal.master)
                .get()
        } catch {
            close(terminal.master)
            close(terminal.slaveKeeper)
            throw error
        }
        unlink(devicePath)
        guard symlink(terminal.slavePath, devicePath) == 0 else {
            try? await channel.close()
            close(terminal.slaveKeeper)
            throw PseudoTerminal.Failure(description: "symlink \(devicePath): \(String(cString: strerror(errno)))")
        }
        state.withLockedValue {
            $0.channel = channel
            $0.terminal = terminal
            // A power cycle: the SIM asks for its PIN again.
            $0.modem.pinEntered = false
        }
        logger.info("modem simulator ready", metadata: ["pty": "\(terminal.slavePath)", "device": "\(devicePath)"])
        return terminal.slavePath
    }

    /// Serves the modem on a TCP port instead of a pty, the way a serial device server (ser2net, a Moxa
    /// NPort) exposes a real modem: the latest connection is the modem's line (a reconnecting agent takes
    /// it over). Used where the agent runs in another container than the simulator. Returns the bound port.
    public func listen(host: String, port: Int) async throws -> Int {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ATLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(CommandHandler(simulator: self))
                    let previous = self.state.withLockedValue { state -> (any Channel)? in
                        defer {
                            state.channel = channel
                            state.modem.pinEntered = false
                        }
                        return state.channel
                    }
                    previous?.close(promise: nil)
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = server.localAddress?.port ?? port
        logger.info("modem simulator listening", metadata: ["address": "\(host):\(bound)"])
        return bound
    }

    /// The modem is unplugged: the pty closes (the agent's reads fail) and the device path disappears.
    public func disappear() async {
        let (channel, terminal) = state.withLockedValue { state in
            defer {
                state.channel = nil
                state.terminal = nil
            }
            return (state.channel, state.terminal)
        }
        unlink(devicePath)
        try? await channel?.close()
        if let terminal { close(terminal.slaveKeeper) }
    }

    /// Plugged in again: a new pty under the same device path; the stored messages are still there (a SIM).
    public func reappear() async throws {
        try await start()
    }

    public func stop() async {
        await disappear()
    }

    public func run() async throws {
        try await start()
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
            }
        } onGracefulShutdown: {}
        await stop()
    }

    // MARK: Control

    public var misbehaviour: ModemMisbehaviour {
        get { state.withLockedValue { $0.modem.misbehaviour } }
        set {
            let lines = state.withLockedValue { state -> [String] in
                state.modem.misbehaviour = newValue
                return state.modem.drainWaiting()
            }
            emit(lines)
        }
    }

    public var storedPDUs: [String] { state.withLockedValue { $0.modem.storedPDUs } }
    public var waitingCount: Int { state.withLockedValue { $0.modem.waitingCount } }
    /// Commands answered so far (tests wait for the agent to be talking).
    public var commandCount: Int { state.withLockedValue { $0.commands } }

    /// Delivers a text message (split into parts when long); returns its PDUs.
    @discardableResult
    public func deliver(text: String, from sender: SmsAddress, coding: SmsDataCoding? = nil, sentAt: Date = Date(),
                        offsetQuarterHours: Int = 4, sixteenBitReference: Bool = false) -> [String] {
        let reference = state.withLockedValue { state -> Int in
            state.reference = (state.reference + 1) % (sixteenBitReference ? 65536 : 256)
            return state.reference
        }
        let pdus = encoder.deliver(text: text, from: sender, at: SmsTimestamp(date: sentAt, offsetQuarterHours: offsetQuarterHours),
                                   coding: coding, reference: reference, sixteenBitReference: sixteenBitReference)
        deliver(pdus: pdus)
        return pdus
    }

    /// Delivers PDUs as they are (parts in any order, malformed ones, ...).
    public func deliver(pdus: [String]) {
        let lines = state.withLockedValue { state in pdus.flatMap { state.modem.receive($0) } }
        emit(lines)
    }

    /// Stores a message without telling the agent (see `SimulatedModem.store`); returns its index.
    @discardableResult
    public func store(pdu: String, status: Int) -> Int? {
        state.withLockedValue { $0.modem.store(pdu, status: status) }
    }

    private func emit(_ lines: [String]) {
        guard !lines.isEmpty, let channel = state.withLockedValue({ $0.channel }) else { return }
        var buffer = channel.allocator.buffer(capacity: 64)
        for line in lines { buffer.writeString("\r\n\(line)\r\n") }
        channel.writeAndFlush(buffer, promise: nil)
    }

    fileprivate func answer(_ command: String) -> [String]? {
        state.withLockedValue { state in
            state.commands += 1
            return state.modem.answer(command)
        }
    }

    /// Reads command lines from the master side and writes the answers.
    private final class CommandHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ModemLine
        typealias OutboundOut = ByteBuffer
        let simulator: ModemSimulator

        init(simulator: ModemSimulator) { self.simulator = simulator }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .line(let command) = unwrapInboundIn(data),
                  let lines = simulator.answer(command) else { return }
            var buffer = context.channel.allocator.buffer(capacity: 64)
            for line in lines { buffer.writeString("\r\n\(line)\r\n") }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
