import Testing
@testable import DC09

/// Contact ID and SIA DC-03 data to events: the data blocks dc09-spt built (DC09SenderInteropTests) and the forms
/// panels send that it does not (several events, restores, names, text).
@Suite struct DC09ContentParserTests {
    static func message(_ token: DC09Header.Token, _ data: String) -> DC09Message {
        DC09Message(header: DC09Header(token: token, encrypted: false, sequence: 1, receiver: nil, linePrefix: "0", account: "1234"),
                    data: data, extendedData: [], timestamp: nil)
    }

    static func events(_ token: DC09Header.Token, _ data: String) throws(DC09MessageError) -> [DC09Event] {
        try DC09ContentParser.events(in: message(token, data))
    }

    @Test func contactIDFieldsAndQualifiers() throws {
        #expect(try Self.events(.contactID, "#5678|1130 01 015") == [
            DC09Event(format: .contactID, code: "130", qualifier: .new, category: .burglary, description: "burglary", partition: 1, zone: 15),
        ])
        #expect(try Self.events(.contactID, "#DEF0|1110 01 003").first?.category == .fire)
        #expect(try Self.events(.contactID, "3130 01 015").first?.qualifier == .restore)
        let status = try #require(try Self.events(.contactID, "6301 00 000").first)
        #expect(status.qualifier == .status && status.category == .trouble && status.partition == nil && status.zone == nil)
        // An opening by user 12: the third field is the user.
        let opening = try #require(try Self.events(.contactID, "1401 02 012").first)
        #expect(opening.category == .openClose && opening.user == 12 && opening.zone == nil && opening.partition == 2)
        let duress = try #require(try Self.events(.contactID, "1121 01 003").first)
        #expect(duress.category == .duress && duress.user == 3)
    }

    @Test func aContactIDCodeOutsideTheTableKeepsItsGroupOrIsUnknown() throws {
        #expect(try Self.events(.contactID, "1139 01 001").first?.category == .burglary)
        let grouped = try #require(try Self.events(.contactID, "1149 01 001").first)
        #expect(grouped.category == .burglary && grouped.description == "general alarm (Contact ID 149)")
        let unknown = try #require(try Self.events(.contactID, "1999 01 001").first)
        #expect(unknown.category == .unknown && unknown.code == "999" && unknown.description == "unknown Contact ID code 999")
    }

    @Test func siaEventsModifiersAndText() throws {
        #expect(try Self.events(.siaDCS, "#9ABC|Nri2FA7") == [
            DC09Event(format: .sia, code: "FA", qualifier: .new, category: .fire, description: "fire alarm", partition: 2, zone: 7),
        ])
        let burglary = try #require(try Self.events(.siaDCS, "#1234|NBA1").first)
        #expect(burglary.category == .burglary && burglary.zone == 1)
        let several = try Self.events(.siaDCS, "Nri1/BA01^Hall^/BR02/ri3/TA05|AOffice")
        #expect(several.map(\.code) == ["BA", "BR", "TA"])
        #expect(several.map(\.qualifier) == [.new, .restore, .new])
        #expect(several.map(\.partition) == [1, 1, 3])
        #expect(several.map(\.zone) == [1, 2, 5])
        #expect(several.map(\.text) == ["Hall", "Office", "Office"])
        let closing = try #require(try Self.events(.siaDCS, "Nri1id7ti12:30CL7").first)
        #expect(closing.category == .openClose && closing.qualifier == .restore && closing.user == 7 && closing.zone == nil)
        let unknown = try #require(try Self.events(.siaDCS, "NQQ3").first)
        #expect(unknown.category == .unknown && unknown.description == "unknown SIA code QQ" && unknown.zone == 3)
    }

    @Test func aLinkTestHasNoEventsAndDataThatDoesNotParseIsUnusable() throws {
        #expect(try Self.events(.null, "").isEmpty)
        for (token, data) in [(DC09Header.Token.contactID, "#1234|1130"), (.contactID, "9130 01 015"), (.siaDCS, "N"), (.siaDCS, "N12")] {
            #expect(throws: DC09MessageError.self, "\(data)") { try Self.events(token, data) }
            do { _ = try Self.events(token, data) } catch { #expect(error.code == .unusable && !error.answersWithNAK) }
        }
    }
}
