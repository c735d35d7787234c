import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence
import StamCore

/// Small pieces every generated route uses: JSON responses, bodies, path ids, ETags.
public enum APIResponse {
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        // Entities and pages of them write their own JSON (the same bytes, several times faster).
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter()
            writable.writeJSON(to: &writer)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
        }
        let data = try APICoding.encoder.encode(value)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The JSON bytes of an entity or a page of them.
    public static func jsonBody(_ value: some JSONWritable) -> ByteBuffer {
        var writer = JSONWriter()
        value.writeJSON(to: &writer)
        return ByteBuffer(bytes: writer.bytes)
    }

    /// A list route's answer through the backend's `ListCache` when it has one and the entity declares
    /// `list_cache:` (`X-List-Cache` says hit, miss or bypass), else straight from `load`.
    public static func list(cache: ListCache? = nil, policy: ListCachePolicy? = nil, request: Request,
                            load: () async throws -> ByteBuffer) async throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        guard let cache, let policy else {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: try await load()))
        }
        let (body, outcome) = try await cache.body(for: policy, key: request.uri.query ?? "", load: load)
        headers[.listCache] = outcome.rawValue
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// The request body, refused with 413 past the context's limit.
    public static func body(of request: Request, context: StamRequestContext) async throws -> Data {
        do {
            return Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        } catch {
            throw APIError(status: .contentTooLarge, code: "body_too_large", message: "the body exceeds \(context.maxUploadSize) bytes")
        }
    }

    /// `ETag: "<version>"`: a client sends it back as `If-Match` to update.
    public static func etag(version: Int) -> HTTPFields { [.eTag: "\"\(version)\""] }

    /// The version from `If-Match` (`IfMatch`), nil for `*`; 428 without the header (an update must say which
    /// version it changes), 400 for anything but the two forms the document's pattern allows.
    public static func requireIfMatch(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch] else {
            throw APIError(status: .preconditionRequired, code: "precondition_required",
                           message: "send If-Match with the ETag of the version you read")
        }
        switch IfMatch(header: header) {
        case .version(let version)?: return version
        case .any?: return nil
        case nil: throw APIError(status: .badRequest, code: "bad_if_match", message: "If-Match must be an ETag this API issued, like \"3\", or *")
        }
    }

    public static func uuidParameter(_ context: StamRequestContext, _ name: String = "id") throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.notFound("'\(context.parameters.get(name) ?? "")' is not an id here")
        }
        return id
    }

    public static func intParameter(_ context: StamRequestContext, _ name: String = "id") throws -> Int {
        guard let text = context.parameters.get(name), let id = Int(text) else { throw APIError.notFound("not an id here") }
        return id
    }

    public static func stringParameter(_ context: StamRequestContext, _ name: String = "id") throws -> String {
        guard let text = context.parameters.get(name) else { throw APIError.notFound("not an id here") }
        return text
    }
}

extension HTTPField.Name {
    public static let listCache = Self("X-List-Cache")!
}

/// A list response: `{"items": [...], "next_cursor": "..."}` (`next_cursor` is null on the last page).
public struct PageBody<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null, not a missing key
    }
}

extension PageBody: JSONWritable where Item: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("items")
        writer.beginArray()
        for item in items { item.writeJSON(to: &writer) }
        writer.endArray()
        writer.key("next_cursor")
        if let nextCursor { writer.value(nextCursor) } else { writer.null() }
        writer.endObject()
    }
}

extension APIError {
    public static func from(repository error: RepositoryError) -> APIError {
        switch error.code {
        case .notFound: .notFound(error.message)
        case .versionConflict: APIError(status: .conflict, code: "version_conflict", message: error.message)
        case .invalidCursor: .invalid(field: "after", error.message)
        case .invalidStoredValue: APIError(status: .internalServerError, code: "stored_value", message: error.message)
        }
    }
}
