import NIOCore

/// Runs a `ConnectionStateMachine` on a channel: feeds it the channel's events and carries out its actions.
final class SatelClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = SatelDecodedItem
    typealias OutboundIn = CallerRequest
    typealias OutboundOut = SatelFrame

    private var stateMachine: ConnectionStateMachine
    private let report: @Sendable ([PanelUpdate], PanelSnapshot) -> Void
    private let finished: @Sendable (SatelClientError?, PanelStateTracker, EventLogWalker) -> Void
    private var requestTimer: Scheduled<Void>?
    private var pollTimer: Scheduled<Void>?
    private var requestPromises: [UInt64: EventLoopPromise<SatelResponse>] = [:]
    private var nextRequestID: UInt64 = 0
    private var context: ChannelHandlerContext?

    init(
        stateMachine: ConnectionStateMachine, report: @escaping @Sendable ([PanelUpdate], PanelSnapshot) -> Void,
        finished: @escaping @Sendable (SatelClientError?, PanelStateTracker, EventLogWalker) -> Void
    ) {
        self.stateMachine = stateMachine
        self.report = report
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            run(stateMachine.connected(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        run(stateMachine.connected(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        pollTimer?.cancel()
        run(stateMachine.closed(), context: context)
        finished(stateMachine.failure, stateMachine.tracker, stateMachine.walker)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .frame(let frame):
            run(stateMachine.frameReceived(frame), context: context)
        case .malformed(let error):
            run(stateMachine.malformedReceived(error), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run(stateMachine.errorCaught(error), context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        nextRequestID += 1
        requestPromises[nextRequestID] = request.promise
        promise?.succeed()
        run(stateMachine.callerRequested(id: nextRequestID, request: request.request), context: context)
    }

    private func run(_ actions: [ConnectionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(let request, let sequence, let timeout):
                requestTimer?.cancel()
                let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
                requestTimer = context.eventLoop.scheduleTask(in: timeout) {
                    loopBound.value.timerFired { $0.requestTimedOut(sequence: sequence) }
                }
                context.writeAndFlush(wrapOutboundOut(request.frame), promise: nil)
            case .schedulePoll(let delay, let generation):
                pollTimer?.cancel()
                let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
                pollTimer = context.eventLoop.scheduleTask(in: delay) {
                    loopBound.value.timerFired { $0.pollDue(generation: generation) }
                }
            case .report(let updates):
                report(updates, stateMachine.snapshot)
            case .completeRequest(let id, let result):
                guard let promise = requestPromises.removeValue(forKey: id) else { continue }
                switch result {
                case .success(let code): promise.succeed(code)
                case .failure(let error): promise.fail(error)
                }
            case .close:
                requestTimer?.cancel()
                pollTimer?.cancel()
                context.close(promise: nil)
            }
        }
    }

    private func timerFired(_ event: (inout ConnectionStateMachine) -> [ConnectionStateMachine.Action]) {
        guard let context else { return }
        run(event(&stateMachine), context: context)
    }
}
