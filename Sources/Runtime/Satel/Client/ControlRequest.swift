import NIOCore

/// A control command travelling from `SatelClient.execute` down the pipeline to the connection handler.
struct ControlRequest: Sendable {
    var command: ControlCommand
    var code: UserCode
    var promise: EventLoopPromise<ResultCode>
}
