import ArgumentParser
import Foundation
import Logging
import Sms
import SmsSimulator

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
    @Option(help: "Serve the modem on this TCP port (as a serial device server does; `stam sms-agent --device tcp://HOST:PORT`) instead of a pty.")
    var port: Int?
    @Option(help: "Address the TCP port listens on.") var host = "0.0.0.0"
    @Option(help: "Read control lines from this named pipe (created if missing) instead of stdin, e.g. for `stam up`: `echo 'sms +48600100200 ALARM' > FIFO`.")
    var controlFifo: String?

    func run() async throws {
        let simulator = ModemSimulator(devicePath: link, modem: SimulatedModem(pin: pin, capacity: capacity))
        if let port {
            print("modem simulator on tcp://\(host):\(try await simulator.listen(host: host, port: port))")
        } else {
            print("modem simulator on \(try await simulator.start()), device \(link)")
        }
        fflush(nil)
        if let controlFifo {
            // Each writer (`echo ... > fifo`) opens, writes and closes: read until EOF, then wait for the next.
            if !FileManager.default.fileExists(atPath: controlFifo) { mkfifo(controlFifo, 0o600) }
            while let handle = FileHandle(forReadingAtPath: controlFifo) {
                for line in String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") {
                    await control(String(line), simulator: simulator)
                }
                try? handle.close()
            }
        } else {
            while let line = readLine() { await control(line, simulator: simulator) }
        }
        // Standard input ended (a container has none): the modem keeps serving until SIGTERM or SIGINT.
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// One control line (see the discussion of the command).
    func control(_ line: String, simulator: ModemSimulator) async {
        let words = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard let command = words.first else { return }
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
        case "reappear": print((try? await simulator.start()).map { "modem back on \($0)" } ?? "the modem could not come back")
        case "status":
            print("stored \(simulator.storedPDUs.count), waiting at the network \(simulator.waitingCount), \(simulator.misbehaviour)")
        default:
            print("unknown control line (see --help)")
        }
        if misbehaviour != simulator.misbehaviour { simulator.misbehaviour = misbehaviour }
        fflush(nil)
    }

    static func address(_ text: String) -> SmsAddress {
        if text.hasPrefix("+") { return SmsAddress(kind: .international, value: text) }
        if text.allSatisfy(\.isNumber) { return SmsAddress(kind: .national, value: text) }
        return SmsAddress(kind: .alphanumeric, value: text)
    }
}
