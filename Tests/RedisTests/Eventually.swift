import Foundation
import Testing

/// Waits until `condition` holds, checking every 50 ms, and records an issue if it never does within the
/// bound. The bound is a generous liveness limit, not a performance assertion.
func eventually(_ what: String, within bound: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + bound
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("not reached within \(bound): \(what)")
    throw TestFailure(what: "not reached: \(what)")
}

/// Ends a test whose issue was already recorded.
struct TestFailure: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
