import Foundation
import DevStack
import Logging
import ServiceLifecycle

/// Runs the containers' HEALTHCHECKs. Podman 4.3 schedules them with systemd timers, and this machine has no
/// systemd: without this a health stays `starting` for ever, `depends_on: condition: service_healthy` waits
/// for ever and `docker ps` shows no health. (Docker's daemon and podman on a systemd host do this themselves.)
///
/// When a check is due is `HealthCheckSchedule`'s: every `startInterval` (Docker 25's `start_interval`; the compose
/// files' 10 s would make each level of the dependency graph wait up to 10 s) while a container is in its start
/// period without a verdict, then at the interval its HEALTHCHECK declares. A failed check is normal while a service
/// starts: it is counted by the engine (retries, then `unhealthy`), not here. Between checks the engine is asked
/// only as often as the schedule needs: each `podman ps` costs about 0.1 s of CPU, and asked every 500 ms it and the
/// checks took 0.4 of this 2-core machine's cores from the stack.
///
/// The first passing check of each container is recorded in `startupFile` (service -> seconds from the container's
/// start to that check's end; as precise as `startInterval`), for `make bench`'s start-to-healthy table.
struct ContainerHealthScheduler: Service {
    let project: String
    let logger: Logger
    /// Seconds between checks of a container in its start period without a verdict.
    var startInterval = 2.0
    var startupFile: String?

    func run() async throws {
        var schedule = HealthCheckSchedule(startInterval: startInterval)
        var timings: [String: HealthCheckSchedule.Timing] = [:]
        var recorded = Set<String>()
        var startup: [String: Double] = [:]
        var containers: [HealthCheckSchedule.Container] = []
        var listedAt = -Double.infinity
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // The engine is asked at most every `startInterval`; the spaced checks between use the last listing.
            if Date().timeIntervalSince1970 - listedAt >= startInterval {
                let listing = (try? await ContainerEngine.run(ContainerEngine.podman, [
                    "ps", "--filter", "label=com.docker.compose.project=\(project)", "--format", "{{.ID}}|{{.Status}}|{{.StartedAt}}",
                ])) ?? ""
                listedAt = Date().timeIntervalSince1970
                containers = []
                for line in listing.split(separator: "\n") {
                    guard let container = Self.container(fromListing: String(line)) else { continue }
                    if timings[container.id] == nil { timings[container.id] = await Self.timing(of: container.id) }
                    containers.append(container)
                }
                timings = timings.filter { id, _ in containers.contains { $0.id == id } }
            }
            let due = schedule.due(containers, timings: timings, now: Date().timeIntervalSince1970)
            let healthy = await withTaskGroup(of: String?.self) { group in
                for id in due {
                    group.addTask {
                        let status = try? await ContainerEngine.status(ContainerEngine.podman, ["healthcheck", "run", id])
                        return status?.0 == 0 ? id : nil
                    }
                }
                return await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
            if let startupFile {
                for id in healthy where !recorded.contains(id) {
                    recorded.insert(id)
                    let text = (try? await ContainerEngine.run(ContainerEngine.podman, [
                        "inspect", "--format", "{{index .Config.Labels \"com.docker.compose.service\"}}|{{.State.StartedAt.UnixNano}}", id,
                    ])) ?? ""
                    let parts = text.split(separator: "|")
                    guard parts.count == 2, let startedAt = Double(parts[1]) else { continue }
                    startup[String(parts[0])] = Date().timeIntervalSince1970 - startedAt / 1e9
                    if let data = try? JSONSerialization.data(withJSONObject: startup, options: [.sortedKeys, .prettyPrinted]) {
                        try? data.write(to: URL(fileURLWithPath: startupFile), options: .atomic)
                    }
                }
            }
            let wait = schedule.wait(now: Date().timeIntervalSince1970)
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
        }
    }

    /// One line of `podman ps --format {{.ID}}|{{.Status}}|{{.StartedAt}}`; nil for a container without a health check
    /// (its status has no "(starting)", "(healthy)" or "(unhealthy)").
    static func container(fromListing line: String) -> HealthCheckSchedule.Container? {
        let parts = line.split(separator: "|").map(String.init)
        guard parts.count == 3, let startedAt = Double(parts[2]) else { return nil }
        let health: HealthCheckSchedule.Health
        if parts[1].contains("(starting)") { health = .starting }
        else if parts[1].contains("(unhealthy)") { health = .unhealthy }
        else if parts[1].contains("(healthy)") { health = .healthy }
        else { return nil }
        return HealthCheckSchedule.Container(id: parts[0], health: health, startedAt: startedAt)
    }

    /// A container's HEALTHCHECK interval and start period (10 s and 0 s where unreadable).
    static func timing(of container: String) async -> HealthCheckSchedule.Timing {
        let text = (try? await ContainerEngine.run(ContainerEngine.podman, [
            "inspect", "--format", "{{.Config.Healthcheck.Interval}}|{{.Config.Healthcheck.StartPeriod}}", container,
        ])) ?? ""
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
        let interval = parts.first.flatMap { seconds(ofGoDuration: String($0)) } ?? 10
        let startPeriod = parts.count > 1 ? seconds(ofGoDuration: String(parts[1])) ?? 0 : 0
        return HealthCheckSchedule.Timing(interval: interval > 0 ? interval : 10, startPeriod: startPeriod)
    }

    /// Seconds in a Go duration as podman prints it (`10s`, `1m0s`, `500ms`) or in plain nanoseconds; nil if unreadable.
    static func seconds(ofGoDuration text: String) -> Double? {
        if let nanoseconds = Int64(text) { return Double(nanoseconds) / 1e9 }
        let units: [Substring: Double] = ["h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9]
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), let scale = units[unit] else { return nil }
            total += value * scale
        }
        return total
    }
}
