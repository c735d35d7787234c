import Sms
import Testing

/// The modem conversation without a modem: each test plays the modem's side line by line.
@Suite struct ModemStateMachineTests {
    let start = ContinuousClock.now

    struct Harness {
        var machine: ModemStateMachine
        var now: ContinuousClock.Instant
        var sent: [String] = []
        var actions: [ModemStateMachine.Action] = []

        init(pin: String? = nil, now: ContinuousClock.Instant) {
            machine = ModemStateMachine(configuration: .init(pin: pin, commandTimeout: .seconds(5), pollInterval: .seconds(30)))
            self.now = now
        }

        mutating func record(_ new: [ModemStateMachine.Action]) {
            actions += new
            for action in new {
                if case .send(let text) = action { sent.append(text) }
                if case .sendSecret(_, let logAs) = action { sent.append(logAs) }
            }
        }

        mutating func connect() { record(machine.connected(now: now)) }
        mutating func modem(_ lines: String...) {
            for line in lines { record(machine.received(line == "> " ? .prompt : .line(line), now: now)) }
        }
        mutating func advance(_ duration: Duration) {
            now = now + duration
            record(machine.tick(now: now))
        }

        /// Answers the initialisation with a ready SIM and a registered network.
        mutating func initialise() {
            connect()
            modem("ATZ", "OK")          // echo still on
            modem("OK")                 // ATE0
            modem("OK")                 // AT+CMEE=1
            modem("+CPIN: READY", "OK")
            modem("+CREG: 0,1", "OK")
            modem("OK")                 // AT+CMGF=0
            modem("+CPMS: 0,30,0,30,0,30", "OK")
            modem("OK")                 // AT+CNMI
        }
    }

    @Test func initialisationThenList() {
        var harness = Harness(now: start)
        harness.initialise()
        #expect(harness.sent == ["ATZ", "ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CREG?", "AT+CMGF=0", "AT+CPMS=\"SM\",\"SM\",\"SM\"",
                                 "AT+CNMI=2,1,0,0,0", "AT+CMGL=4"])
        #expect(harness.actions.contains(.ready(storageUsed: 0, storageTotal: 30)))
    }

    @Test func pinFromTheSecretThenRegistrationWait() {
        var harness = Harness(pin: "1234", now: start)
        harness.connect()
        harness.modem("OK", "OK", "OK")
        harness.modem("+CPIN: SIM PIN", "OK")
        #expect(harness.actions.contains(.sendSecret("AT+CPIN=\"1234\"", logAs: "AT+CPIN=\"****\"")))
        harness.modem("OK")
        harness.modem("+CPIN: READY", "OK")
        harness.modem("+CREG: 0,2", "OK")
        harness.advance(.seconds(1))
        #expect(harness.sent.last == "AT+CREG?")
        #expect(harness.sent.filter { $0 == "AT+CREG?" }.count == 1)
        harness.advance(.seconds(2))
        #expect(harness.sent.filter { $0 == "AT+CREG?" }.count == 2)
        harness.modem("+CREG: 0,5", "OK")
        #expect(harness.sent.last == "AT+CMGF=0")
    }

    @Test func wrongPinIsNeverSentTwice() {
        var harness = Harness(pin: "0000", now: start)
        harness.connect()
        harness.modem("OK", "OK", "OK", "+CPIN: SIM PIN", "OK", "+CME ERROR: 16")
        #expect(harness.actions.contains { if case .fatal = $0 { true } else { false } })
        harness.connect()
        #expect(harness.sent.filter { $0.hasPrefix("AT+CPIN=") }.count == 1)
    }

    @Test func missingPinStops() {
        var harness = Harness(now: start)
        harness.connect()
        harness.modem("OK", "OK", "OK", "+CPIN: SIM PIN", "OK")
        #expect(harness.actions.contains(.fatal(reason: "the SIM asks for a PIN and no PIN file was given")))
    }

    @Test func listDeliverDeleteAndListAgain() {
        var harness = Harness(now: start)
        harness.initialise()
        harness.modem("+CMGL: 3,0,,24", "AAAA", "+CMGL: 7,1,,24", "BBBB", "OK")
        #expect(harness.actions.last == .deliver([StoredPdu(index: 3, status: 0, pdu: "AAAA"), StoredPdu(index: 7, status: 1, pdu: "BBBB")]))
        // Nothing is deleted until the agent says so.
        harness.advance(.seconds(60))
        #expect(harness.sent.last == "AT+CMGL=4")
        harness.record(harness.machine.deliveryFinished(delete: [7, 3], now: harness.now))
        harness.modem("OK")
        harness.modem("OK")
        #expect(Array(harness.sent.suffix(3)) == ["AT+CMGD=3", "AT+CMGD=7", "AT+CMGL=4"])
    }

    /// Issue 18 point 10: a SIM shared with a phone holds outgoing messages (status 2 unsent, 3 sent) and status
    /// reports (status 0/1 with an SMS-STATUS-REPORT PDU); only received SMS-DELIVER messages are handed over, the
    /// others are reported once while they stay.
    @Test func onlyReceivedDeliverMessagesAreHandedOver() {
        var harness = Harness(now: start)
        harness.initialise()
        let submit = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
        let statusReport = "0006D70B911326880736F4111011719551401110117195714000"
        let deliver = "07914806001002F0040B914806001002F00000" + "21201221000080" + "04D4F29C0E"
        harness.modem("+CMGL: 1,2,,24", submit, "+CMGL: 2,3,,24", submit, "+CMGL: 3,0,,25", statusReport,
                      "+CMGL: 4,1,,24", deliver, "OK")
        #expect(harness.actions.suffix(4) == [
            .leftAlone(StoredPdu(index: 1, status: 2, pdu: submit), .storedUnsent),
            .leftAlone(StoredPdu(index: 2, status: 3, pdu: submit), .storedSent),
            .leftAlone(StoredPdu(index: 3, status: 0, pdu: statusReport), .statusReport),
            .deliver([StoredPdu(index: 4, status: 1, pdu: deliver)]),
        ])
        harness.record(harness.machine.deliveryFinished(delete: [4], now: harness.now))
        harness.modem("OK")
        #expect(Array(harness.sent.suffix(2)) == ["AT+CMGD=4", "AT+CMGL=4"])
        // Listed again: nothing to hand over, nothing reported twice, nothing deleted.
        let before = harness.actions.count
        harness.modem("+CMGL: 1,2,,24", submit, "+CMGL: 2,3,,24", submit, "+CMGL: 3,1,,25", statusReport, "OK")
        #expect(harness.actions.count == before)
        #expect(!harness.sent.contains { $0.hasPrefix("AT+CMGD=1") || $0.hasPrefix("AT+CMGD=2") || $0.hasPrefix("AT+CMGD=3") })
    }

    @Test func newMessageIndicationDuringACommandListsAgainAfterIt() {
        var harness = Harness(now: start)
        harness.initialise()
        harness.modem("+CMGL: 1,0,,24", "+CMTI: \"SM\",2", "AAAA", "OK")
        #expect(harness.actions.last == .deliver([StoredPdu(index: 1, status: 0, pdu: "AAAA")]))
        harness.record(harness.machine.deliveryFinished(delete: [], now: harness.now))
        #expect(harness.sent.last == "AT+CMGL=4")
    }

    @Test func garbageInAListDropsOnlyTheBrokenEntry() {
        var harness = Harness(now: start)
        harness.initialise()
        harness.modem("+CMGL: 1,0,,24", "~~garbage~~", "+CMGL: 2,0,,24", "BBBB", "\u{FFFD}#@!", "OK")
        #expect(harness.actions.last == .deliver([StoredPdu(index: 2, status: 0, pdu: "BBBB")]))
        #expect(harness.actions.filter { if case .garbage = $0 { true } else { false } }.count == 2)
    }

    @Test func silenceReopens() {
        var harness = Harness(now: start)
        harness.connect()
        harness.advance(.seconds(4))
        #expect(!harness.actions.contains { if case .reopen = $0 { true } else { false } })
        harness.advance(.seconds(2))
        #expect(harness.actions.last == .reopen(reason: "no answer to ATZ"))
    }

    @Test func idlePollsAndANewMessageListsAtOnce() {
        var harness = Harness(now: start)
        harness.initialise()
        harness.modem("OK")
        let lists = harness.sent.filter { $0 == "AT+CMGL=4" }.count
        harness.modem("+CMTI: \"SM\",4")
        #expect(harness.sent.filter { $0 == "AT+CMGL=4" }.count == lists + 1)
        harness.modem("OK")
        harness.advance(.seconds(31))
        #expect(harness.sent.filter { $0 == "AT+CMGL=4" }.count == lists + 2)
    }

    @Test func errorsAreDecoded() {
        var harness = Harness(now: start)
        harness.connect()
        harness.modem("OK", "OK", "OK", "+CME ERROR: 10")
        #expect(harness.actions.last == .reopen(reason: "SIM not ready: +CME ERROR 10: SIM not inserted"))
    }
}
