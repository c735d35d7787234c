import Sms
import Foundation

/// The simulated modem's memory and its answers to AT commands, as a value: a command line in, the lines
/// to write back out. Storage indices start at 1, as on most SIMs.
public struct SimulatedModem: Sendable {
    public var pin: String?
    public var capacity: Int
    /// How many AT+CREG? answers say "searching" before "registered".
    public var registrationDelay: Int
    public var misbehaviour = ModemMisbehaviour()

    var pinEntered = false
    var echo = true
    var pduMode = false
    var registrationPolls = 0
    /// index -> (status, PDU hex)
    var storage: [Int: (status: Int, pdu: String)] = [:]
    /// Messages the network holds because the storage is full.
    var waiting: [String] = []
    var noise = 0

    public init(pin: String? = nil, capacity: Int = 30, registrationDelay: Int = 1) {
        self.pin = pin
        self.capacity = capacity
        self.registrationDelay = registrationDelay
    }

    public var storedPDUs: [String] { storage.keys.sorted().map { storage[$0]!.pdu } }
    public var waitingCount: Int { waiting.count }

    var effectiveCapacity: Int { misbehaviour.storageFull ? 0 : capacity }

    /// The network hands over a PDU: stored (returns the +CMTI line) or held while the storage is full.
    mutating func receive(_ pdu: String) -> [String] {
        guard waiting.isEmpty, let index = freeIndex() else {
            waiting.append(pdu)
            return []
        }
        storage[index] = (0, pdu)
        return ["+CMTI: \"SM\",\(index)"]
    }

    /// Puts a message on the SIM the way a phone sharing it would: an outgoing one saved as unsent (2) or sent
    /// (3), or a status report (0 with an SMS-STATUS-REPORT PDU); no +CMTI. Returns its index, nil when full.
    public mutating func store(_ pdu: String, status: Int) -> Int? {
        guard let index = freeIndex() else { return nil }
        storage[index] = (status, pdu)
        return index
    }

    /// Moves waiting messages into freed storage.
    mutating func drainWaiting() -> [String] {
        var lines: [String] = []
        while !waiting.isEmpty, let index = freeIndex() {
            storage[index] = (0, waiting.removeFirst())
            lines.append("+CMTI: \"SM\",\(index)")
        }
        return lines
    }

    func freeIndex() -> Int? {
        guard storage.count < effectiveCapacity else { return nil }
        return (1...capacity).first { storage[$0] == nil }
    }

    mutating func garbageLine() -> String {
        noise += 1
        let samples = ["\u{FF}\u{FE}\u{01}#@!", "+CM", "AT+?\u{07}", "~~~~\u{00}~~", "OKAY?", "^SYSSTART"]
        return samples[noise % samples.count]
    }

    /// Answers one command line; nil for no answer at all (silent).
    public mutating func answer(_ command: String) -> [String]? {
        guard !misbehaviour.silent else { return nil }
        var lines: [String] = []
        if echo { lines.append(command) }
        if misbehaviour.garbage { lines.append(garbageLine()) }
        lines += respond(command.trimmingCharacters(in: .whitespaces))
        return lines
    }

    private mutating func respond(_ command: String) -> [String] {
        let upper = command.uppercased()
        switch upper {
        case "AT": return ["OK"]
        case "ATZ":
            echo = true
            pduMode = false
            return ["OK"]
        case "ATE0":
            echo = false
            return ["OK"]
        case "ATE1":
            echo = true
            return ["OK"]
        case "ATI": return ["stam modem simulator", "OK"]
        case "AT+CPIN?":
            if pin != nil && !pinEntered { return ["+CPIN: SIM PIN", "OK"] }
            return ["+CPIN: READY", "OK"]
        case "AT+CREG?":
            registrationPolls += 1
            return ["+CREG: 0,\(registrationPolls > registrationDelay ? 1 : 2)", "OK"]
        case "AT+CMGF=0":
            pduMode = true
            return ["OK"]
        case "AT+CMGF=1":
            pduMode = false
            return ["OK"]
        case "AT+CMGL=4":
            guard pduMode else { return ["+CMS ERROR: 302"] }
            var lines: [String] = []
            for index in storage.keys.sorted() {
                let (status, pdu) = storage[index]!
                if misbehaviour.garbage, lines.count == 2 { lines += [garbageLine(), "+CMTI: \"SM\",\(index)"] }
                lines.append("+CMGL: \(index),\(status),,\(Self.tpduLength(pdu))")
                lines.append(pdu)
                // Like a real SIM, listing marks received messages read; stored outgoing ones keep their status.
                if status == 0 { storage[index]!.status = 1 }
            }
            return lines + ["OK"]
        default:
            break
        }
        if upper.hasPrefix("AT+CPIN=") {
            let given = command.dropFirst("AT+CPIN=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard let pin, !pinEntered else { return ["+CME ERROR: 3"] }
            guard given == pin else { return ["+CME ERROR: 16"] }
            pinEntered = true
            return ["OK"]
        }
        if upper.hasPrefix("AT+CMEE=") || upper.hasPrefix("AT+CNMI=") { return ["OK"] }
        if upper.hasPrefix("AT+CPMS=") {
            return ["+CPMS: \(storage.count),\(effectiveCapacity),\(storage.count),\(effectiveCapacity),\(storage.count),\(effectiveCapacity)", "OK"]
        }
        if upper.hasPrefix("AT+CMGR="), let index = Int(upper.dropFirst("AT+CMGR=".count)) {
            guard pduMode else { return ["+CMS ERROR: 302"] }
            guard let (status, pdu) = storage[index] else { return ["+CMS ERROR: 321"] }
            if status == 0 { storage[index]!.status = 1 }
            return ["+CMGR: \(status),,\(Self.tpduLength(pdu))", pdu, "OK"]
        }
        if upper.hasPrefix("AT+CMGD="), let index = Int(upper.dropFirst("AT+CMGD=".count).split(separator: ",").first ?? "") {
            guard (1...capacity).contains(index) else { return ["+CMS ERROR: 321"] }
            storage[index] = nil
            return ["OK"] + drainWaiting()
        }
        return ["ERROR"]
    }

    /// The length +CMGL reports: the TPDU without the SMSC part.
    static func tpduLength(_ pdu: String) -> Int {
        let octets = pdu.count / 2
        let smscLength = Int(pdu.prefix(2), radix: 16) ?? 0
        return octets - smscLength - 1
    }
}
