import Satel
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Runs one or many simulated ETHM-1 modules, each on its own TCP port and event loop.
///
/// As a `Service` it listens until graceful shutdown; tests call `start()` to learn the bound ports and
/// `stop()` when done.
public final class SimulatorServer: Service, Sendable {
    public let configuration: SimulatorConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var panels: [PanelSimulator] = []
        var listeners: [any Channel] = []
        var controlListener: (any Channel)?
        var timers: [Scheduled<Void>] = []
        var started = false
    }

    public init(
        configuration: SimulatorConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "satel.simulator")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    /// The simulated panels, in port order (empty before `start()`).
    public var panels: [PanelSimulator] {
        state.withLockedValue { $0.panels }
    }

    /// Binds every panel's port and starts its scenario clock; returns the bound ports in panel order.
    @discardableResult
    public func start() async throws -> [Int] {
        guard !state.withLockedValue({ $0.started }) else { return try boundPorts() }
        var panels: [PanelSimulator] = []
        var listeners: [any Channel] = []
        do {
            for index in 0..<configuration.panelCount {
                let panel = PanelSimulator(configuration: configuration.scenario.panel, eventLoop: group.next())
                let port = configuration.port == 0 ? 0 : configuration.port + index
                let listener = try await bind(panel: panel, port: port)
                panels.append(panel)
                listeners.append(listener)
            }
        } catch {
            for listener in listeners {
                try? await listener.close()
            }
            throw error
        }
        var controlListener: (any Channel)?
        if let controlPort = configuration.controlPort {
            do {
                controlListener = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { [panels] channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(SimulatorControlHandler(panels: panels))
                        }
                    }
                    .bind(host: configuration.controlHost, port: controlPort)
                    .get()
            } catch {
                for listener in listeners {
                    try? await listener.close()
                }
                throw error
            }
        }
        var timers: [Scheduled<Void>] = []
        for panel in panels {
            for step in configuration.scenario.steps {
                let delay = TimeAmount.nanoseconds(Int64(step.at * 1_000_000_000))
                timers.append(panel.eventLoop.scheduleTask(in: delay) { panel.applyOnLoop(step.action) })
            }
        }
        state.withLockedValue {
            $0.panels = panels
            $0.listeners = listeners
            $0.controlListener = controlListener
            $0.timers = timers
            $0.started = true
        }
        let ports = try boundPorts()
        logger.info(
            "simulator listening",
            metadata: [
                "panels": "\(panels.count)", "firstPort": "\(ports.first ?? 0)",
                "model": "\(configuration.scenario.panel.model.name)",
                "encrypted": "\(configuration.integrationKey != nil)",
            ])
        return ports
    }

    /// The control port actually bound, when one was asked for.
    public var boundControlPort: Int? {
        state.withLockedValue { $0.controlListener?.localAddress?.port }
    }

    public func boundPorts() throws -> [Int] {
        try state.withLockedValue { state in
            try state.listeners.map { listener in
                guard let port = listener.localAddress?.port else {
                    throw SimulatorServerError(message: "listener has no local port")
                }
                return port
            }
        }
    }

    /// Closes every listener and connection and cancels the scenario.
    public func stop() async {
        let (listeners, timers, panels) = state.withLockedValue { state in
            defer {
                state.listeners = []
                state.controlListener = nil
                state.timers = []
                state.started = false
            }
            return (state.listeners + (state.controlListener.map { [$0] } ?? []), state.timers, state.panels)
        }
        for timer in timers {
            timer.cancel()
        }
        for listener in listeners {
            try? await listener.close()
        }
        for panel in panels {
            try? await panel.closeConnection()
        }
    }

    public func run() async throws {
        try await start()
        // Wait for graceful shutdown (or cancellation), then close everything.
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
            }
        } onGracefulShutdown: {}
        await stop()
    }

    private func bind(panel: PanelSimulator, port: Int) async throws -> any Channel {
        let idleTimeout = configuration.idleTimeout
        let integrationKey = configuration.integrationKey.map(IntegrationKey.init)
        return try await ServerBootstrap(group: panel.eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Runs on the panel's loop: the slot check and the pipeline set-up cannot race.
                guard panel.claimSlot(for: channel) else {
                    return channel.pipeline.addHandler(BusyRejectHandler())
                }
                do {
                    let sync = channel.pipeline.syncOperations
                    if let integrationKey {
                        try sync.addHandler(IntegrationEncryptionHandler(key: integrationKey, role: .panel))
                    }
                    try sync.addHandler(ByteToMessageHandler(SatelFrameDecoder()))
                    try sync.addHandler(MessageToByteHandler(SatelFrameEncoder()))
                    try sync.addHandler(SimulatorConnectionHandler(panel: panel, idleTimeout: idleTimeout))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: configuration.host, port: port)
            .get()
    }
}

/// The simulator could not start or stop as asked.
public struct SimulatorServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
