import Alarms
import APISupport
import Crypto
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Persistence
import StamCore

/// `verify_code_word`: the operator types the word a caller gave and learns whether it is the contact's, without
/// the stored word ever leaving the station. Words are compared as spoken: case, and spaces around and between
/// words, do not matter. Every check, right or wrong, is audited and, when an alarm is named, is a line of its
/// timeline; the answer (204 or 409 `code_word_mismatch`) comes after that commit.
struct ContactActionHandler: ContactActions {
    let repositories: Repositories
    let audit: AuditTrail
    let history: AlarmHistory

    init(repositories: Repositories) {
        self.repositories = repositories
        audit = AuditTrail(repositories: repositories)
        history = AlarmHistory(repositories: repositories)
    }

    func verifyCodeWord(id: UUID, body: ContactVerifyCodeWordBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let matches = try await repositories.context.transaction { connection in
            guard let contact = try await repositories.contacts.find(id: id, on: connection) else { throw APIError.notFound("no contact \(id)") }
            let matches = contact.codeWord.map { Self.sameWords($0.revealed, body.codeWord) } ?? false
            if let alarmId = body.alarmId {
                guard let alarm = try await repositories.alarms.find(id: alarmId, on: connection), alarm.siteId == contact.siteId else {
                    throw APIError.missingReference(field: "alarm_id", "no alarm of this contact's site with this id")
                }
                try await history.record(.codeWordChecked, alarm: alarm.id, by: principal.operatorId,
                                         text: "Code word of \(contact.name): \(matches ? "correct" : "WRONG")",
                                         details: .object(["contact_id": .string(contact.id.uuidString.lowercased()), "matches": .bool(matches)]),
                                         at: Date(), on: connection)
            }
            try await audit.record("contact.verify_code_word", entityType: "Contact", entityId: id, principal: principal, context: context,
                                   details: .object(["matches": .bool(matches)]), on: connection)
            return matches
        }
        guard matches else {
            throw APIError(status: .conflict, code: "code_word_mismatch", message: "the code word does not match")
        }
        return Response(status: .noContent)
    }

    /// Equal as spoken words; compared as digests, so the time taken tells nothing of the stored word.
    static func sameWords(_ stored: String, _ given: String) -> Bool {
        func spoken(_ text: String) -> Data {
            Data(text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ").utf8)
        }
        let stored = spoken(stored)
        return !stored.isEmpty && Data(SHA256.hash(data: stored)) == Data(SHA256.hash(data: spoken(given)))
    }
}
