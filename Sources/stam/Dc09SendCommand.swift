import ArgumentParser
import DC09
import Foundation

/// `stam dc09-send`: sends one SIA DC-09 message to a receiver and prints its answer, as a communicator would: for
/// installers checking an account and a path, and for tests. Exits 0 on ACK, 1 on NAK or DUH, 2 with no answer.
struct Dc09SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dc09-send",
        abstract: "Send one SIA DC-09 message (an event or a link test) to a receiver and print its answer.")

    enum KeyForm: String, ExpressibleByArgument, CaseIterable {
        case hex
        case text
    }

    @Option(help: "Receiver address.") var host: String
    @Option(help: "Receiver port.") var port: Int
    @Flag(help: "Send over UDP (default TCP).") var udp = false
    @Option(help: "Account (3 to 16 hex digits).") var account: String
    @Option(help: "Receiver number (R), when the receiver expects one.") var receiver: String?
    @Option(help: "Line prefix (L).") var line = "0"
    @Option(help: "Sequence number, 1-9999.") var sequence = 1
    @Option(help: "Contact ID event, QEEE GG CCC (e.g. '1130 01 015').") var contactId: String?
    @Option(help: "SIA DC-03 data (e.g. 'Nri1/BA03').") var sia: String?
    @Option(help: "File holding the account's AES key (- for standard input; the key stays out of the process list); encrypts the message.")
    var keyFile: String?
    @Option(help: "How the key file spells the key: hex (32, 48 or 64 hex digits) or text (16, 24 or 32 characters).")
    var keyForm: KeyForm = .hex
    @Option(help: "How long to wait for the answer.") var timeout = DurationArgument(seconds: 10)

    func validate() throws {
        guard (1...9999).contains(sequence) else { throw ValidationError("--sequence is 1 to 9999") }
        guard contactId == nil || sia == nil else { throw ValidationError("give --contact-id or --sia, not both (neither sends a link test)") }
        let hex = CharacterSet(charactersIn: "0123456789ABCDEFabcdef")
        for (name, value, lengths) in [("--account", account, 3...16), ("--receiver", receiver ?? "0", 1...6), ("--line", line, 1...6)] {
            guard lengths.contains(value.count), value.unicodeScalars.allSatisfy(hex.contains) else {
                throw ValidationError("\(name) is \(lengths.lowerBound) to \(lengths.upperBound) hex digits, not '\(value)'")
            }
        }
    }

    func run() async throws {
        let key = try readKey()
        let token: DC09Header.Token = contactId != nil ? .contactID : sia != nil ? .siaDCS : .null
        let data = contactId.map { "#\(account)|\($0)" } ?? sia.map { "#\(account)|\($0)" } ?? ""
        let message = DC09Message(header: DC09Header(token: token, encrypted: key != nil, sequence: sequence, receiver: receiver,
                                                     linePrefix: line, account: account), data: data)
        let frame = try DC09MessageBuilder.frame(message, key: key)
        let answerFrame: [UInt8]
        do {
            answerFrame = try await DC09Sender.send(frame, host: host, port: port, transport: udp ? .udp : .tcp, timeout: timeout.duration)
        } catch {
            print("no answer: \(error)")
            throw ExitCode(2)
        }
        let answer: DC09ReceivedAnswer
        do { answer = try DC09ReceivedAnswer.read(answerFrame, key: key) } catch {
            print("an answer that is not DC-09 (\(error)): \(String(decoding: answerFrame, as: UTF8.self))")
            throw ExitCode(1)
        }
        let time = answer.receiverTime.map { " receiver's time \(DC09Answer.timestamp($0).dropFirst()) UTC, \(Int($0.timeIntervalSinceNow.rounded())) s from ours" } ?? ""
        switch answer.kind {
        case .ack:
            print("ACK \(answer.sequence)\(answer.encrypted ? " (encrypted)" : "")\(time)")
        case .nak:
            print("NAK: the receiver refused the frame (CRC, length, format, account, key or time)\(time)")
            throw ExitCode(1)
        case .duh:
            print("DUH: the receiver read the frame and cannot use it")
            throw ExitCode(1)
        case .other(let token):
            print("an answer \"\(token)\" that is not ACK, NAK or DUH")
            throw ExitCode(1)
        }
    }

    func readKey() throws -> DC09Key? {
        guard let text = try IntegrationKeyFile.read(keyFile) else { return nil }
        do { return keyForm == .hex ? try DC09Key(hex: text) : try DC09Key(text: text) } catch {
            throw ValidationError("the key in '\(keyFile ?? "")': \(error)")
        }
    }
}
