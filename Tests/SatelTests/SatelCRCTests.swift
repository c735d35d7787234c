import Testing
@testable import Satel

@Suite struct SatelCRCTests {
    @Test func officialWorkedExampleIntermediateValues() {
        // Doc appendix 4: E0 12 34 FF FF -> D8C2, 4EDA, 62E1, 3B76, 8A9B.
        var crc = SatelCRC.initialValue
        var seen: [UInt16] = []
        for byte: UInt8 in [0xE0, 0x12, 0x34, 0xFF, 0xFF] {
            crc = SatelCRC.update(crc, with: byte)
            seen.append(crc)
        }
        #expect(seen == [0xD8C2, 0x4EDA, 0x62E1, 0x3B76, 0x8A9B])
    }

    @Test(arguments: FramingVector.all)
    func crcMatchesTheVector(_ vector: FramingVector) {
        let crc = SatelCRC.compute(vector.body)
        // The CRC sits just before the closing FE 0D; unstuff the tail to read it.
        var unstuffed: [UInt8] = []
        var index = 2
        while index < vector.wire.count - 2 {
            if vector.wire[index] == 0xFE {
                unstuffed.append(0xFE)
                index += 2
            } else {
                unstuffed.append(vector.wire[index])
                index += 1
            }
        }
        let expected = UInt16(unstuffed[unstuffed.count - 2]) << 8 | UInt16(unstuffed[unstuffed.count - 1])
        #expect(crc == expected)
        #expect(Array(unstuffed.dropLast(2)) == vector.body)
    }
}
