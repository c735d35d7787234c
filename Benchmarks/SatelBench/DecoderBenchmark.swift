import Foundation
import NIOCore
import Satel
import SatelSimulator

/// How fast the frame decoder cuts a realistic byte stream (answers of every kind, some stuffed) into frames.
struct DecoderBenchmark {
    struct Result {
        /// Per second of wall-clock time (suffers when other processes share the cores).
        var megabytesPerSecond: Double
        var framesPerSecond: Double
        /// Per second of this thread's CPU time (what the decoder itself costs).
        var megabytesPerCPUSecond: Double
        var bytes: Int
        var frames: Int
    }

    var totalBytes = 64 * 1024 * 1024
    var readSize = 16 * 1024

    func run() throws -> Result {
        let samples: [SatelFrame] = [
            SatelResponse.newData(NewDataFlags(bytes: [0, 0, 0, 0, 0, 0])).frame,
            SatelResponse.state(.zonesViolation, ObjectBitmap(numbers: [3, 17, 120], byteCount: 16)).frame,
            SatelResponse.state(.partitionsArmed, ObjectBitmap(numbers: [1], byteCount: 4)).frame,
            SatelResponse.state(.outputsState, ObjectBitmap(numbers: [2, 3, 4, 5, 6, 7, 8], byteCount: 32)).frame,
            SatelResponse.result(.accepted).frame,
            SatelFrame(command: 0x8C, data: [0xBF, 0xC5, 0x54, 0xC2, 0x87, 0xFB, 0x03, 0x01, 0x03, 0x58, 0x96, 0x03, 0x50, 0x96]),
            SatelFrame(command: 0x7F, data: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            SatelFrame(command: 0x1C),
        ]
        var pattern = ByteBuffer()
        for frame in samples {
            frame.encode(into: &pattern)
        }
        let framesPerPattern = samples.count
        let repeats = max(1, totalBytes / pattern.readableBytes)
        var stream = ByteBuffer()
        stream.reserveCapacity(repeats * pattern.readableBytes)
        for _ in 0..<repeats {
            var copy = pattern
            stream.writeBuffer(&copy)
        }
        let bytes = stream.readableBytes
        // Cut into reads of `readSize` up front so slicing is not measured.
        var reads: [ByteBuffer] = []
        while stream.readableBytes > 0 {
            reads.append(stream.readSlice(length: min(readSize, stream.readableBytes))!)
        }
        let processor = NIOSingleStepByteToMessageProcessor(SatelFrameDecoder())
        var frames = 0
        var malformed = 0
        let cpuStart = Self.threadCPUSeconds()
        let start = ContinuousClock.now
        for read in reads {
            try processor.process(buffer: read) { item in
                if case .frame = item { frames += 1 } else { malformed += 1 }
            }
        }
        let elapsed = ContinuousClock.now - start
        let cpuSeconds = Self.threadCPUSeconds() - cpuStart
        precondition(malformed == 0 && frames == repeats * framesPerPattern, "decoder lost frames: \(frames) \(malformed)")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(
            megabytesPerSecond: Double(bytes) / seconds / 1_000_000, framesPerSecond: Double(frames) / seconds,
            megabytesPerCPUSecond: Double(bytes) / cpuSeconds / 1_000_000, bytes: bytes, frames: frames)
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
