import Foundation
import Testing

extension Tag {
    /// A suite that starts a server, a container or another program (PostgreSQL, RabbitMQ, Redis, podman, nginx, a
    /// Python tool, `stam` itself). Untagged suites run in the test process alone (docs/TESTING.md).
    @Tag public static var integration: Self
}

extension Trait where Self == ConditionTrait {
    /// Beside the `integration` tag on every such suite: skipped when `STAM_TESTS=unit`, so
    /// `STAM_TESTS=unit swift test` runs the unit tests in seconds without servers. (Swift 6.3's `swift test` cannot
    /// filter by tag yet: `--skip tag:integration` arrives with ST-0025.)
    public static var integration: Self {
        .enabled(if: ProcessInfo.processInfo.environment["STAM_TESTS"] != "unit", "an integration suite; STAM_TESTS=unit runs unit tests only")
    }
}
