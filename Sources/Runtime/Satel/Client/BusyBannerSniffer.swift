import NIOCore

/// Looks at the first bytes a module sends: the "Busy!" banner (plain or encrypted mode alike, doc §7.2)
/// means another client holds the slot. After five bytes that are not the banner it steps aside.
final class BusyBannerSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var seen: [UInt8] = []
    private var decided = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        let buffer = unwrapInboundIn(data)
        seen += buffer.readableBytesView.prefix(BusyBanner.signature.count - seen.count)
        if seen == Array(BusyBanner.signature.prefix(seen.count)) {
            if seen.count == BusyBanner.signature.count {
                decided = true
                context.fireErrorCaught(SatelIntegrationError(code: .moduleBusy, bytes: Array(buffer.readableBytesView)))
                return
            }
            // Could still be the banner; hold nothing back, the frame decoder treats it as stray bytes.
            context.fireChannelRead(data)
            return
        }
        decided = true
        context.fireChannelRead(data)
    }
}
