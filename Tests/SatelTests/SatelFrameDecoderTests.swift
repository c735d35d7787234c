import NIOCore
import NIOEmbedded
import Testing
@testable import Satel

@Suite struct SatelFrameDecoderTests {
    static let allWire: [UInt8] = FramingVector.all.flatMap(\.wire)
    static let allFrames: [SatelFrame] = FramingVector.all.map(\.frame)

    @Test(arguments: FramingVector.all)
    func decodesEachVectorWhole(_ vector: FramingVector) throws {
        let harness = try DecoderHarness.decode(chunks: [vector.wire])
        #expect(harness.items == [.frame(vector.frame)])
    }

    @Test func decodesAllVectorsFedByteByByte() throws {
        let harness = try DecoderHarness.decode(chunks: Self.allWire.map { [$0] })
        #expect(harness.frames == Self.allFrames)
        #expect(harness.errors.isEmpty)
    }

    @Test func decodesAllVectorsMergedIntoOneRead() throws {
        let harness = try DecoderHarness.decode(chunks: [Self.allWire])
        #expect(harness.frames == Self.allFrames)
        #expect(harness.errors.isEmpty)
    }

    @Test(arguments: [1, 2, 3, 42, 1_000, 65_535, 987_654_321] as [UInt64])
    func decodesAllVectorsInRandomChunks(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var chunks: [[UInt8]] = []
        var rest = Self.allWire[...]
        while !rest.isEmpty {
            let size = Int.random(in: 1...min(40, rest.count), using: &generator)
            chunks.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        let harness = try DecoderHarness.decode(chunks: chunks)
        #expect(harness.frames == Self.allFrames)
        #expect(harness.errors.isEmpty)
    }

    @Test func skipsTheBusyBannerBeforeASync() throws {
        let banner = SatelHex.bytes("10 42 75 73 79 21 0D 0A D8 A5 A5 A5 A5 A5 A5 A5")!
        let frame = SatelHex.bytes("FE FE EF 00 4E AA FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [banner + frame])
        #expect(harness.frames == [SatelFrame(command: 0xEF, data: [0x00])])
        #expect(harness.errors == [SatelFramingError(code: .bytesOutsideFrame, bytes: banner)])
    }

    @Test func ignoresExtraSyncBytesBeforeTheCommand() throws {
        let harness = try DecoderHarness.decode(chunks: [SatelHex.bytes("FE FE FE FE 7E D8 60 FE 0D")!])
        #expect(harness.items == [.frame(SatelFrame(command: 0x7E))])
    }

    @Test func reportsABadCRCWithItsBytesAndCarriesOn() throws {
        let bad = SatelHex.bytes("FE FE 7E D8 61 FE 0D")!
        let good = SatelHex.bytes("FE FE 7C D8 5E FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [bad + good])
        #expect(harness.items == [
            .malformed(SatelFramingError(code: .crcMismatch, bytes: bad)),
            .frame(SatelFrame(command: 0x7C)),
        ])
    }

    @Test func aSyncInsideAFrameDropsItAndStartsANewOne() throws {
        let broken = SatelHex.bytes("FE FE 00 01 02")!
        let good = SatelHex.bytes("FE FE 7E D8 60 FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [broken, good])
        #expect(harness.items == [
            .malformed(SatelFramingError(code: .interruptedBySync, bytes: broken)),
            .frame(SatelFrame(command: 0x7E)),
        ])
    }

    @Test func anInvalidEscapeIsReported() throws {
        let broken = SatelHex.bytes("FE FE 00 FE 11")!
        let good = SatelHex.bytes("FE FE 7E D8 60 FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [broken + [0x22] + good])
        #expect(harness.items == [
            .malformed(SatelFramingError(code: .invalidEscape, bytes: broken)),
            .malformed(SatelFramingError(code: .bytesOutsideFrame, bytes: [0x22])),
            .frame(SatelFrame(command: 0x7E)),
        ])
    }

    @Test func aFrameWithoutRoomForACRCIsTooShort() throws {
        let short = SatelHex.bytes("FE FE 7E D8 FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [short])
        #expect(harness.items == [.malformed(SatelFramingError(code: .frameTooShort, bytes: short))])
    }

    @Test func anEndlessFrameIsCutAtTheLimit() throws {
        let endless = [0xFE, 0xFE] + [UInt8](repeating: 0x11, count: 3_000)
        let good = SatelHex.bytes("FE FE 7E D8 60 FE 0D")!
        let harness = try DecoderHarness.decode(chunks: [endless, good])
        #expect(harness.errors.map(\.code) == [.frameTooLong, .bytesOutsideFrame])
        #expect(harness.errors.map(\.droppedByteCount).reduce(0, +) == endless.count)
        #expect(harness.frames == [SatelFrame(command: 0x7E)])
    }

    @Test func aFrameCutByEndOfStreamIsReported() throws {
        let cut = SatelHex.bytes("FE FE 0A 01 00")!
        let harness = try DecoderHarness.decode(chunks: [cut])
        #expect(harness.items == [.malformed(SatelFramingError(code: .truncatedAtEndOfStream, bytes: cut))])
    }

    @Test func aLongFERunDoesNotGrowTheBuffer() throws {
        var harness = DecoderHarness()
        try harness.feed([UInt8](repeating: 0xFE, count: 10_000))
        #expect(harness.processor.unprocessedBytes <= 2)
        try harness.feed(SatelHex.bytes("7E D8 60 FE 0D")!)
        #expect(harness.frames == [SatelFrame(command: 0x7E)])
    }

    @Test(arguments: 0..<20 as Range<UInt64>)
    func randomGarbageNeverHidesTheFrameAfterIt(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        // Heavy in FE, F0 and 0D so that stuffing, sync and end markers collide often.
        let alphabet: [UInt8] = [0xFE, 0xFE, 0xFE, 0xF0, 0x0D, 0x00, 0x7E, 0xEF, 0x42]
        let garbage = (0..<Int.random(in: 0...200, using: &generator)).map { _ in
            alphabet.randomElement(using: &generator)!
        }
        let good = SatelFrame(command: 0x0A, data: [0x01, 0xFE, 0x00, 0x00])
        let chunkSize = Int.random(in: 1...17, using: &generator)
        let stream = garbage + good.wireBytes
        let chunks = stride(from: 0, to: stream.count, by: chunkSize).map {
            Array(stream[$0..<min($0 + chunkSize, stream.count)])
        }
        let harness = try DecoderHarness.decode(chunks: chunks)
        #expect(harness.items.last == .frame(good))
        let dropped = harness.errors.map(\.droppedByteCount).reduce(0, +)
        let decoded = harness.frames.dropLast().map(\.wireBytes.count).reduce(0, +)
        #expect(dropped + decoded + good.wireBytes.count <= stream.count)
    }

    @Test func worksInAChannelPipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SatelFrameDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: Self.allWire))
        var frames: [SatelFrame] = []
        while let item = try channel.readInbound(as: SatelDecodedItem.self) {
            if case .frame(let frame) = item { frames.append(frame) }
        }
        #expect(frames == Self.allFrames)
        #expect(try channel.finish().isClean)
    }

    @Test func statisticsCountFramesAndErrorsByCode() throws {
        var decoder = SatelFrameDecoder()
        var buffer = ByteBuffer(bytes: SatelHex.bytes("AA FE FE 7E D8 61 FE 0D FE FE 7E D8 60 FE 0D")!)
        while let _ = try decoder.decode(buffer: &buffer) {}
        #expect(decoder.statistics.framesDecoded == 1)
        #expect(decoder.statistics.malformedByCode == [.bytesOutsideFrame: 1, .crcMismatch: 1])
        #expect(decoder.statistics.malformedTotal == 2)
    }
}
