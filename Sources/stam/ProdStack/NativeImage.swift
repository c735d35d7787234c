import Foundation

/// What an image of the compose file stands for on this machine: Debian's packages and the project's own
/// files in place of the image's contents. The image's entrypoint, default command, user and PATH are
/// those of the real image (its Dockerfile, or the official image's documentation), so the compose
/// service's `entrypoint`/`command` run unchanged.
struct NativeImage {
    var entrypoint: [String] = []
    var command: [String] = []
    /// The image's `USER` (uid:gid); nil = root, as the official images start (they drop privileges themselves).
    var user: String?
    var path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Files the image adds: path inside the container -> host file (bound read-only in practice).
    var files: [String: String] = [:]
    /// Files the image adds whose content is written here: path inside -> text (executable).
    var scripts: [String: String] = [:]
    /// Directories the image creates: path -> owner (user:group).
    var directories: [String: String] = [:]
    /// Host directories the image contains: path inside -> host directory (the container's /tmp is its own, so
    /// nothing under the host's /tmp, where a checkout may live, is visible otherwise).
    var directoryBinds: [String: String] = [:]

    /// Where PyPI Patroni (`.tools/python`) appears inside the Patroni containers.
    static let pythonDirectory = "/usr/local/lib/stam-python"

    struct UnknownImage: Error, CustomStringConvertible {
        var image: String
        var description: String { "no native stand-in for image \(image) (known: stam images, stam-patroni, stam-pgbouncer, nginx, etcd, redis, rabbitmq)" }
    }

    /// - Parameters:
    ///   - stam: this stam binary (the stam images' /usr/local/bin/stam).
    ///   - generated: `deploy/generated`, where the images' scripts come from.
    ///   - pythonPath: PyPI Patroni's install (`.tools/python`).
    static func standIn(for image: String, stam: String, generated: String, pythonPath: String) throws -> NativeImage {
        let name = image.split(separator: "/").last.map { String($0.split(separator: ":").first ?? $0) } ?? image
        switch name {
        case "stam-replacer-backend", "stam-satel-worker", "stam-sms-agent":
            // backend.Dockerfile and its twins: USER 10001, /var/lib/stam (and media, sms) owned by it; a named volume
            // mounted there takes that owner, as Docker gives an empty volume the image directory's.
            return NativeImage(user: "10001:10001", files: ["/usr/local/bin/stam": stam],
                               directories: ["/var/lib/stam": "10001:10001", "/var/lib/stam/media": "10001:10001",
                                             "/var/lib/stam/sms": "10001:10001"])
        case "stam-patroni":
            // FROM postgres:15-bookworm (PostgreSQL's bin directory on PATH), the generated scripts, and
            // Patroni, here from PyPI (>= 3.0.3) instead of the image's pip install.
            return NativeImage(
                entrypoint: ["/usr/local/bin/stam-patroni-entrypoint"], command: ["patroni", "/etc/patroni/patroni.yml"],
                path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/15/bin",
                files: [
                    "/usr/local/bin/stam-patroni-entrypoint": "\(generated)/patroni/entrypoint.sh",
                    "/usr/local/bin/stam-post-bootstrap": "\(generated)/patroni/post-bootstrap.sh",
                    "/usr/local/bin/stam-pgbouncer-follow-primary": "\(generated)/patroni/pgbouncer-follow-primary.sh",
                ],
                scripts: [
                    "/usr/local/bin/patroni": "#!/bin/sh\nPYTHONPATH=\(Self.pythonDirectory) PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 -m patroni \"$@\"\n",
                    "/usr/local/bin/patronictl": "#!/bin/sh\nPYTHONPATH=\(Self.pythonDirectory) PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 -c 'from patroni.ctl import ctl; ctl()' \"$@\"\n",
                ],
                directoryBinds: [Self.pythonDirectory: pythonPath])
        case "stam-pgbouncer":
            return NativeImage(entrypoint: ["/usr/local/bin/stam-pgbouncer-entrypoint"], command: ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"],
                               files: ["/usr/local/bin/stam-pgbouncer-entrypoint": "\(generated)/pgbouncer/entrypoint.sh"])
        case "nginx":
            return NativeImage(command: ["nginx", "-g", "daemon off;"])
        case "etcd":
            return NativeImage(command: ["etcd"])
        case "redis":
            // The official image's docker-entrypoint.sh: the data directory to redis, then redis-server as redis.
            return NativeImage(command: ["redis-server"], scripts: ["/usr/local/bin/docker-entrypoint.sh": """
                #!/bin/sh
                set -e
                if [ "$(id -u)" = 0 ]; then
                    find /data \\! -user redis -exec chown redis:redis '{}' +
                    exec setpriv --reuid=redis --regid=redis --init-groups -- "$@"
                fi
                exec "$@"

                """], directories: ["/data": "redis:redis"])
        case "rabbitmq":
            // The official image's docker-entrypoint.sh: its data to rabbitmq, then the server as rabbitmq
            // (Debian's rabbitmq-server wrapper would switch users itself; the image's never runs as root).
            return NativeImage(command: ["rabbitmq-server"], scripts: ["/usr/local/bin/docker-entrypoint.sh": """
                #!/bin/sh
                set -e
                if [ "$(id -u)" = 0 ]; then
                    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
                    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- env HOME=/var/lib/rabbitmq "$@"
                fi
                exec "$@"

                """])
        default:
            throw UnknownImage(image: image)
        }
    }
}
