import APISupport
import Database
import Foundation
import Generated
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MigrationSupport
import NIOCore
import PostgresNIO
import StamCore
import Testing
import TestSupport

/// The schema's input rules are enforced at two doors from one declaration: the API's validation (Swift) and the
/// database's CHECK constraints (PostgreSQL). These properties hold for random inputs: both doors give the same
/// answer, and each refusal through the API is a 422 naming the field.
@Suite(.postgres, .integration, .tags(.integration)) struct InputRuleTests {
    let logger = Logger(label: "test.rules")

    /// Characters that matter to the rules: letters, digits, every punctuation a format allows or refuses,
    /// space, tab, line breaks, C0/C1 controls, DEL, non-ASCII letters and an emoji.
    static let alphabet: [Character] = Array("aZ09.-_@+() :/#%'\"\\") + ["\t", "\n", "\r", "\u{1}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9F}", "ł", "Ż", "€", "🔥"]

    static func randomText(_ generator: inout some RandomNumberGenerator) -> String {
        let length = Int.random(in: 0...14, using: &generator)
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// Half random, half plausible values, so both answers occur often.
    static func samples(for format: TextFormat?, count: Int, seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        let plausible: [String] = switch format {
        case .login?: ["admin", "ola.k", "a@b", "-x", "x y", "Żaneta", "x\n"]
        case .hostname?: ["10.0.0.5", "etm-1.site.local", "fd00::5", "-bad", "a..b", "host_name", "a.b-", "1.2.3.4\n"]
        case .phone?: ["+48 600 100 200", "0048-511-222-333", "(22) 123-45-67", "12345", "+48600100200x", "600 100 200\t"]
        case .e164?: ["+48600100200", "+0123456789", "+4860", "48600100200", "+486001002003334445"]
        case .timeOfDay?: ["07:30", "23:59", "00:00", "24:00", "7:30", "12:60", "12:30\n", "12:30:00"]
        case .timeZone?: ["Europe/Warsaw", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+2", "Europe/", "/Warsaw", "Europe Warsaw", "Europe/Warsaw\n"]
        case .hexDigits?: ["1234", "12AB", "abcdef", "0", "12G4", "12 34", "#1234", "1234\n", "ＡＢ"]
        case .aesKeyHex?: [String(repeating: "0a", count: 16), String(repeating: "F", count: 48), String(repeating: "9", count: 64),
                           String(repeating: "a", count: 31), String(repeating: "a", count: 40), String(repeating: "a", count: 65),
                           String(repeating: "g", count: 32), String(repeating: "ａ", count: 32)]
        case .aesKeyText?: ["0123456789ABCDEF", "pass word 123456", String(repeating: "~", count: 24), String(repeating: "x", count: 32),
                            "0123456789ABCDE", String(repeating: "x", count: 20), "zażółćgęśląjaźńX", "0123456789ABCDE\t"]
        case nil: ["Bakery", "", "line\nbreak", "tab\there", "bell\u{7}", "ok ł €"]
        }
        var values = plausible
        while values.count < count {
            values.append(Bool.random(using: &generator) ? randomText(&generator) : plausible.randomElement(using: &generator)! + randomText(&generator))
        }
        return values
    }

    @Test func theAPIAndTheDatabaseAgreeOnEveryTextRule() async throws {
        let postgres = try #require(TestPostgres.current)
        let (url, passwordFile) = try postgres.freshDatabase()
        let database = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
        try await TestPostgres.withClient(database, logger: logger) { client in
            for (index, format) in ([nil] + TextFormat.allCases.map(Optional.some)).enumerated() {
                for lineBreaks in [false, true] where format == nil || !lineBreaks {
                    var checked = 0, refused = 0
                    for text in Self.samples(for: format, count: 300, seed: UInt64(100 + index * 2 + (lineBreaks ? 1 : 0))) {
                        // PostgreSQL text cannot hold NUL; the API refuses it as a control character anyway.
                        var reader = try JSONObjectReader(body: try JSONEncoder().encode(["value": text]), allowed: ["value"])
                        let api = reader.string("value", max: nil, format: format, lineBreaks: lineBreaks, optional: false) != nil
                        let pattern = format.map { "^(?:\($0.pattern))$" } ?? ".*"
                        let controls = ControlCharacters.sqlClass(lineBreaks: lineBreaks)
                        let row = try await client.query(
                            "SELECT \(text) !~ \(controls) AND \(text) ~ \(pattern)", logger: logger).collect().first
                        let sql = try #require(row).decode(Bool.self)
                        #expect(api == sql, "\(format?.rawValue ?? "text") lineBreaks=\(lineBreaks): \(text.debugDescription): API \(api), PostgreSQL \(sql)")
                        checked += 1
                        if !api { refused += 1 }
                    }
                    // Not a figure: proof that the samples exercised both answers.
                    #expect(refused > 0 && refused < checked, "\(format?.rawValue ?? "text"): \(refused) of \(checked) refused")
                }
            }
        }
    }

    @Test func everyRuleOfAWritableFieldIsA422NamingItAndTheDatabaseRefusesItToo() async throws {
        let api = APITests()
        try await api.withAPI { client, harness in
            var admin = APITests.bearer(try await api.token(harness, role: "admin"))
            admin[.contentType] = "application/json"
            let site = try APITests.object(try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                                   body: APITests.json(#"{"code":"R-1","name":"Rules"}"#)))
            let siteId = try #require(site["id"] as? String)
            let good = #"{"site_id":"\#(siteId)","name":"P","host":"10.0.0.5""#
            let cases: [(String, String)] = [
                ("port", #"\#(good),"port":-1964443}"#), ("port", #"\#(good),"port":0}"#), ("port", #"\#(good),"port":65536}"#),
                ("host", #"{"site_id":"\#(siteId)","name":"P","host":"evil host; rm -rf"}"#),
                ("host", #"{"site_id":"\#(siteId)","name":"P","host":""}"#),
                ("name", #"{"site_id":"\#(siteId)","name":"","host":"10.0.0.5"}"#),
                ("name", #"{"site_id":"\#(siteId)","name":"bell\u0007","host":"10.0.0.5"}"#),
                ("sim_phone", #"\#(good),"sim_phone":"SATEL"}"#),
                ("poll_interval_ms", #"\#(good),"poll_interval_ms":1}"#),
            ]
            for (field, body) in cases {
                let response = try await client.execute(uri: "/api/panels", method: .post, headers: admin, body: APITests.json(body))
                #expect(response.status == .unprocessableContent, "\(body): \(response.status)")
                #expect(try APITests.errorFields(response) == [field], "\(body)")
            }
            for (field, body) in [("login", #"{"login":"","display_name":"x"}"#), ("login", #"{"login":"ola\nroot","display_name":"x"}"#),
                                  ("display_name", #"{"login":"ola","display_name":"\u001b[31mred"}"#)] {
                let response = try await client.execute(uri: "/api/operators", method: .post, headers: admin, body: APITests.json(body))
                let fields = try APITests.errorFields(response)
                #expect(response.status == .unprocessableContent && fields == [field], "\(body)")
            }
            // The bounds themselves are accepted.
            for port in [1, 65535] {
                let body = #"{"site_id":"\#(siteId)","name":"P\#(port)","host":"10.0.1.\#(port % 250)","port":\#(port)}"#
                #expect(try await client.execute(uri: "/api/panels", method: .post, headers: admin, body: APITests.json(body)).status == .created)
            }
            // A writer that skips the API meets the same rules in the database.
            let context = harness.repositories.context
            for statement in ["UPDATE panels SET port = -1", "UPDATE panels SET host = 'evil host'", "UPDATE operators SET login = ''",
                              "UPDATE sites SET name = E'a\\u0007b'"] {
                await #expect(throws: PSQLError.self, "\(statement)") {
                    try await context.client.query(PostgresQuery(unsafeSQL: statement), logger: context.logger)
                }
            }
        }
    }

    /// A DC-09 key is encrypted at rest, so no CHECK can read it: the API checks it against its key_form on the row as
    /// it will be written (schema: `format: { by: key_form, ... }`), and the receiver never meets a key it must refuse.
    @Test func aDC09KeyMustFitItsFormWhenEitherIsWritten() async throws {
        let api = APITests()
        try await api.withAPI { client, harness in
            var admin = APITests.bearer(try await api.token(harness, role: "admin"))
            admin[.contentType] = "application/json"
            let site = try APITests.object(try await client.execute(uri: "/api/sites", method: .post, headers: admin,
                                                                   body: APITests.json(#"{"code":"K-1","name":"Keys"}"#)))
            let panel = try APITests.object(try await client.execute(uri: "/api/panels", method: .post, headers: admin,
                                                                    body: APITests.json(#"{"site_id":"\#(try #require(site["id"] as? String))","name":"GPRS"}"#)))
            let panelId = try #require(panel["id"] as? String)
            func create(_ account: String, _ fields: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/dc09-accounts", method: .post, headers: admin,
                                         body: APITests.json(#"{"account":"\#(account)","panel_id":"\#(panelId)"\#(fields)}"#))
            }
            let hex192 = String(repeating: "0123456789abcdef", count: 3)
            let refused: [(String, String)] = [
                ("hex, 4 digits", #","key":"0123""#),
                ("hex, 33 digits", #","key":"\#(String(repeating: "a", count: 33))""#),
                ("hex, a letter past F", #","key":"\#(String(repeating: "0", count: 31))g""#),
                ("text, 17 characters", #","key_form":"text","key":"0123456789ABCDEFG""#),
                ("text, 16 characters not ASCII", #","key_form":"text","key":"zażółćgęśląjaźńX""#),
                ("text, a control character", #","key_form":"text","key":"0123456789ABCDE\u0007""#),
            ]
            for (index, (name, fields)) in refused.enumerated() {
                let response = try await create("BAD\(index)", fields)
                #expect(response.status == .unprocessableContent, "\(name): \(response.status)")
                #expect(try APITests.errorFields(response) == ["key"], "\(name)")
            }
            #expect(try await harness.repositories.dc09Accounts.all().isEmpty)
            for (account, fields) in [("1111", #","key":"\#(hex192)""#), ("2222", #","key":"\#(String(repeating: "AB", count: 32))""#),
                                      ("3333", #","key_form":"text","key":"0123456789ABCDEF""#), ("4444", "")] {
                #expect(try await create(account, fields).status == .created, "\(account)")
            }
            // 48 hex digits are a key as hex, not as text: the form alone changed is checked against the stored key.
            let stored = try #require(try await harness.repositories.dc09Accounts.all().first { $0.account == "1111" })
            var anyVersion = admin
            anyVersion[.ifMatch] = "*"
            func update(_ id: UUID, _ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/api/dc09-accounts/\(id)", method: .patch, headers: anyVersion, body: APITests.json(body))
            }
            let formOnly = try await update(stored.id, #"{"key_form":"text"}"#)
            #expect(formOnly.status == .unprocessableContent)
            #expect(try APITests.errorFields(formOnly) == ["key"])
            #expect(try await update(stored.id, #"{"key_form":"text","key":"0123456789ABCDEF01234567"}"#).status == .ok)
            #expect(try await harness.repositories.dc09Accounts.find(id: stored.id)?.key?.revealed == "0123456789ABCDEF01234567")
            // A row stored before the rule (here by the repository, as a migration would leave it) can still be
            // changed in its other fields; writing its key or form asks for a key that fits.
            let old = try await harness.repositories.dc09Accounts.insert(Dc09Account(account: "5555", key: Secret("short"), panelId: UUID(uuidString: panelId)!))
            #expect(try await update(old.id, #"{"enabled":false}"#).status == .ok)
            #expect(try await update(old.id, #"{"key_form":"hex"}"#).status == .unprocessableContent)
        }
    }
}

/// SplitMix64: the same samples on every run, so a disagreement found once is found again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
