import DevStack
import Foundation
import Testing
@testable import DC09

/// The parser and the answers against dc09-spt 0.0.4 (a DC-09 dialler by Jacq. van Ovost, from PyPI, driven by
/// dc09_spt_driver.py): frames it builds are read, and answers built here pass its `dc09answer` check.
@Suite struct DC09SenderInteropTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let key128 = "0123456789ABCDEF", key256 = "0123456789ABCDEF0123456789abcdef"

    struct Frame: Decodable {
        var name: String
        var frame: String
        var key: String?
        var bytes: [UInt8] { DC09Hex.decode(frame) ?? [] }
        /// Between LF and CR.
        var body: ArraySlice<UInt8> { bytes.dropFirst().dropLast() }
    }

    static func driver(_ mode: String, input: String = "") throws -> [String] {
        try LocalProcess.run("\(root)/scripts/install-python-tools.sh", [])
        let script = "\(root)/Tests/DC09Tests/dc09_spt_driver.py"
        let inputFile = try RunDirectory.create("dc09").path + "/input.jsonl"
        try input.write(toFile: inputFile, atomically: true, encoding: .utf8)
        let output = try LocalProcess.run("/bin/sh", ["-c", "/usr/bin/python3 \(script) \(mode) < \(inputFile)"],
                                          environment: ["PYTHONPATH": "\(root)/.tools/dc09", "PYTHONDONTWRITEBYTECODE": "1"])
        return output.split(separator: "\n").map(String.init)
    }

    static func frames() throws -> [String: Frame] {
        let frames = try driver("frames").map { try JSONDecoder().decode(Frame.self, from: Data($0.utf8)) }
        return Dictionary(uniqueKeysWithValues: frames.map { ($0.name, $0) })
    }

    static func accounts(_ header: DC09Header) -> DC09Account {
        switch header.account {
        case "1234", "5678": .plain
        case "9ABC": (try? DC09Key(text: key128)).map(DC09Account.encrypted) ?? .unknown
        case "DEF0": (try? DC09Key(text: key256)).map(DC09Account.encrypted) ?? .unknown
        default: .unknown
        }
    }

    @Test func framesFromAnotherSenderAreRead() throws {
        let frames = try Self.frames()
        let parser = DC09MessageParser()
        let now = Date()
        func read(_ name: String) throws -> DC09Message {
            let frame = try #require(frames[name], "dc09-spt built no frame \(name)")
            return try parser.parse(frame.body, now: now, account: Self.accounts)
        }

        let sia = try read("plain SIA-DCS with receiver and location")
        #expect(sia.header == DC09Header(token: .siaDCS, encrypted: false, sequence: 1, receiver: "12AB", linePrefix: "3", account: "1234"))
        #expect(sia.data == "#1234|NBA1")
        #expect(sia.extendedData == [.init(letter: "X", value: "19.94"), .init(letter: "Y", value: "50.06")])
        #expect(sia.timestamp == nil)

        let contactID = try read("plain ADM-CID without receiver")
        #expect(contactID.header == DC09Header(token: .contactID, encrypted: false, sequence: 2, receiver: nil, linePrefix: "1", account: "5678"))
        #expect(contactID.data == "#5678|1130 01 015")

        let linkTest = try read("plain NULL")
        #expect(linkTest.header.token == .null)
        #expect(linkTest.data == "")

        let aes128 = try read("AES-128 SIA-DCS")
        #expect(aes128.header == DC09Header(token: .siaDCS, encrypted: true, sequence: 4, receiver: "1", linePrefix: "2", account: "9ABC"))
        #expect(aes128.data == "#9ABC|Nri2FA7")
        let sent = try #require(aes128.timestamp)
        #expect(abs(sent.timeIntervalSince(now)) < 5)

        let aes256 = try read("AES-256 ADM-CID")
        #expect(aes256.header.encrypted && aes256.header.token == .contactID)
        #expect(aes256.data == "#DEF0|1110 01 003")

        let encryptedLinkTest = try read("AES-128 NULL")
        #expect(encryptedLinkTest.header.token == .null && encryptedLinkTest.header.encrypted)
        #expect(encryptedLinkTest.timestamp != nil)
    }

    @Test func whatIsWrongWithAFrameDecidesItsError() throws {
        let frames = try Self.frames()
        let parser = DC09MessageParser()
        func code(_ body: some Collection<UInt8>, accounts: (DC09Header) -> DC09Account = Self.accounts) -> DC09MessageError.Code? {
            do { _ = try parser.parse(body, now: Date(), account: accounts); return nil } catch { return error.code }
        }
        let sia = Array(try #require(frames["plain SIA-DCS with receiver and location"]).body)
        var corrupted = sia
        corrupted[20] ^= 0x01
        #expect(code(corrupted) == .crcMismatch)
        #expect(code(sia.dropLast()) == .lengthMismatch)
        #expect(code(Array("zz".utf8) + sia.dropFirst(2)) == .malformed)
        #expect(code(sia) { _ in .unknown } == .unknownAccount)
        // A plain frame from an account that has a key, and an encrypted one with the wrong key.
        #expect(code(sia) { _ in (try? DC09Key(text: Self.key128)).map(DC09Account.encrypted) ?? .unknown } == .key)
        let aes128 = try #require(frames["AES-128 SIA-DCS"]).body
        #expect(code(aes128) { _ in (try? DC09Key(text: "FEDCBA9876543210")).map(DC09Account.encrypted) ?? .unknown } == .key)
        #expect(code(aes128) { _ in .plain } == .key)
        #expect(code(try #require(frames["AES-128 SIA-DCS, clock 5 minutes behind"]).body) == .timestamp)
        // A token this station does not read is well-formed: DUH, with the header to echo.
        let unknownToken = DC09Answer.frame("\"XNM\"0009L0#1234[]")
        do {
            _ = try parser.parse(unknownToken.dropFirst().dropLast(), now: Date(), account: Self.accounts)
            Issue.record("an unknown token was read")
        } catch {
            #expect(error.code == .unusable && !error.answersWithNAK)
            #expect(error.header?.sequence == 9 && error.header?.account == "1234")
        }
    }

    @Test func answersPassTheSendersCheck() throws {
        let frames = try Self.frames()
        let parser = DC09MessageParser()
        struct Request: Encodable { var sequence: Int; var key: String?; var account: String; var answer: String }
        var requests: [Request] = []
        var expected: [String] = []
        for name in ["plain SIA-DCS with receiver and location", "plain ADM-CID without receiver", "AES-128 SIA-DCS", "AES-256 ADM-CID", "AES-128 NULL"] {
            let frame = try #require(frames[name])
            let message = try parser.parse(frame.body, now: Date(), account: Self.accounts)
            let key = try frame.key.map { try DC09Key(text: $0) }
            let ack = try DC09Answer.ack(to: message.header, key: key, now: Date())
            requests.append(Request(sequence: message.header.sequence, key: frame.key, account: message.header.account, answer: DC09Hex.encode(ack)))
            expected.append("ACK")
            if !message.header.encrypted {
                requests.append(Request(sequence: message.header.sequence, key: nil, account: message.header.account,
                                        answer: DC09Hex.encode(DC09Answer.duh(to: message.header))))
                expected.append("DUH")
            }
        }
        requests.append(Request(sequence: 1, key: nil, account: "1234", answer: DC09Hex.encode(DC09Answer.nak(now: Date()))))
        expected.append("NAK")
        let input = try requests.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        struct Verdict: Decodable { var kind: String?; var offset: Double?; var error: String? }
        let verdicts = try Self.driver("answers", input: input).map { try JSONDecoder().decode(Verdict.self, from: Data($0.utf8)) }
        #expect(verdicts.count == expected.count)
        for (verdict, kind) in zip(verdicts, expected) {
            #expect(verdict.error == nil)
            #expect(verdict.kind == kind)
        }
        // The encrypted ACKs and the NAK carry the receiver's time, which dc09-spt turns into its clock offset.
        let offsets = zip(requests, verdicts).filter { $0.0.key != nil || $0.1.kind == "NAK" }.map { $0.1.offset }
        #expect(offsets.count == 4)
        for offset in offsets { #expect(offset.map { abs($0) < 5 } == true) }
    }

    @Test(arguments: [nil, "0123456789ABCDEF", "0123456789ABCDEF01234567", "0123456789ABCDEF0123456789ABCDEF"])
    func ourOwnFramesReadBack(keyText: String?) throws {
        let key = try keyText.map { try DC09Key(text: $0) }
        let header = DC09Header(token: .siaDCS, encrypted: key != nil, sequence: 42, receiver: "5", linePrefix: "1", account: "ABC123")
        let sent = DC09Message(header: header, data: "#ABC123|Nri1/BA03^Hall^", extendedData: [.init(letter: "I", value: "back door")],
                               timestamp: key == nil ? nil : Date(timeIntervalSince1970: 1_796_000_000))
        let frame = try DC09MessageBuilder.frame(sent, key: key)
        let read = try DC09MessageParser().parse(frame.dropFirst().dropLast(), now: Date(timeIntervalSince1970: 1_796_000_010)) { _ in
            key.map(DC09Account.encrypted) ?? .plain
        }
        #expect(read == sent)
    }

    @Test func crcIsCRC16ARC() {
        // The catalogue's check value of CRC-16/ARC.
        #expect(DC09CRC.checksum(Array("123456789".utf8)) == 0xBB3D)
    }
}
