import Foundation

/// A private network with "containers" on it, built from Linux namespaces so the generated files run as
/// they are, with the host names and paths they name: one network namespace (its own loopback, so every
/// port is free) and per container a mount namespace with its own /etc/hosts (every service name is
/// 127.0.0.1), its own /run (the secrets at /run/secrets) and bind mounts standing in for volumes. The
/// machine's own files are never changed. Needs root, like the CI runner.
///
/// Every process is started through `nsenter`, which execs in place: the PIDs held are the servers' own,
/// and everything is stopped by PID.
///
/// With `isolated` networking each container also gets a network namespace of its own, as Docker gives
/// every container: its own loopback and ports (two backends can both listen on 8000, and a compose
/// healthcheck on 127.0.0.1 reaches its own service) and an address on a bridge that lives in the bed's
/// network namespace; /etc/hosts maps every container name to its address. The host reaches the bridge
/// through one veth pair (`hostAddress` <-> the containers), which disappears with the bed's namespace.
public final class NamespaceBed: @unchecked Sendable {
    /// The containers' private network: `prefix.1`... in container order, the host at `prefix.254`.
    public struct IsolatedNetwork: Sendable {
        public var prefix: String
        public var hostInterface: String
        public var hostAddress: String { "\(prefix).254" }
        public func address(ofContainer index: Int) -> String { "\(prefix).\(index + 1)" }
    }

    public struct Container: Sendable {
        public var name: String
        public var holder: LocalProcess
        public var pid: Int32 { holder.pid }
        /// Where the container's own root is mounted (in its mount namespace), when it has one: commands then
        /// run chrooted there (`nsenter --root`).
        public var root: String?
    }

    public let directory: String
    public let hostNames: [String]
    private let network: LocalProcess
    private var containers: [String: Container] = [:]
    private var processes: [LocalProcess] = []
    /// Set for isolated networking.
    public let isolatedNetwork: IsolatedNetwork?

    /// - Parameters:
    ///   - hostNames: the service names that resolve to 127.0.0.1 inside the bed.
    ///   - addresses: names that resolve elsewhere on the loopback network (127.0.0.2, ...), so two
    ///     services can listen on the same port.
    ///   - isolated: every container gets a network namespace and an address of its own; `hostNames`
    ///     are then the containers, in the order they will be created, and resolve to their addresses.
    public init(directory: String, hostNames: [String], addresses: [String: String] = [:], isolated: Bool = false) throws {
        self.directory = directory
        self.hostNames = hostNames
        let unshare = "/usr/bin/unshare"
        guard FileManager.default.isExecutableFile(atPath: unshare) else {
            throw LocalProcess.LaunchError(description: "\(unshare) is missing (util-linux); scripts/install-deps.sh installs it")
        }
        network = try LocalProcess(name: "network", executable: unshare, arguments: ["--net", "--", "/bin/sleep", "infinity"],
                                   logFile: "\(directory)/network.log")
        Self.record(network, in: directory)
        try Self.waitForNamespace(of: network.pid, kind: "net")
        try Self.ip(in: network.pid, ["link", "set", "lo", "up"])
        var hosts = ["127.0.0.1 localhost"]
        if isolated {
            let isolatedNetwork = try Self.bridge(in: network.pid)
            self.isolatedNetwork = isolatedNetwork
            hosts += hostNames.enumerated().map { "\(isolatedNetwork.address(ofContainer: $0.offset)) \($0.element)" }
        } else {
            isolatedNetwork = nil
            hosts += hostNames.map { "127.0.0.1 \($0)" }
        }
        hosts += addresses.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        try hosts.joined(separator: "\n").appending("\n").write(toFile: "\(directory)/hosts", atomically: true, encoding: .utf8)
    }

    /// Runs `ip` in the network namespace of `pid` (nil: the host's).
    private static func ip(in pid: Int32?, _ arguments: [String]) throws {
        if let pid {
            try LocalProcess.run("/usr/bin/nsenter", ["-t", String(pid), "-n", "--", "/sbin/ip"] + arguments)
        } else {
            try LocalProcess.run("/sbin/ip", arguments)
        }
    }

    /// The bridge in the bed's namespace and the host's link to it, on a 10.199.N.0/24 the host does not
    /// route yet.
    private static func bridge(in namespace: Int32) throws -> IsolatedNetwork {
        let routes = try LocalProcess.run("/sbin/ip", ["-4", "route", "show"])
        guard let third = (1...254).first(where: { !routes.contains("10.199.\($0).") }) else {
            throw LocalProcess.LaunchError(description: "no free 10.199.N.0/24 for the bed's network")
        }
        let network = IsolatedNetwork(prefix: "10.199.\(third)", hostInterface: "stambed\(third)")
        try ip(in: namespace, ["link", "add", "bridge0", "type", "bridge"])
        try ip(in: namespace, ["link", "set", "bridge0", "up"])
        try ip(in: nil, ["link", "add", network.hostInterface, "type", "veth", "peer", "name", "uplink", "netns", String(namespace)])
        try ip(in: nil, ["addr", "add", "\(network.hostAddress)/24", "dev", network.hostInterface])
        try ip(in: nil, ["link", "set", network.hostInterface, "up"])
        try ip(in: namespace, ["link", "set", "uplink", "master", "bridge0", "up"])
        return network
    }

    /// A container: a mount namespace on the bed's network with /etc/hosts, a fresh /run holding
    /// `secrets` at /run/secrets (mode 0600, owned by `secretOwner`, as `stam secrets init` writes them),
    /// and `binds` (host path -> path inside).
    ///
    /// With `ownRoot` the container gets a root file system of its own, as an image gives a container: the
    /// host's root as a copy-on-write overlay (writes land in `<directory>/<name>-root/upper`, never on the
    /// host), chrooted into, so a bind can target any path (/etcd-data, /etc/patroni/patroni.yml) without
    /// touching the machine. Inside: /proc and /sys of the host, a minimal /dev as Docker makes it (null,
    /// zero, random, urandom, tty, ptmx and pts, a private shm) plus `devices` (host path -> path inside), a private
    /// /tmp, the bed's directory at its own path (logs and volumes stay on the host), and its own host name
    /// (a UTS namespace, so RabbitMQ's node name is the container's).
    public func container(_ name: String, secrets: [String: String] = [:], secretOwner: String = "10001:10001",
                          binds: [(String, String)] = [], setup: [String] = [], ownRoot: Bool = false,
                          devices: [(String, String)] = []) throws -> Container {
        let ownNetwork = isolatedNetwork != nil ? ["--net"] : []
        let rootDirectory = "\(directory)/\(name)-root"
        let root = "\(rootDirectory)/root"
        var command = ["/bin/sleep", "infinity"]
        if ownRoot {
            // A container starts from its image: last run's writes are gone (volumes are binds and stay).
            try? FileManager.default.removeItem(atPath: rootDirectory)
            for part in ["upper", "work", "root"] {
                try FileManager.default.createDirectory(atPath: "\(rootDirectory)/\(part)", withIntermediateDirectories: true)
            }
            command = ["/bin/sh", "-c", "mount -t overlay overlay -o lowerdir=/,upperdir=\(rootDirectory)/upper,workdir=\(rootDirectory)/work \(root)"
                       + " && hostname \(name) && exec chroot \(root) /bin/sleep infinity"]
        }
        let holder = try LocalProcess(
            name: name, executable: "/usr/bin/nsenter",
            arguments: ["-t", String(network.pid), "-n", "--", "/usr/bin/unshare", "--mount", "--propagation", "private"] + ownNetwork
                + (ownRoot ? ["--uts"] : []) + ["--"] + command,
            logFile: "\(directory)/\(name)-holder.log")
        Self.record(holder, in: directory)
        try Self.waitForNamespace(of: holder.pid, kind: "mnt")
        if let isolatedNetwork {
            guard let index = hostNames.firstIndex(of: name) else {
                throw LocalProcess.LaunchError(description: "container \(name) is not among the bed's host names \(hostNames)")
            }
            try Self.waitForNamespace(of: holder.pid, kind: "net")
            // The container's end is eth0 in its namespace; the bed's end joins the bridge.
            let outer = "veth\(index)"
            try Self.ip(in: network.pid, ["link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", String(holder.pid)])
            try Self.ip(in: network.pid, ["link", "set", outer, "master", "bridge0", "up"])
            try Self.ip(in: holder.pid, ["link", "set", "lo", "up"])
            try Self.ip(in: holder.pid, ["addr", "add", "\(isolatedNetwork.address(ofContainer: index))/24", "dev", "eth0"])
            try Self.ip(in: holder.pid, ["link", "set", "eth0", "up"])
        }
        let secretDirectory = "\(directory)/\(name)-secrets"
        try FileManager.default.createDirectory(atPath: secretDirectory, withIntermediateDirectories: true)
        for (secret, value) in secrets.sorted(by: { $0.key < $1.key }) {
            try value.write(toFile: "\(secretDirectory)/\(secret)", atomically: true, encoding: .utf8)
        }
        // Paths inside the container, as the mount namespace (outside the chroot) sees them.
        let inside = ownRoot ? root : ""
        var script = ["set -e"]
        if ownRoot {
            script += [
                "mount --rbind /proc \(root)/proc",
                "mount --rbind /sys \(root)/sys",
                "mount -t tmpfs -o mode=0755,nosuid tmpfs \(root)/dev",
                "for device in null zero full random urandom tty; do touch \(root)/dev/$device; mount --bind /dev/$device \(root)/dev/$device; done",
                // The host's devpts, so a pty one container opens can be another's device; ptmx must be the
                // link into it (the kernel finds the devpts instance next to the ptmx it was opened through).
                "mkdir -p \(root)/dev/pts \(root)/dev/shm && mount --bind /dev/pts \(root)/dev/pts && ln -s pts/ptmx \(root)/dev/ptmx",
                "mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs \(root)/dev/shm",
                "ln -s /proc/self/fd \(root)/dev/fd && ln -s /proc/self/fd/0 \(root)/dev/stdin",
                "ln -s /proc/self/fd/1 \(root)/dev/stdout && ln -s /proc/self/fd/2 \(root)/dev/stderr",
                "mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs \(root)/tmp",
                "mkdir -p \(root)\(directory) && mount --bind \(directory) \(root)\(directory)",
            ]
            for (source, target) in devices {
                script.append("touch \(inside)\(target) && mount --bind \(source) \(inside)\(target)")
            }
        }
        script += [
            "mount -t tmpfs -o mode=0755 tmpfs \(inside)/run",
            "mkdir -p \(inside)/run/secrets \(inside)/run/postgresql",
            "chown postgres:postgres \(inside)/run/postgresql && chmod 2775 \(inside)/run/postgresql",
            "cp -a \(secretDirectory)/. \(inside)/run/secrets/",
            "chown -R \(secretOwner) \(inside)/run/secrets && chmod 0600 \(inside)/run/secrets/* 2>/dev/null || true",
            "mount --bind \(directory)/hosts \(inside)/etc/hosts",
        ]
        for (source, target) in binds {
            if ownRoot {
                // A bind needs its mount point: a directory for a directory, a file for a file (both only in
                // the overlay's upper layer).
                script.append("if [ -d \(source) ]; then mkdir -p \(inside)\(target); else mkdir -p $(dirname \(inside)\(target)) && touch \(inside)\(target); fi")
            }
            script.append("mount --bind \(source) \(inside)\(target)")
        }
        script += setup
        let container = Container(name: name, holder: holder, root: ownRoot ? root : nil)
        try LocalProcess.run("/usr/bin/nsenter", ["-t", String(holder.pid), "-m", "-n", "--", "/bin/sh", "-c", script.joined(separator: "\n")])
        containers[name] = container
        return container
    }

    /// `nsenter` into a container: its mount and network namespaces, and its root, host name and working
    /// directory when it has a root of its own.
    private func enter(_ container: Container) -> [String] {
        ["-t", String(container.pid), "-m", "-n"] + (container.root != nil ? ["-u", "-r", "-w"] : []) + ["--"]
    }

    /// The `nsenter` command line that runs `command` inside a container, for callers that start and watch
    /// the process themselves.
    public func commandLine(in container: Container, _ command: [String]) -> (executable: String, arguments: [String]) {
        ("/usr/bin/nsenter", enter(container) + command)
    }

    /// Sends `signal` to every process in the container but its holder, as `docker kill` reaches every
    /// process of a container: a server's children (PostgreSQL under Patroni, epmd beside RabbitMQ) go with
    /// it. Returns how many were signalled.
    @discardableResult
    public func kill(container: Container, signal: Int32 = SIGKILL) -> Int {
        guard let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(container.pid)/ns/mnt") else { return 0 }
        var signalled = 0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != container.pid,
                  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")) == namespace else { continue }
            if Foundation.kill(pid, signal) == 0 { signalled += 1 }
        }
        return signalled
    }

    /// A container by name, once created.
    public func container(named name: String) -> Container? { containers[name] }

    /// Runs a command to completion inside a container; throws with its output when it fails.
    @discardableResult
    public func run(in container: Container, _ command: [String], environment: [String: String]? = nil) throws -> String {
        try LocalProcess.run("/usr/bin/nsenter", enter(container) + command, environment: environment)
    }

    /// (exit status, output) of a command inside a container.
    public func status(in container: Container, _ command: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
        try LocalProcess.status("/usr/bin/nsenter", enter(container) + command, environment: environment)
    }

    /// Starts a long-running process inside a container (as root: the entrypoints drop privileges), its
    /// output in `logFile` (default: `<directory>/<name>.log`).
    public func start(_ name: String, in container: Container, _ command: [String], environment: [String: String]? = nil,
                      logFile: String? = nil) throws -> LocalProcess {
        let process = try LocalProcess(name: name, executable: "/usr/bin/nsenter",
                                       arguments: enter(container) + command,
                                       environment: environment, logFile: logFile ?? "\(directory)/\(name).log")
        processes.append(process)
        Self.record(process, in: directory)
        return process
    }

    public func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? ""
    }

    /// Stops the servers (SIGTERM, in reverse start order), then the namespace holders. The host's veth
    /// goes with the bed's network namespace; removed here too, so it is gone when this returns.
    public func stop() {
        for process in processes.reversed() { process.stop(signal: SIGTERM, timeout: .seconds(30)) }
        // What the servers left (daemons, children of a killed parent) goes with its container.
        for container in containers.values { kill(container: container) }
        for container in containers.values { container.holder.stop(signal: SIGKILL, timeout: .seconds(5)) }
        network.stop(signal: SIGKILL, timeout: .seconds(5))
        if let isolatedNetwork { try? Self.ip(in: nil, ["link", "delete", isolatedNetwork.hostInterface]) }
    }

    /// After a crash of a bed's owner (SIGKILL): everything its containers still run (their servers' children
    /// too, which the registry does not list: PostgreSQL under Patroni, epmd), then the registered processes.
    public static func killLeftovers(in directory: String) {
        let registry = "\(directory)/processes"
        let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        if let text = try? String(contentsOfFile: registry, encoding: .utf8) {
            var namespaces: Set<String> = []
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let pid = pid_t(parts[0]), LocalProcess.startTime(of: pid) == String(parts[1]),
                      let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt"),
                      namespace != own else { continue }
                namespaces.insert(namespace)
            }
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry),
                      let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt"),
                      namespaces.contains(namespace) else { continue }
                Foundation.kill(pid, SIGKILL)
            }
        }
        LocalProcess.killRegistered(in: registry)
        try? FileManager.default.removeItem(atPath: registry)
    }

    private static let registryLock = NSLock()

    /// Notes a started process in the bed's `processes` registry (PID and start time, `LocalProcess`'s
    /// format), so whoever finds the bed's owner dead can kill what it left (`LocalProcess.killRegistered`).
    private static func record(_ process: LocalProcess, in directory: String) {
        registryLock.withLock {
            let file = "\(directory)/processes"
            if let handle = FileHandle(forWritingAtPath: file) {
                handle.seekToEndOfFile()
                handle.write(Data(process.registryLine.utf8))
                handle.closeFile()
            } else {
                try? process.registryLine.write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
    }

    /// `unshare` execs its command once the namespace exists; wait until the PID shows the new namespace.
    private static func waitForNamespace(of pid: Int32, kind: String) throws {
        let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(kind)")
        for _ in 0..<200 {
            if let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)"),
               namespace != own,
               (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("sleep") == true {
                return
            }
            usleep(20_000)
        }
        throw LocalProcess.LaunchError(description: "namespace holder \(pid) did not start")
    }
}
