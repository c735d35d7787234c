import Foundation
import HTTPTypes
import Hummingbird

/// Takes the caller's `X-Request-ID` (nginx sets one) when it is a sane token, else makes one; puts it in
/// every log line of the request (`request_id`) and on the response, errors included.
///
/// It is also the last word on errors: an error that is not an answer already (a database or broker failure, a
/// bug) is logged at error level with the request id and answered 500 with a JSON body carrying that id, so an
/// operator's report and the log line meet. Never an empty 500.
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
        } catch {
            context.logger.error("request failed", metadata: [
                "error": .string(String(reflecting: error)), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            ])
            let answer = APIError(status: .internalServerError, code: "internal_error",
                                  message: "the station could not complete this request; quote request id \(id) to its administrator")
            var response = try answer.response(from: request, context: context)
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
