import Satel
import NIOCore

/// Turns a second client away the way the module does: the "Busy!" banner, then close.
final class BusyRejectHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let banner = context.channel.allocator.buffer(bytes: BusyBanner.bytes)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(banner)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the refused client sends is ignored.
    }
}
