import NIOCore
import Testing
@testable import DC09

/// `DC09FrameDecoder` through NIO's own single-step processor, fed the way TCP delivers: several frames in one
/// read, a frame over several reads, noise around them.
@Suite struct DC09FrameDecoderTests {
    static let first = DC09Answer.frame("\"NULL\"0001L0#1234[]"), second = DC09Answer.frame("\"SIA-DCS\"0002L0#1234[#1234|NBA1]")

    /// Everything the decoder emits for `reads`, fed in that order, then end of stream.
    static func items(_ reads: [[UInt8]], maximumFrameLength: Int = 8 + 0xFFF) throws -> [DC09StreamItem] {
        var processor = NIOSingleStepByteToMessageProcessor(DC09FrameDecoder(maximumFrameLength: maximumFrameLength))
        var items: [DC09StreamItem] = []
        for read in reads {
            try processor.process(buffer: ByteBuffer(bytes: read)) { items.append($0) }
        }
        try processor.finishProcessing(seenEOF: true) { items.append($0) }
        return items
    }

    static func body(_ frame: [UInt8]) -> [UInt8] { Array(frame.dropFirst().dropLast()) }

    @Test func twoFramesInOneRead() throws {
        #expect(try Self.items([Self.first + Self.second]) == [.frame(Self.body(Self.first)), .frame(Self.body(Self.second))])
    }

    @Test func aFrameSplitOverReadsIsWholeOnceItsCRCame() throws {
        let whole = Self.first + Self.second
        for cut in 1..<whole.count {
            #expect(try Self.items([Array(whole[..<cut]), Array(whole[cut...])]) == [.frame(Self.body(Self.first)), .frame(Self.body(Self.second))])
        }
        #expect(try Self.items(Self.first.map { [$0] }) == [.frame(Self.body(Self.first))])
    }

    @Test func noiseBeforeAFrameIsDroppedAndReported() throws {
        #expect(try Self.items([Array("GET / HTTP/1.0\r".utf8) + Self.first]) == [.discarded(byteCount: 15, reason: .beforeFrame), .frame(Self.body(Self.first))])
        #expect(try Self.items([Array("\0\0\0".utf8)]) == [.discarded(byteCount: 3, reason: .beforeFrame)])
    }

    @Test func aFrameCutShortByTheNextIsDroppedAndTheNextKept() throws {
        let cut = Array(Self.first.prefix(10))
        #expect(try Self.items([cut + Self.second]) == [.discarded(byteCount: 10, reason: .unterminated), .frame(Self.body(Self.second))])
        #expect(try Self.items([cut]) == [.discarded(byteCount: 10, reason: .unterminated)])
    }

    @Test func aFrameWithoutCRIsDroppedAtTheLimitAndTheStreamGoesOn() throws {
        let endless = [UInt8(ascii: "\n")] + [UInt8](repeating: UInt8(ascii: "A"), count: 100)
        let items = try Self.items([endless, Self.first], maximumFrameLength: 50)
        #expect(items == [.discarded(byteCount: 52, reason: .tooLong), .discarded(byteCount: 49, reason: .beforeFrame), .frame(Self.body(Self.first))])
    }
}
