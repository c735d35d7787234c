import Satel
import NIOCore

/// Serves the simulator's control port: one YAML flow-mapping command per line, answered in order with
/// `ok`, `state …` or `error: …`. Loopback only by default: it has no authentication.
final class SimulatorControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let panels: [PanelSimulator]
    private var pending = ByteBuffer()
    /// Replies go out in the order the lines came in, whatever each one waits for.
    private var lastReply: EventLoopFuture<Void>?

    init(panels: [PanelSimulator]) {
        self.panels = panels
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex
            let line = pending.readString(length: length) ?? ""
            pending.moveReaderIndex(forwardBy: 1)
            handle(line: line.trimmingCharacters(in: [" ", "\r", "\t"]), context: context)
        }
        pending.discardReadBytes()
        if pending.readableBytes > 64 * 1024 {
            context.close(promise: nil)
        }
    }

    private func handle(line: String, context: ChannelHandlerContext) {
        guard !line.isEmpty, !line.hasPrefix("#") else { return }
        let loop = context.eventLoop
        let reply: EventLoopFuture<String>
        do {
            let command = try SimulatorControlCommand.parse(line: line)
            let targets = command.panel == 0 ? panels : (command.panel <= panels.count && command.panel >= 1 ? [panels[command.panel - 1]] : [])
            if targets.isEmpty {
                reply = loop.makeSucceededFuture("error: no panel \(command.panel)")
            } else {
                switch command.request {
                case .perform(let action):
                    let done = targets.map { $0.performOnLoop(action) }
                    reply = EventLoopFuture.andAllSucceed(done, on: loop).map { "ok" }
                case .state:
                    reply = targets[0].stateSummary().hop(to: loop)
                case .changes:
                    reply = targets[0].changeSummary().hop(to: loop)
                case .clients:
                    let counters = targets.map { panel in panel.eventLoop.submit { panel.statisticsOnLoop }.hop(to: loop) }
                    reply = EventLoopFuture.whenAllSucceed(counters, on: loop).map { all in
                        "clients accepted=\(all.reduce(0) { $0 + $1.connectionsAccepted }) refused=\(all.reduce(0) { $0 + $1.connectionsRefused }) "
                            + "peak-above-1=\(all.count { $0.peakConcurrentClients > 1 })"
                    }
                }
            }
        } catch {
            reply = loop.makeSucceededFuture("error: \(error)")
        }
        let previous = lastReply ?? loop.makeSucceededVoidFuture()
        let channel = context.channel
        lastReply = previous.flatMap { reply }.flatMap { text in
            channel.writeAndFlush(ByteBuffer(string: text.replacingOccurrences(of: "\n", with: " ") + "\n"))
        }.recover { _ in }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
