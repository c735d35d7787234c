import NIOCore

/// A request from `SatelClient.send` travelling down the pipeline to the connection handler.
struct CallerRequest: Sendable {
    var request: SatelRequest
    var promise: EventLoopPromise<SatelResponse>
}
