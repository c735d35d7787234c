import NIOCore
import Testing
@testable import Satel

@Suite struct SatelFrameTests {
    @Test(arguments: FramingVector.all)
    func encodesToTheKnownWireBytes(_ vector: FramingVector) {
        #expect(vector.frame.wireBytes == vector.wire)
    }

    @Test func encoderHandlerWritesTheSameBytes() throws {
        let frame = SatelFrame(command: 0x1C)
        var buffer = ByteBuffer()
        try SatelFrameEncoder().encode(data: frame, out: &buffer)
        #expect(Array(buffer.readableBytesView) == SatelHex.bytes("FE FE 1C D7 FE F0 FE 0D"))
    }

    @Test func hexParserRejectsOddDigits() {
        #expect(SatelHex.bytes("FE F") == nil)
        #expect(SatelHex.bytes("FF×3 00") == [0xFF, 0xFF, 0xFF, 0x00])
    }
}
