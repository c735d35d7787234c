// libFuzzer target for the SATEL frame decoder and everything that reads what it produces.
//
// Built with `swift build --sanitize fuzzer` SwiftPM compiles this file as a library and libFuzzer's own
// `main` drives `LLVMFuzzerTestOneInput`; in a plain build the file has no top-level code and the binary
// does nothing. Run it with `scripts/fuzz-satel.sh`.
import NIOCore
import Satel
import SatelSimulator

@_cdecl("LLVMFuzzerTestOneInput")
public func satelFuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    SatelFuzzCase(input: input).run()
    return 0
}

/// One fuzz input: the first byte picks the chunk size the stream is cut into, the rest is the stream.
struct SatelFuzzCase {
    let input: [UInt8]

    func run() {
        guard let chunkSelector = input.first else { return }
        let stream = input.dropFirst()
        let chunkSize = Int(chunkSelector % 32) + 1
        let processor = NIOSingleStepByteToMessageProcessor(SatelFrameDecoder())
        var frames: [SatelFrame] = []
        var droppedBytes = 0
        var offset = stream.startIndex
        do {
            while offset < stream.endIndex {
                let end = min(offset + chunkSize, stream.endIndex)
                try processor.process(buffer: ByteBuffer(bytes: stream[offset..<end])) { item in
                    switch item {
                    case .frame(let frame): frames.append(frame)
                    case .malformed(let error): droppedBytes += error.droppedByteCount
                    }
                }
                offset = end
            }
            try processor.finishProcessing(seenEOF: true) { item in
                if case .malformed(let error) = item { droppedBytes += error.droppedByteCount }
                if case .frame(let frame) = item { frames.append(frame) }
            }
        } catch {
            // The decoder reports bad input as values; a thrown error is a bug.
            fatalError("decoder threw: \(error)")
        }
        let wireTotal = frames.reduce(0) { $0 + $1.wireBytes.count }
        precondition(wireTotal + droppedBytes <= stream.count, "decoder produced more bytes than it was given")

        var panel = SimulatedPanel(configuration: .default)
        panel.connectionOpened()
        for frame in frames {
            // Every decoded frame encodes back to a frame that decodes to itself.
            let again = NIOSingleStepByteToMessageProcessor(SatelFrameDecoder())
            var reparsed: [SatelDecodedItem] = []
            try? again.process(buffer: ByteBuffer(bytes: frame.wireBytes)) { reparsed.append($0) }
            precondition(reparsed == [.frame(frame)], "re-encoded frame does not decode to itself")
            // Typed readers never crash, whatever the frame says.
            if let response = try? SatelResponse(frame: frame) {
                precondition((try? SatelResponse(frame: response.frame)) == response, "response does not round-trip")
            }
            if let request = try? SatelRequest(frame: frame) {
                _ = panel.handle(request, now: 1_778_012_310)
            }
        }
        // Treat the stream as an encrypted PDU too.
        var session = IntegrationSession(ownID: chunkSelector, strict: true)
        _ = try? session.open(pdu: IntegrationCipher(key: IntegrationKey("fuzz")).decrypt(Array(stream.prefix(255))))
    }
}
