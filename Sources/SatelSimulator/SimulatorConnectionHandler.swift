import Satel
import NIOCore

/// The module's side of one integration connection: answers decoded frames from the panel, drops malformed
/// ones silently (doc §10), and closes the link after `idleTimeout` without a complete frame (doc §7.3).
final class SimulatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = SatelDecodedItem
    typealias OutboundOut = SatelFrame

    private let panel: PanelSimulator
    private let idleTimeout: TimeAmount
    private var idleTimer: Scheduled<Void>?

    init(panel: PanelSimulator, idleTimeout: TimeAmount) {
        self.panel = panel
        self.idleTimeout = idleTimeout
    }

    /// The handler may be added after the channel became active (the pipeline is built asynchronously),
    /// in which case `channelActive` never reaches it: start the idle timer here too.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleIdleTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdleTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        panel.releaseSlot(for: context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .frame(let frame):
            scheduleIdleTimer(context: context)
            let answers = panel.handleOnLoop(frame)
            guard !answers.isEmpty else { return }
            for answer in answers {
                context.write(wrapOutboundOut(answer), promise: nil)
            }
            context.flush()
        case .malformed:
            panel.recordMalformed()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func scheduleIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let panel = self.panel
        idleTimer = context.eventLoop.scheduleTask(in: idleTimeout) {
            panel.recordIdleDisconnect()
            loopBoundContext.value.close(promise: nil)
        }
    }
}
