import APISupport
import Hummingbird
import NIOCore

/// Counts and times every request by method, matched route and status. The outermost middleware, so errors
/// the inner ones turn into responses (401, 404, 422) are counted with their real status; an error that
/// still escapes is counted as what Hummingbird will answer (its status, else 500).
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = StamRequestContext

    let metrics: BackendMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.recordRequest(method: method, route: Self.route(context), status: response.status.code,
                                  duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(method: method, route: Self.route(context), status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }

    /// The route template the router matched; unmatched paths (Hummingbird says "NotFound") share one label
    /// so scanners cannot add series.
    static func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return "unmatched" }
        return path
    }
}
