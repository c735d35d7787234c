import Foundation

/// The modem conversation as a pure value: events in (connected, a line, a clock tick, the agent finished a
/// delivery), actions out (send a command, hand messages over, reopen the port). It never touches the port,
/// the clock or the broker, so every path, including timeouts and garbage, is tested without a modem.
///
/// The conversation: reset and identify (ATZ, ATE0, AT+CMEE=1), SIM PIN when asked, wait for network
/// registration, PDU mode, storage, new-message indications; then list every stored message (AT+CMGL=4),
/// hand them to the agent, and delete each only when the agent says it is safe (published and confirmed).
/// The list is read again on every +CMTI, after every round of deletions and every `pollInterval` (a
/// +CMTI lost while the port was closed or during a command must not leave a message behind).
public struct ModemStateMachine: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Configuration: Sendable {
        /// The SIM PIN, when the SIM may ask for one.
        public var pin: String?
        public var storage: String
        public var commandTimeout: Duration
        public var listTimeout: Duration
        public var registrationPollInterval: Duration
        /// After this long unregistered the stored messages are read anyway (they need no network).
        public var registrationTimeout: Duration
        public var pollInterval: Duration

        public init(pin: String? = nil, storage: String = "SM", commandTimeout: Duration = .seconds(5),
                    listTimeout: Duration = .seconds(20), registrationPollInterval: Duration = .seconds(2),
                    registrationTimeout: Duration = .seconds(60), pollInterval: Duration = .seconds(30)) {
            self.pin = pin
            self.storage = storage
            self.commandTimeout = commandTimeout
            self.listTimeout = listTimeout
            self.registrationPollInterval = registrationPollInterval
            self.registrationTimeout = registrationTimeout
            self.pollInterval = pollInterval
        }
    }

    public enum Action: Hashable, Sendable {
        /// Write the command followed by CR.
        case send(String)
        /// Like `send`, but the text is secret (the PIN): log `logAs` instead.
        case sendSecret(String, logAs: String)
        /// Initialisation is complete (the reopen back-off can start again from the beginning).
        case ready(storageUsed: Int?, storageTotal: Int?)
        /// Hand these stored messages to the agent; it answers with `deliveryFinished(delete:now:)`.
        case deliver([StoredPdu])
        /// A stored message that is not a received SMS-DELIVER (an outgoing message saved on a shared SIM, a status
        /// report): never published, never deleted; reported once while it stays on the SIM.
        case leftAlone(StoredPdu, StoredMessageKind)
        /// Close the port and open it again after a back-off.
        case reopen(reason: String)
        /// Stop talking to this modem until restarted: retrying would make things worse (a wrong PIN three
        /// times locks the SIM).
        case fatal(reason: String)
        case warn(String)
        /// A line that belongs to nothing (noise on the line, a half-read answer): logged and counted.
        case garbage(String)
    }

    enum Step: String, Hashable, Sendable {
        case reset, echoOff, errorCodes, pinQuery, pinEntry, registration, pduMode, storage, indications
    }

    enum Command: Hashable, Sendable {
        case initialize(Step)
        case list
        case delete(Int)
    }

    enum State: Hashable, Sendable {
        case closed
        case awaiting(Command, text: String, deadline: Instant)
        case waitingForRegistration(until: Instant)
        case idle(nextPoll: Instant)
        case delivering
        case stopped
    }

    public let configuration: Configuration
    private(set) var state: State = .closed
    /// A +CMTI arrived while busy: list again as soon as idle.
    private var listRequested = false
    /// Survives reopening: a rejected PIN is never sent again by this process.
    private var pinRejected = false
    private var pinStatus: String?
    private var registration: Int?
    private var registrationStarted: Instant?
    private var storageUsed: Int?
    private var storageTotal: Int?
    private var listed: [StoredPdu] = []
    /// The messages of the last list that are not ours, so each is reported once, not on every poll.
    /// Keyed by index and PDU: listing turns a status report's "unread" into "read", which is the same message.
    private var leftAlone: Set<String> = []
    private var listHeader: (index: Int, status: Int)?
    private var pendingDeletes: [Int] = []
    private var deletedThisRound = 0
    private var listFailures = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// True while the agent holds a delivery (a `deliver` action not yet answered).
    public var isDelivering: Bool { state == .delivering }

    // MARK: Events

    public mutating func connected(now: Instant) -> [Action] {
        guard state != .stopped else { return [] }
        listRequested = false
        pinStatus = nil
        registration = nil
        registrationStarted = nil
        return [issue(.initialize(.reset), now: now)]
    }

    public mutating func closed() {
        guard state != .stopped else { return }
        state = .closed
    }

    public mutating func received(_ line: ModemLine, now: Instant) -> [Action] {
        let response = ModemResponse(line)
        switch response {
        case .newMessage:
            listRequested = true
            if case .idle = state { return [issue(.list, now: now)] }
            return []
        case .otherUnsolicited:
            return []
        default:
            break
        }
        guard case .awaiting(let command, let text, _) = state else {
            if case .line(let text) = line { return [.garbage(text)] }
            return [.garbage("> ")]
        }
        if response.isFinal {
            return complete(command, with: response, now: now)
        }
        guard case .information(let info) = response else { return [.garbage("> ")] }
        // With echo still on (before ATE0 takes effect) the modem repeats the command.
        if info == text { return [] }
        return information(info, for: command)
    }

    public mutating func tick(now: Instant) -> [Action] {
        switch state {
        case .awaiting(let command, let text, let deadline) where now >= deadline:
            state = .closed
            let what = command == .initialize(.pinEntry) ? "AT+CPIN" : text
            return [.reopen(reason: "no answer to \(what)")]
        case .waitingForRegistration(let until) where now >= until:
            return [issue(.initialize(.registration), now: now)]
        case .idle(let nextPoll) where now >= nextPoll || listRequested:
            return [issue(.list, now: now)]
        default:
            return []
        }
    }

    /// The agent published (with a confirm) or durably stored the messages at `indices`: delete them.
    public mutating func deliveryFinished(delete indices: [Int], now: Instant) -> [Action] {
        guard state == .delivering else { return [] }
        pendingDeletes = indices.sorted()
        deletedThisRound = 0
        return nextDelete(now: now)
    }

    // MARK: Answers

    private mutating func information(_ text: String, for command: Command) -> [Action] {
        switch command {
        case .initialize(.pinQuery):
            if let value = text.dropPrefix("+CPIN:") {
                pinStatus = value.trimmingCharacters(in: .whitespaces)
                return []
            }
        case .initialize(.registration):
            if let value = text.dropPrefix("+CREG:") {
                let fields = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                // `+CREG: <n>,<stat>[,...]`; the stat is the second field.
                if fields.count >= 2 { registration = Int(fields[1]) }
                return []
            }
        case .initialize(.storage):
            if let value = text.dropPrefix("+CPMS:") {
                let fields = value.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                if fields.count >= 2 { (storageUsed, storageTotal) = (fields[0], fields[1]) }
                return []
            }
        case .list:
            if let value = text.dropPrefix("+CMGL:") {
                let fields = value.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                var actions: [Action] = []
                if let header = listHeader { actions.append(.garbage("+CMGL: \(header.index) without a PDU")) }
                if fields.count >= 2, let index = Int(fields[0]), let status = Int(fields[1]) {
                    listHeader = (index, status)
                } else {
                    listHeader = nil
                    actions.append(.garbage(text))
                }
                return actions
            }
            if let header = listHeader, !text.isEmpty, text.allSatisfy(\.isHexDigit) {
                listed.append(StoredPdu(index: header.index, status: header.status, pdu: text))
                listHeader = nil
                return []
            }
            // A line that is neither: the header it may have followed is dropped (read again next time).
            listHeader = nil
            return [.garbage(text)]
        default:
            break
        }
        return text.hasPrefix("AT") ? [] : [.garbage(text)]
    }

    private mutating func complete(_ command: Command, with response: ModemResponse, now: Instant) -> [Action] {
        let failed = response != .ok
        switch command {
        case .initialize(.reset):
            return [issue(.initialize(.echoOff), now: now)]
        case .initialize(.echoOff):
            return [issue(.initialize(.errorCodes), now: now)]
        case .initialize(.errorCodes):
            // Without numeric error codes the modem still works; its errors are just less telling.
            return (failed ? [.warn("AT+CMEE=1 refused: \(response)")] : []) + [issue(.initialize(.pinQuery), now: now)]
        case .initialize(.pinQuery):
            if failed {
                state = .closed
                return [.reopen(reason: "SIM not ready: \(describe(response))")]
            }
            switch pinStatus {
            case "READY":
                registrationStarted = now
                return [issue(.initialize(.registration), now: now)]
            case "SIM PIN":
                if pinRejected {
                    return stop("the SIM asks for its PIN again after rejecting it; not retrying")
                }
                guard let pin = configuration.pin else {
                    return stop("the SIM asks for a PIN and no PIN file was given")
                }
                state = .awaiting(.initialize(.pinEntry), text: "AT+CPIN", deadline: now + configuration.commandTimeout)
                return [.sendSecret("AT+CPIN=\"\(pin)\"", logAs: "AT+CPIN=\"****\"")]
            default:
                return stop("the SIM needs \(pinStatus ?? "an unknown code"); a person must unlock it")
            }
        case .initialize(.pinEntry):
            if failed {
                pinRejected = true
                return stop("the SIM rejected the PIN (\(describe(response))); check the PIN file: a third wrong PIN locks the SIM")
            }
            return [issue(.initialize(.pinQuery), now: now)]
        case .initialize(.registration):
            if registration == 1 || registration == 5 {
                return [issue(.initialize(.pduMode), now: now)]
            }
            if let started = registrationStarted, now - started >= configuration.registrationTimeout {
                return [.warn("not registered to the network (+CREG stat \(registration.map(String.init) ?? "?")); reading stored messages anyway"),
                        issue(.initialize(.pduMode), now: now)]
            }
            state = .waitingForRegistration(until: now + configuration.registrationPollInterval)
            return []
        case .initialize(.pduMode):
            if failed {
                state = .closed
                return [.reopen(reason: "the modem refuses PDU mode: \(describe(response))")]
            }
            return [issue(.initialize(.storage), now: now)]
        case .initialize(.storage):
            return (failed ? [.warn("AT+CPMS refused: \(describe(response)); using the modem's default storage")] : [])
                + [issue(.initialize(.indications), now: now)]
        case .initialize(.indications):
            // Without +CMTI the periodic list still finds every message, only later.
            return (failed ? [.warn("AT+CNMI refused: \(describe(response)); relying on polling")] : [])
                + [.ready(storageUsed: storageUsed, storageTotal: storageTotal), issue(.list, now: now)]
        case .list:
            var actions: [Action] = []
            if let header = listHeader {
                actions.append(.garbage("+CMGL: \(header.index) without a PDU"))
                listHeader = nil
            }
            if failed {
                listFailures += 1
                if listFailures >= 3 {
                    state = .closed
                    return actions + [.reopen(reason: "AT+CMGL failed \(listFailures) times: \(describe(response))")]
                }
                state = .idle(nextPoll: now + .seconds(1))
                return actions + [.warn("AT+CMGL failed: \(describe(response))")]
            }
            listFailures = 0
            var messages: [StoredPdu] = []
            var foreign: Set<String> = []
            for message in listed {
                let kind = message.kind
                if kind == .received {
                    messages.append(message)
                } else {
                    let key = "\(message.index):\(message.pdu)"
                    foreign.insert(key)
                    if !leftAlone.contains(key) { actions.append(.leftAlone(message, kind)) }
                }
            }
            leftAlone = foreign
            listed = []
            if messages.isEmpty {
                state = .idle(nextPoll: now + configuration.pollInterval)
                if listRequested { return actions + [issue(.list, now: now)] }
                return actions
            }
            state = .delivering
            return actions + [.deliver(messages)]
        case .delete(let index):
            if failed {
                // Already gone (or the index moved): the next list shows what is really there.
                return [.warn("AT+CMGD=\(index) failed: \(describe(response))")] + nextDelete(now: now)
            }
            deletedThisRound += 1
            return nextDelete(now: now)
        }
    }

    private mutating func nextDelete(now: Instant) -> [Action] {
        if !pendingDeletes.isEmpty {
            let index = pendingDeletes.removeFirst()
            return [issue(.delete(index), now: now)]
        }
        // More may have arrived (or waited at the network while the storage was full): look again.
        if deletedThisRound > 0 || listRequested {
            return [issue(.list, now: now)]
        }
        state = .idle(nextPoll: now + configuration.pollInterval)
        return []
    }

    private mutating func stop(_ reason: String) -> [Action] {
        state = .stopped
        return [.fatal(reason: reason)]
    }

    private mutating func issue(_ command: Command, now: Instant) -> Action {
        let text: String
        var timeout = configuration.commandTimeout
        switch command {
        case .initialize(.reset): text = "ATZ"
        case .initialize(.echoOff): text = "ATE0"
        case .initialize(.errorCodes): text = "AT+CMEE=1"
        case .initialize(.pinQuery): text = "AT+CPIN?"
        case .initialize(.pinEntry): text = "AT+CPIN"
        case .initialize(.registration):
            text = "AT+CREG?"
            registration = nil
        case .initialize(.pduMode): text = "AT+CMGF=0"
        case .initialize(.storage):
            let storage = configuration.storage
            text = "AT+CPMS=\"\(storage)\",\"\(storage)\",\"\(storage)\""
        case .initialize(.indications):
            // mode 2: buffer indications while the link is busy and flush them after; mt 1: store the message
            // and send +CMTI with its index (never route it to us unstored, which would need +CNMA).
            text = "AT+CNMI=2,1,0,0,0"
        case .list:
            text = "AT+CMGL=4"
            timeout = configuration.listTimeout
            listed = []
            listHeader = nil
            listRequested = false
        case .delete(let index): text = "AT+CMGD=\(index)"
        }
        state = .awaiting(command, text: text, deadline: now + timeout)
        return .send(text)
    }

    private func describe(_ response: ModemResponse) -> String {
        switch response {
        case .cmsError(let code, let meaning): "+CMS ERROR \(code.map(String.init) ?? ""): \(meaning)"
        case .cmeError(let code, let meaning): "+CME ERROR \(code.map(String.init) ?? ""): \(meaning)"
        default: "\(response)"
        }
    }
}
