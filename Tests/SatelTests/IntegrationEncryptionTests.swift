import NIOCore
import NIOEmbedded
import Testing
@testable import Satel
@testable import SatelSimulator

/// Encrypted integration (doc §8) against the vectors reproduced there by four implementations.
@Suite(.timeLimit(.minutes(1))) struct IntegrationEncryptionTests {
    @Test(arguments: [
        ("", "20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20"),
        ("short_key", "73686F72745F6B6579202020 73686F72745F6B6579202020"),
        ("too_long_key1234", "746F6F5F6C6F6E675F6B6579 746F6F5F6C6F6E675F6B6579"),
    ])
    func keysAreTwelveCharactersRepeated(text: String, expected: String) {
        #expect(IntegrationKey(text).keyBytes == SatelHex.bytes(expected))
    }

    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let key: String
        let plaintext: String
        let wire: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "E1 satel-integra", key: "some_key",
            plaintext: "52 3D 00 03 00 54 FE FE 7F FF FF FF FF FF FF FE F0 8A FE 0D",
            wire: "14 43 D8 64 30 7E 6B 84 31 CD 75 59 CE 2E F9 D4 1F 26 61 5C 2F"),
        Vector(
            name: "E2 short frame", key: "ABCDEFGHIJKL",
            plaintext: "A1 B2 00 00 42 00 FE FE 7E D8 60 FE 0D 00 00 00",
            wire: "10 26 E0 E7 B0 B4 FA 8E C9 F2 0D 92 E0 8E 3C 4E F7"),
        Vector(
            name: "E3 block and tail", key: "ABCDEFGHIJKL",
            plaintext: "13 37 00 01 43 99 FE FE 80 12 34 FF FF FF FF FF FF 01 00 00 00 9D 9E FE 0D",
            wire: "19 14 B9 EC 23 F9 2F C0 7E 2F 0B 13 E4 92 AE F4 25 C1 49 E0 DD 50 C6 D0 CB 50"),
    ]

    @Test(arguments: vectors)
    func encryptsToTheKnownWireBytes(_ vector: Vector) {
        let cipher = IntegrationCipher(key: IntegrationKey(vector.key))
        let plaintext = SatelHex.bytes(vector.plaintext)!
        let wire = SatelHex.bytes(vector.wire)!
        #expect([UInt8(plaintext.count)] + cipher.encrypt(plaintext) == wire)
        #expect(cipher.decrypt(Array(wire.dropFirst())) == plaintext)
    }

    @Test func aShortPlaintextIsPaddedToOneBlock() {
        let cipher = IntegrationCipher(key: IntegrationKey("ABCDEFGHIJKL"))
        let padded = SatelHex.bytes("A1 B2 00 00 42 00 FE FE 7E D8 60 FE 0D 00 00 00")!
        #expect(cipher.encrypt(Array(padded.prefix(13))) == cipher.encrypt(padded))
    }

    @Test func sessionsBuildAndCheckTheHeader() throws {
        var client = IntegrationSession(ownID: 0x42, strict: true)
        let frame = SatelRequest.readIntegraVersion.frame.wireBytes
        let first = client.seal(frame: frame, random: 0xA1B2)
        #expect(first == SatelHex.bytes("A1 B2 00 00 42 00 FE FE 7E D8 60 FE 0D 00 00 00"))
        #expect(client.seal(frame: frame, random: 0).prefix(4) == [0, 0, 0, 1])
        // The panel answers echoing our id: accepted, and its id becomes our next echo.
        let answer = SatelResponse.result(.ok).frame.wireBytes
        #expect(try client.open(pdu: [9, 9, 0, 0, 0x77, 0x42] + answer + [0, 0, 0]) == answer)
        #expect(client.seal(frame: frame, random: 0)[5] == 0x77)
        // An answer echoing another id is a wrong key (or desync).
        #expect(throws: SatelIntegrationError.self) { try client.open(pdu: [9, 9, 0, 1, 0x77, 0x01] + answer) }
        // The module's side is lenient about the echo.
        var panel = IntegrationSession(ownID: 0x77, strict: false)
        #expect(try panel.open(pdu: [0, 0, 0, 0, 0x42, 0x99] + frame) == frame)
    }

    @Test func handlersTalkToEachOtherThroughEmbeddedChannels() throws {
        let key = IntegrationKey("some_key")
        let client = EmbeddedChannel(handler: IntegrationEncryptionHandler(key: key, role: .client, ownID: 1))
        let panel = EmbeddedChannel(handler: IntegrationEncryptionHandler(key: key, role: .panel, ownID: 2))
        let request = SatelRequest.readEvent(.newest).frame.wireBytes
        try client.writeOutbound(ByteBuffer(bytes: request))
        var wire = try #require(try client.readOutbound(as: ByteBuffer.self))
        #expect(wire.readableBytes == 1 + 16)
        #expect(Array(wire.readableBytesView.dropFirst()) != Array(request))
        // Deliver it split in two reads to exercise the length-prefixed reassembly.
        let head = wire.readSlice(length: 5)!
        try panel.writeInbound(head)
        #expect(try panel.readInbound(as: ByteBuffer.self) == nil)
        try panel.writeInbound(wire)
        let received = try #require(try panel.readInbound(as: ByteBuffer.self))
        #expect(Array(received.readableBytesView) == request)
        _ = try client.finish()
        _ = try panel.finish()
    }

    @Test func theClientTalksToAnEncryptedSimulator() async throws {
        try await ClientHarness.run(
            simulator: SimulatorConfiguration(port: 0, integrationKey: "secret key 1"),
            client: { $0.integrationKey = "secret key 1" }
        ) { harness in
            try await harness.waitForSynchronized()
            #expect(harness.client.snapshot.identity?.model == .integra128)
            #expect(try await harness.client.execute(.arm(mode: .mode1, partitions: ObjectBitmap(numbers: [1], byteCount: 4)), code: UserCode("1234")!) == .ok)
            try await harness.waitForSnapshot { $0.objects(.partitionsArmedMode1) == [1] }
        }
    }

    @Test func aBusyEncryptedModuleIsStillRecognised() async throws {
        try await ClientHarness.run(
            simulator: SimulatorConfiguration(port: 0, integrationKey: "secret key 1"),
            client: { $0.integrationKey = "secret key 1" }
        ) { harness in
            try await harness.waitForSynchronized()
            let port = try harness.server.boundPorts()[0]
            await #expect {
                _ = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, integrationKey: "secret key 1"))
            } throws: { error in
                (error as? PanelProbeFailure)?.reason == .busy
            }
        }
    }

    @Test func aWrongKeyIsReportedAsSuch() async throws {
        let server = SimulatorServer(configuration: SimulatorConfiguration(port: 0, integrationKey: "right key"))
        let port = try await server.start()[0]
        await #expect {
            _ = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, integrationKey: "wrong key", requestTimeout: .milliseconds(500)))
        } throws: { error in
            (error as? PanelProbeFailure)?.reason == .wrongKey
        }
        await server.stop()
    }

    @Test func theProbeWorksEncrypted() async throws {
        let server = SimulatorServer(configuration: SimulatorConfiguration(port: 0, integrationKey: "right key"))
        let port = try await server.start()[0]
        let report = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, integrationKey: "right key"))
        #expect(report.encrypted && report.model == "INTEGRA 128")
        await server.stop()
    }
}
