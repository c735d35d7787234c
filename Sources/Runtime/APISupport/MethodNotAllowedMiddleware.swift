import Foundation
import HTTPTypes
import Hummingbird

/// 405 with `Allow` for a path the API serves under other methods (RFC 9110 15.5.6), instead of the router's
/// 404: `TRACE /readyz`, `PUT /api/sites`. The methods come from the OpenAPI document the backend serves, so the
/// answer and the contract cannot disagree; `extra` adds routes the document does not describe (the document
/// itself, metrics). HEAD is allowed wherever GET is, as the router serves it.
public struct MethodNotAllowedMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext

    struct Route {
        /// Path segments; nil stands for a parameter (`{id}`).
        var segments: [String?]
        var methods: Set<String>
    }

    let routes: [Route]

    /// - Parameters:
    ///   - openAPIDocument: the JSON of an OpenAPI document; its `paths` and their operations.
    ///   - extra: more routes, `path -> methods`.
    public init(openAPIDocument: String, extra: [String: Set<String>] = [:]) {
        var table = extra
        if let root = try? JSONSerialization.jsonObject(with: Data(openAPIDocument.utf8)) as? [String: Any],
           let paths = root["paths"] as? [String: Any] {
            let operations: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            for (path, item) in paths {
                guard let item = item as? [String: Any] else { continue }
                table[path, default: []].formUnion(item.keys.filter(operations.contains).map { $0.uppercased() })
            }
        }
        routes = table.map { path, methods in
            var methods = methods
            if methods.contains("GET") { methods.insert("HEAD") }
            return Route(segments: Self.segments(of: path).map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }, methods: methods)
        }
    }

    /// As the router reads a path: empty segments (a trailing or doubled slash) do not count.
    static func segments(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// The methods served at `path`, nil when no route has its shape. A literal segment wins over a parameter at the
    /// same place, as in the router's trie: `/api/alarms/close-group` is that action's path, not an alarm's id.
    func allowedMethods(at path: String) -> Set<String>? {
        let parts = Self.segments(of: path)
        var matching = routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { pattern, part in pattern == nil || pattern == part }
        }
        guard !matching.isEmpty else { return nil }
        for index in parts.indices where matching.contains(where: { $0.segments[index] != nil }) {
            matching = matching.filter { $0.segments[index] != nil }
        }
        return matching.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let allowed = allowedMethods(at: request.uri.path), !allowed.contains(request.method.rawValue) {
            let list = allowed.sorted().joined(separator: ", ")
            var response = try APIError(status: .methodNotAllowed, code: "method_not_allowed",
                                        message: "\(request.method.rawValue) is not served here; allowed: \(list)")
                .response(from: request, context: context)
            response.headers[.allow] = list
            return response
        }
        return try await next(request, context)
    }
}
