import Foundation
import LocalStack
import Logging

/// Runs services of a generated compose file natively, each in a container of a `NamespaceBed` with its own
/// network namespace, address and root (as Docker would): the service's image replaced by its
/// `NativeImage`, its secrets at /run/secrets, named volumes as directories under `volumes`, bind mounts of
/// the generated files as they are, and its `entrypoint`/`command`/`environment` unchanged. Readiness is the
/// service's own `healthcheck.test`, run inside its container.
///
/// What is not Docker: health checks run every 500 ms instead of their `interval` (start-up is faster and
/// nothing depends on the slower pace); `cpus`/`mem_limit` are not enforced; the `satel_vlan` macvlan is
/// the same bridge as `internal` (the simulated panels live on it).
final class ComposeStack: @unchecked Sendable {
    let compose: ComposeFile
    let bed: NamespaceBed
    let volumes: String
    let logs: String
    let holds: String
    private let images: (String) throws -> NativeImage
    private let lock = NSLock()
    private var running: [String: StackProcess] = [:]
    private var order: [String] = []

    /// - Parameters:
    ///   - containers: every container the bed will hold, in address order (services and extra ones).
    ///   - directory: the bed's directory (hosts, PID registry, container roots).
    init(compose: ComposeFile, containers: [String], directory: String, volumes: String, logs: String, holds: String,
         images: @escaping (String) throws -> NativeImage) throws {
        self.compose = compose
        self.volumes = volumes
        self.logs = logs
        self.holds = holds
        self.images = images
        for path in [directory, volumes, logs, holds] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        bed = try NamespaceBed(directory: directory, hostNames: containers, isolated: true)
    }

    var network: NamespaceBed.IsolatedNetwork { bed.isolatedNetwork! }

    func address(of container: String) -> String? {
        bed.hostNames.firstIndex(of: container).map { network.address(ofContainer: $0) }
    }

    /// Starts one service of the compose file in a new container (`devices` maps the file's host device
    /// paths to this machine's, e.g. /dev/ttyUSB0 to the modem simulator's pty).
    @discardableResult
    func start(_ service: ComposeFile.Service, devices: [String: String] = [:], logger: Logger) throws -> StackProcess {
        let image = try images(service.image)
        var secrets: [String: String] = [:]
        for secret in service.secrets {
            guard let file = compose.secretFiles[secret] else { throw ComposeFile.ParseError(description: "\(service.name): undeclared secret \(secret)") }
            secrets[secret] = try String(contentsOfFile: file, encoding: .utf8)
        }
        var binds: [(String, String)] = []
        for volume in service.volumes {
            var source = volume.source
            if volume.isNamed {
                source = "\(volumes)/\(volume.source)"
                try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            }
            binds.append((source, volume.target))
        }
        binds += image.directoryBinds.sorted { $0.key < $1.key }.map { ($0.value, $0.key) }
        let imageFiles = "\(bed.directory)/\(service.name)-image"
        try FileManager.default.createDirectory(atPath: imageFiles, withIntermediateDirectories: true)
        for (target, source) in image.files.sorted(by: { $0.key < $1.key }) {
            // The Dockerfiles COPY the generated scripts and chmod them 0755; the files in git are 0644.
            if FileManager.default.isExecutableFile(atPath: source) {
                binds.append((source, target))
            } else {
                let copy = "\(imageFiles)/\((target as NSString).lastPathComponent)"
                try? FileManager.default.removeItem(atPath: copy)
                try FileManager.default.copyItem(atPath: source, toPath: copy)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
                binds.append((copy, target))
            }
        }
        for (target, text) in image.scripts.sorted(by: { $0.key < $1.key }) {
            let file = "\(imageFiles)/\((target as NSString).lastPathComponent)"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
            binds.append((file, target))
        }
        let deviceBinds = service.devices.map { (devices[$0.host] ?? $0.host, $0.container) }
        let container = try bed.container(service.name, secrets: secrets, binds: binds, ownRoot: true, devices: deviceBinds)
        for (path, owner) in image.directories.sorted(by: { $0.key < $1.key }) {
            let parts = owner.split(separator: ":").map(String.init)
            try bed.run(in: container, ["/usr/bin/install", "-d", "-o", parts[0], "-g", parts.count > 1 ? parts[1] : parts[0], path])
        }

        var argv = (service.entrypoint ?? image.entrypoint) + (service.command ?? image.command)
        if let user = image.user {
            let ids = user.split(separator: ":").map(String.init)
            let groups = service.groups.compactMap { name in Int(name).map(String.init) ?? getgrnam(name).map { String($0.pointee.gr_gid) } }
            argv = ["/usr/bin/setpriv", "--reuid=\(ids[0])", "--regid=\(ids.count > 1 ? ids[1] : ids[0])"]
                + (groups.isEmpty ? ["--clear-groups"] : ["--groups=\(groups.joined(separator: ","))"]) + ["--"] + argv
        }
        var environment = ["PATH": image.path, "HOME": image.user == nil ? "/root" : "/var/lib/stam", "HOSTNAME": service.name]
        environment.merge(service.environment) { $1 }
        let readiness: StackProcess.Readiness
        if let healthcheck = service.healthcheck {
            let check = ["/usr/bin/timeout", "5"] + healthcheck
            let checkEnvironment = ["PATH": image.path, "HOME": "/root"]
            readiness = .check { [bed] in (try? bed.status(in: container, check, environment: checkEnvironment))?.0 == 0 }
        } else {
            readiness = .started
        }
        return try launch(argv, in: container, environment: environment, readiness: readiness)
    }

    /// A container that is not a compose service (the simulators), running a command of this machine; `binds`
    /// bring host files in (the container's /tmp is its own).
    @discardableResult
    func startExtra(_ name: String, _ argv: [String], binds: [(String, String)] = [], environment: [String: String],
                    readiness: StackProcess.Readiness) throws -> StackProcess {
        let container = try bed.container(name, binds: binds, ownRoot: true)
        return try launch(argv, in: container, environment: environment, readiness: readiness)
    }

    /// Starts the container's main process: logged, registered, restarted with the container's leftovers
    /// killed first, held down while its hold file exists (none at start).
    private func launch(_ argv: [String], in container: NamespaceBed.Container, environment: [String: String],
                        readiness: StackProcess.Readiness) throws -> StackProcess {
        let name = container.name
        let (executable, arguments) = bed.commandLine(in: container, argv)
        let process = StackProcess(name: name, executable: executable, arguments: arguments, environment: environment,
                                   logDirectory: logs, readiness: readiness, registry: "\(bed.directory)/processes",
                                   beforeRestart: { [bed] in bed.kill(container: container) }, holdFile: "\(holds)/\(name)")
        try? FileManager.default.removeItem(atPath: "\(holds)/\(name)")
        try process.start()
        lock.withLock {
            running[name] = process
            order.append(name)
        }
        return process
    }

    var processes: [StackProcess] { lock.withLock { order.compactMap { running[$0] } } }

    func process(_ name: String) -> StackProcess? { lock.withLock { running[name] } }

    /// `stam stop`: a service whose hold file exists is stopped and stays down until the file goes (`stam
    /// start`), as `docker stop`/`docker kill` and `docker start`. The file holds the signal: `TERM` reaches the
    /// service's main process (Patroni, nginx and the stam processes shut down cleanly), `KILL` every process
    /// in its container at once, as a crash or `docker kill` would. Returns the services it signalled.
    func applyHolds() -> [String] {
        var signalled: [String] = []
        for process in processes {
            guard let holdFile = process.holdFile, let text = try? String(contentsOfFile: holdFile, encoding: .utf8),
                  let pid = process.pid, kill(pid, 0) == 0 else { continue }
            if text.hasPrefix("KILL"), let container = bed.container(named: process.name) {
                bed.kill(container: container, signal: SIGKILL)
            } else {
                kill(pid, SIGTERM)
            }
            signalled.append(process.name)
        }
        return signalled
    }

    /// Restarts what exited by itself (`restart: always`) unless it is held; returns the ones restarted.
    func restartExited(logger: Logger) -> [StackProcess] {
        processes.filter { $0.restartIfExited(logger: logger) }
    }

    /// Stops every service in reverse start order (SIGTERM, the compose file's grace), then the bed.
    func stop() {
        for process in processes.reversed() { process.stop(timeout: .seconds(60)) }
        bed.stop()
    }
}
