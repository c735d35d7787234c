import Foundation

/// What a running local stack is: written to `.stam/stack.json` once everything is ready (scripts and the
/// end-to-end tests read it) and printed as the banner.
struct StackSummary: Codable, Sendable {
    var environment: String
    var root: String
    var logs: String
    var api: String
    var console: String
    var webSocket: String
    var databaseURL: String
    var redisURL: String
    var rabbitmqURL: String
    var adminLogin: String
    var adminPasswordFile: String
    var panelIDs: [String]
    var simulatorControlPort: Int
    /// Where the control port is (prod: the simulator's container); nil = 127.0.0.1.
    var simulatorControlHost: String? = nil
    var modemControl: String
    /// The CA or self-signed certificate clients must trust (prod: nginx's TLS).
    var certificate: String? = nil
    /// Process name -> PID (updated when one is restarted).
    var processes: [String: Int]
    /// Process -> the URL of its Prometheus page (dev: on loopback; prod: Prometheus scrapes them in their network).
    var metrics: [String: String]? = nil
    /// Service -> its container's address on the stack's internal network (prod).
    var addresses: [String: String]? = nil
    /// The DC-09 receivers' addresses as communicators are given them, `127.0.0.1:7200` (TCP and UDP).
    var dc09Receivers: [String]? = nil
    /// The compose project of the prod stack (`docker-compose -p <name>`); its containers are `<name>_<service>_1`.
    var composeProject: String? = nil

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(from path: String) throws -> StackSummary {
        try JSONDecoder().decode(StackSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func updating(process: String, pid: Int) -> StackSummary {
        var copy = self
        copy.processes[process] = pid
        return copy
    }

    private var tlsLine: String {
        guard let certificate, let url = URL(string: api), let host = url.host else { return "" }
        let port = url.port ?? 443
        return "\n  TLS         self-signed for stam.local: curl --cacert \(certificate) --resolve stam.local:\(port):\(host) https://stam.local:\(port)/healthz"
    }

    private var dc09Line: String {
        guard let first = dc09Receivers?.first, let colon = first.lastIndex(of: ":") else { return "" }
        let (host, port) = (first[..<colon], first[first.index(after: colon)...])
        return "\n  DC-09       \(dc09Receivers!.joined(separator: ", ")) (TCP and UDP); add an account (POST /api/dc09-accounts), then: stam dc09-send --host \(host) --port \(port) --account <it> --contact-id '1130 01 005'"
    }

    func banner(adminPassword: String?, startedIn: Duration) -> String {
        let password = adminPassword.map { "password \($0)  (also in \(adminPasswordFile))" }
            ?? "password: see \(adminPasswordFile) (or the one you set)"
        return """

            stam \(environment) is up (\(startedIn.components.seconds) s)
              console     \(console)
              API         \(api)  (OpenAPI at \(api)/openapi.json)
              WebSocket   \(webSocket)
              log in as   \(adminLogin), \(password)
              PostgreSQL  \(databaseURL)
              Redis       \(redisURL)
              RabbitMQ    \(rabbitmqURL)
              panels      \(panelIDs.count) simulated; control: printf '{ panel: 1, action: violate-zone, zone: 3 }\\n' | nc -q1 \(simulatorControlHost ?? "127.0.0.1") \(simulatorControlPort)
              SMS         echo 'sms +48600100200 ALARM test' > \(modemControl)\(dc09Line)
              logs        \(logs)/\(tlsLine)
              state       \(root)/stack.json, env for a shell: source \(root)/env
            Ctrl-C or `stam down` stops everything.

            """
    }
}
