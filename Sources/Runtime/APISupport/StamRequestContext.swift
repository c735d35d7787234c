import Foundation
import Hummingbird
import NIOCore
import StamCore

/// The request context of the operator API: the authenticated principal (set by `AuthenticationMiddleware`),
/// the request id (set by `RequestIDMiddleware`), the TCP peer and the client's address (`ClientAddressMiddleware`:
/// the peer, or what a trusted proxy reports).
public struct StamRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestId = ""
    public let peerAddress: String?
    /// Whom the request is attributed to (login throttling, sessions, the audit trail).
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
        clientAddress = peerAddress
    }

    public var requestDecoder: JSONDecoder { APICoding.decoder }
    public var responseEncoder: JSONEncoder { APICoding.encoder }
    /// Requests carry small JSON bodies; a large one is refused before it is read into memory.
    public var maxUploadSize: Int { 256 * 1024 }

    /// The principal, when its role is one of `roles`: 401 without a token, 403 with the wrong role.
    public func require(roles: [String]) throws -> Principal {
        guard let principal else { throw APIError.unauthorized("a bearer token is required") }
        guard roles.contains(principal.role) else {
            throw APIError(status: .forbidden, code: "forbidden", message: "role '\(principal.role)' may not do this (needs one of: \(roles.joined(separator: ", ")))")
        }
        return principal
    }
}

/// One JSON shape for every response and request: ISO 8601 dates with fractional seconds, sorted keys.
public enum APICoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatDate(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 date-time, got '\(text)'")
            }
            return date
        }
        return decoder
    }

    /// UTC with milliseconds; the same function the generated `writeJSON` uses, so both paths agree.
    public static func formatDate(_ date: Date) -> String { JSONWriter.formatDate(date) }

    public static func parseDate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        // A calendar day (a `date` field, e.g. a holiday): midnight UTC, as PostgreSQL's date is read back.
        if text.count == 10, let date = try? Date(text, strategy: .iso8601.year().month().day()) { return date }
        return nil
    }
}
