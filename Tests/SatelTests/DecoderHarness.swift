import NIOCore
@testable import Satel

/// Feeds chunks of bytes through a real `NIOSingleStepByteToMessageProcessor` and collects what comes out.
struct DecoderHarness {
    let processor = NIOSingleStepByteToMessageProcessor(SatelFrameDecoder())
    private(set) var items: [SatelDecodedItem] = []

    mutating func feed(_ bytes: [UInt8]) throws {
        var collected: [SatelDecodedItem] = []
        try processor.process(buffer: ByteBuffer(bytes: bytes)) { collected.append($0) }
        items += collected
    }

    mutating func finish() throws {
        var collected: [SatelDecodedItem] = []
        try processor.finishProcessing(seenEOF: true) { collected.append($0) }
        items += collected
    }

    var frames: [SatelFrame] {
        items.compactMap { if case .frame(let frame) = $0 { frame } else { nil } }
    }

    var errors: [SatelFramingError] {
        items.compactMap { if case .malformed(let error) = $0 { error } else { nil } }
    }

    static func decode(chunks: [[UInt8]], finish: Bool = true) throws -> DecoderHarness {
        var harness = DecoderHarness()
        for chunk in chunks {
            try harness.feed(chunk)
        }
        if finish {
            try harness.finish()
        }
        return harness
    }
}
