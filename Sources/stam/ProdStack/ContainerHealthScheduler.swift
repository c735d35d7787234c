import Foundation
import DevStack
import Logging
import ServiceLifecycle

/// Runs the containers' HEALTHCHECKs. Podman 4.3 schedules them with systemd timers, and this machine has no
/// systemd: without this a health stays `starting` for ever, `depends_on: condition: service_healthy` waits
/// for ever and `docker ps` shows no health. (Docker's daemon and podman on a systemd host do this themselves.)
///
/// A container whose health is `starting` is checked every `startInterval` (Docker 25's `start_interval`; the
/// compose files' 10 s would make each level of the dependency graph wait up to 10 s); once it has a verdict,
/// at the interval its HEALTHCHECK declares. A failed check is normal while a service starts: it is counted by
/// the engine (retries, then `unhealthy`), not here.
///
/// The first passing check of each container is recorded in `startupFile` (service -> seconds from the container's
/// start to that check's end; as precise as `startInterval`), for `make bench`'s start-to-healthy table.
struct ContainerHealthScheduler: Service {
    let project: String
    let logger: Logger
    var startInterval: Duration = .seconds(2)
    var startupFile: String?

    func run() async throws {
        var intervals: [String: Duration] = [:]
        var lastRun: [String: ContinuousClock.Instant] = [:]
        var recorded = Set<String>()
        var startup: [String: Double] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let listing = (try? await ContainerEngine.run(ContainerEngine.podman, [
                "ps", "--filter", "label=com.docker.compose.project=\(project)", "--format", "{{.ID}}|{{.Status}}",
            ])) ?? ""
            var due: [String] = []
            for line in listing.split(separator: "\n") {
                let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let (id, status) = (parts[0], parts[1])
                let starting = status.contains("(starting)")
                guard starting || status.contains("(healthy)") || status.contains("(unhealthy)") else { continue }
                if intervals[id] == nil { intervals[id] = await Self.interval(of: id) }
                let every = starting ? startInterval : intervals[id]!
                if let last = lastRun[id], ContinuousClock.now - last < every { continue }
                due.append(id)
            }
            let healthy = await withTaskGroup(of: String?.self) { group in
                for id in due {
                    lastRun[id] = .now
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
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The HEALTHCHECK interval of a container (podman prints a Go duration, e.g. `10s` or `1m0s`); 10 s if unreadable.
    static func interval(of container: String) async -> Duration {
        let text = (try? await ContainerEngine.run(ContainerEngine.podman, ["inspect", "--format", "{{.Config.Healthcheck.Interval}}", container])) ?? ""
        if let nanoseconds = Int64(text) { return .nanoseconds(nanoseconds) }
        var seconds = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." { number.append(character); continue }
            let value = Double(number) ?? 0
            number = ""
            switch character {
            case "h": seconds += value * 3600
            case "m": seconds += value * 60
            case "s": seconds += value
            default: break
            }
        }
        return seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : .seconds(10)
    }
}
