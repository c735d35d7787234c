import NIOCore
import NIOEmbedded
import Sms
import Testing

@Suite struct ATLineDecoderTests {
    /// Feeds `chunks` through the decoder in a real channel pipeline and returns what came out.
    func decode(_ chunks: [String]) throws -> [ModemLine] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ATLineDecoder(maximumLineLength: 64)))
        var lines: [ModemLine] = []
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
            while let line = try channel.readInbound(as: ModemLine.self) { lines.append(line) }
        }
        _ = try channel.finish()
        return lines
    }

    @Test func linesSplitAnywhere() throws {
        let lines = try decode(["\r\n+CMGL: 1,0,,2", "4\r\n0791", "1326\r", "\nOK\r\n"])
        #expect(lines == [.line("+CMGL: 1,0,,24"), .line("07911326"), .line("OK")])
    }

    @Test func promptWithoutLineEnd() throws {
        #expect(try decode(["\r\n>", " "]) == [.prompt])
        #expect(try decode(["\r\n> "]) == [.prompt])
    }

    @Test func unsolicitedCodeInTheMiddleOfAnAnswer() throws {
        let lines = try decode(["\r\n+CMGL: 1,0,,24\r\n\r\n+CMTI: \"SM\",2\r\n0791AB\r\nOK\r\n"])
        #expect(lines.map(ModemResponse.init) == [
            .information("+CMGL: 1,0,,24"), .newMessage(storage: "SM", index: 2), .information("0791AB"), .ok,
        ])
    }

    @Test func garbageIsCappedAndRepaired() throws {
        let lines = try decode([String(repeating: "x", count: 70), "\u{FF}\r\nOK\r\n"])
        #expect(lines.count == 3)
        #expect(lines.last == .line("OK"))
    }

    @Test(arguments: [
        ("+CMS ERROR: 322", ModemResponse.cmsError(322, "memory full")),
        ("+CME ERROR: 16", .cmeError(16, "incorrect password")),
        ("+CME ERROR: SIM not inserted", .cmeError(nil, "SIM not inserted")),
        ("ERROR", .error),
        ("RING", .otherUnsolicited("RING")),
    ])
    func classification(line: String, expected: ModemResponse) {
        #expect(ModemResponse(.line(line)) == expected)
    }
}
