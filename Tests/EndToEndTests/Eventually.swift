/// Waits until `condition` holds, checking every 500 ms; the deadline only ends a wait that would never end (what
/// the stack does in time is measured by the benchmarks, not asserted here). A condition that throws counts as false.
func eventually(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(500))
    }
    throw EndToEndFailure(description: "timed out waiting until \(what)")
}
