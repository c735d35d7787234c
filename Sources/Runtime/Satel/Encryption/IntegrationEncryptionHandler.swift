import NIOCore

/// Wraps plain frames into encrypted PDUs and back (doc §8.4): `[L][L bytes of ciphertext]` on the wire,
/// one plain frame inside each PDU. Sits between the socket and the frame codec.
public final class IntegrationEncryptionHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public enum Role {
        /// Checks that every PDU echoes our id; a mismatch is reported as a wrong key.
        case client
        /// Lenient, as nothing is known about the module's own checks (doc §8.5).
        case panel
    }

    private let cipher: IntegrationCipher
    private var session: IntegrationSession
    private var pending = ByteBuffer()
    private var generator = SystemRandomNumberGenerator()

    public init(key: IntegrationKey, role: Role, ownID: UInt8? = nil) {
        cipher = IntegrationCipher(key: key)
        var generator = SystemRandomNumberGenerator()
        session = IntegrationSession(ownID: ownID ?? UInt8.random(in: 0...255, using: &generator), strict: role == .client)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        while let length = pending.getInteger(at: pending.readerIndex, as: UInt8.self) {
            if length == 0 {
                // A zero length byte means the peer is closing.
                context.close(promise: nil)
                return
            }
            guard pending.readableBytes >= 1 + Int(length) else { break }
            pending.moveReaderIndex(forwardBy: 1)
            let ciphertext = pending.readBytes(length: Int(length))!
            do {
                let frame = try session.open(pdu: cipher.decrypt(ciphertext))
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: frame)))
            } catch {
                context.fireErrorCaught(error)
            }
        }
        pending.discardReadBytes()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        let frame = buffer.readBytes(length: buffer.readableBytes) ?? []
        guard frame.count <= 249 else {
            promise?.fail(SatelIntegrationError(code: .frameTooLongToEncrypt, bytes: frame))
            return
        }
        let pdu = session.seal(frame: frame, random: UInt16.random(in: 0...UInt16.max, using: &generator))
        var out = context.channel.allocator.buffer(capacity: pdu.count + 1)
        out.writeInteger(UInt8(pdu.count))
        out.writeBytes(cipher.encrypt(pdu))
        context.write(wrapOutboundOut(out), promise: promise)
    }
}
