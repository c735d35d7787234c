import ArgumentParser
import Foundation
import Logging
import Sms

/// `stam modem-sim`: a simulated GSM modem on a pseudo-terminal, steered by lines on standard input.
struct ModemSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modem-sim",
        abstract: "Run a simulated GSM modem on a pty; prints its device path and reads control lines from stdin.",
        discussion: """
            Control lines: `sms NUMBER TEXT`, `ucs2 NUMBER TEXT`, `long NUMBER COUNT` (a COUNT-part message),
            `garbage on|off`, `silent on|off`, `full on|off`, `disappear`, `reappear`, `status`.
            """)

    @Option(help: "Stable device path (a symlink to the current pty) for `stam sms-agent --device`.")
    var link = "/tmp/stam-modem"
    @Option(help: "SIM PIN the simulated SIM asks for (none: no PIN).") var pin: String?
    @Option(help: "Message slots of the simulated SIM.") var capacity = 30

    func run() async throws {
        let simulator = ModemSimulator(devicePath: link, modem: SimulatedModem(pin: pin, capacity: capacity))
        let pty = try await simulator.start()
        print("modem simulator on \(pty), device \(link)")
        fflush(nil)
        while let line = readLine() {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard let command = words.first else { continue }
            let on = words.count > 1 && words[1] == "on"
            var misbehaviour = simulator.misbehaviour
            switch command {
            case "sms" where words.count == 3, "ucs2" where words.count == 3:
                let pdus = simulator.deliver(text: words[2], from: Self.address(words[1]), coding: command == "ucs2" ? .ucs2 : nil)
                print("stored \(pdus.count) part(s)")
            case "long" where words.count == 3:
                let count = Int(words[2]) ?? 3
                let text = (1...count).map { "Part \($0) " + String(repeating: "x", count: 140) }.joined(separator: " ")
                print("stored \(simulator.deliver(text: text, from: Self.address(words[1])).count) part(s)")
            case "garbage": misbehaviour.garbage = on
            case "silent": misbehaviour.silent = on
            case "full": misbehaviour.storageFull = on
            case "disappear": await simulator.disappear()
            case "reappear": print("modem back on \(try await simulator.start())")
            case "status":
                print("stored \(simulator.storedPDUs.count), waiting at the network \(simulator.waitingCount), \(simulator.misbehaviour)")
            default:
                print("unknown control line (see --help)")
            }
            if misbehaviour != simulator.misbehaviour { simulator.misbehaviour = misbehaviour }
            fflush(nil)
        }
        await simulator.stop()
    }

    static func address(_ text: String) -> SmsAddress {
        if text.hasPrefix("+") { return SmsAddress(kind: .international, value: text) }
        if text.allSatisfy(\.isNumber) { return SmsAddress(kind: .national, value: text) }
        return SmsAddress(kind: .alphanumeric, value: text)
    }
}
