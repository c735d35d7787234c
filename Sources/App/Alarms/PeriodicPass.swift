import Logging
import ServiceLifecycle

/// The loop every alarm supervisor runs (escalation, no-signal, open/close): a pass, again at once while the last one
/// filled its batch (more is due), else after `interval`, until the service group shuts down. A failed pass (the
/// database failing over) is logged and the next one tries again: a pass writes in its own transactions, so nothing
/// was half-written.
public enum PeriodicPass {
    /// `pass` returns true when more is due at once.
    public static func run(every interval: Duration, logger: Logger, failure: Logger.Message, _ pass: () async throws -> Bool) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                while try await pass(), !Task.isCancelled, !Task.isShuttingDownGracefully {}
            } catch {
                logger.warning(failure, metadata: ["error": "\(String(reflecting: error))"])
            }
            // A graceful shutdown ends the wait at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
