import Foundation
import HTTPTypes
import Hummingbird

/// Takes the caller's `X-Request-ID` (nginx sets one) when it is a sane token, else makes one; puts it in
/// every log line of the request (`request_id`) and on the response, errors included.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let offered = request.headers[.requestID]
        let id = offered.flatMap(Self.isAcceptable) == true ? offered! : UUID().uuidString.lowercased()
        context.requestId = id
        context.logger[metadataKey: "request_id"] = .string(id)
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = id
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[.requestID] = id
            return response
        }
    }

    /// 1...128 characters of `[A-Za-z0-9._-]`: anything else could forge log lines.
    static func isAcceptable(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45 || byte == 46 || byte == 95
        }
    }
}

extension HTTPField.Name {
    public static let requestID = Self("X-Request-ID")!
}
