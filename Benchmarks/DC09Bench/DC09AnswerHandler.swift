import DC09
import NIOCore

/// The communicator's end of one TCP connection: writes frames and pairs each answer with the oldest frame still
/// waiting (the receiver answers a connection's frames in order), timing frame written -> answer read on the event
/// loop, the same thread for both instants. Frames still waiting when the connection closes are recorded as such.
final class DC09AnswerHandler: ChannelDuplexHandler {
    typealias InboundIn = DC09StreamItem
    typealias OutboundIn = DC09OutgoingFrame
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var frame: DC09OutgoingFrame
        var sentAt: ContinuousClock.Instant
    }

    private let recorder: DC09BenchRecorder
    private var waiting = CircularBuffer<Waiting>()

    init(recorder: DC09BenchRecorder) {
        self.recorder = recorder
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        waiting.append(Waiting(frame: frame, sentAt: .now))
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: frame.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let answeredAt = ContinuousClock.now
        switch unwrapInboundIn(data) {
        case .frame(let body):
            guard let sent = waiting.popFirst() else {
                recorder.unexpectedAnswer()
                return
            }
            let milliseconds = Self.milliseconds(answeredAt - sent.sentAt)
            if let mismatch = sent.frame.expected.mismatch(in: body) {
                recorder.record(sent.frame.id, .wrong(milliseconds: milliseconds, detail: mismatch))
            } else {
                recorder.record(sent.frame.id, .answered(milliseconds: milliseconds))
            }
        case .discarded(let count, _):
            recorder.noise(count)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        while let sent = waiting.popFirst() {
            recorder.record(sent.frame.id, .connectionClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
