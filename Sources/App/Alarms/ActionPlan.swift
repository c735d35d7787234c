import Foundation
import Generated
import PostgresNIO

/// The steps an operator follows for one alarm: the site's own steps for the alarm's class when it has any, else
/// the class's default plan (steps without a site), in position order. Read when a step is recorded and when the
/// alarm is closed, so a plan edited while an alarm is open applies to what is left of it.
public struct ActionPlan: Sendable, Equatable {
    public var steps: [ActionPlanStep]

    public init(steps: [ActionPlanStep]) {
        self.steps = steps
    }

    /// Chooses from every step of the class: the site's, else the defaults.
    public init(choosingFrom candidates: [ActionPlanStep], site: UUID) {
        let own = candidates.filter { $0.siteId == site }
        let chosen = own.isEmpty ? candidates.filter { $0.siteId == nil } : own
        steps = chosen.sorted { ($0.position, $0.id.uuidString) < ($1.position, $1.id.uuidString) }
    }

    public static func load(for alarm: Alarm, repositories: Repositories, on connection: PostgresConnection) async throws -> ActionPlan {
        ActionPlan(choosingFrom: try await repositories.actionPlanSteps.all(filter: .init(priority: alarm.priority), on: connection),
                   site: alarm.siteId)
    }

    /// The required steps with no recorded outcome among `recorded`.
    public func openRequiredSteps(recorded: [AlarmStep]) -> [ActionPlanStep] {
        let done = Set(recorded.compactMap(\.stepId))
        return steps.filter { $0.required && !done.contains($0.id) }
    }
}
