import APISupport
import Database
import Foundation
import Generated
import Logging
import Persistence
import StamCore
import PostgresNIO

/// What a new local stack needs in its database to be useful at once: an admin to log in with, a demo
/// site whose contact phone the simulated modem's SMS come from, the simulated panels (re-pointed at the
/// simulator's ports on every run) and an SMS alarm pattern. Idempotent: a second run changes only what moved.
struct LocalStackDemoData {
    static let siteCode = "DEMO"
    static let sitePhone = "+48 600 100 200"
    /// The simulator's default user (INTEGRA 128 scenario defaults: user 1, code 1234, all partitions).
    static let panelUserCode = "1234"
    static let adminLogin = "admin"

    let client: PostgresClient
    let secrets: SecretBox
    let logger: Logger

    /// What `stam up` registers (dev and prod alike): the admin (its password when it was created now), the
    /// demo site with `panelCount` panels on `host` from `firstPort` up, the SMS alarm pattern.
    static func seed(database: DatabaseConfiguration, paths: LocalStackPaths, panelCount: Int, host: String, firstPort: Int,
                     pollInterval: Int, logger: Logger) async throws -> (panelIDs: [UUID], adminPassword: String?) {
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let secrets = try SecretBox(keyFile: "\(paths.secrets)/encryption_key")
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let demo = LocalStackDemoData(client: client, secrets: secrets, logger: logger)
            let password = try await demo.ensureAdmin(passwordFile: paths.adminPassword)
            let panels = try await demo.ensurePanels(count: panelCount, host: host, firstPort: firstPort, pollInterval: pollInterval)
            try await demo.ensureSmsPattern()
            return (panels, password)
        }
    }

    var repositories: Repositories { Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger)) }

    /// Creates the admin on first run (random password written to `passwordFile`, mode 0600) and returns the
    /// password; later runs read it back. An admin created by hand, without the file, is left alone (nil).
    func ensureAdmin(passwordFile: String) async throws -> String? {
        if try await repositories.operators.find(login: Self.adminLogin) != nil { return try? String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        let password = Self.randomPassword()
        let hash = try await PasswordHasher.hash(password)
        _ = try await repositories.operators.insert(
            Operator(login: Self.adminLogin, displayName: "Administrator", passwordHash: Secret(hash), role: .admin))
        guard FileManager.default.createFile(atPath: passwordFile, contents: Data((password + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: passwordFile])
        }
        return password
    }

    /// The demo site and `count` panels on `host` (the simulator's) from `firstPort` up; returns the panel
    /// ids in order.
    func ensurePanels(count: Int, host: String = "127.0.0.1", firstPort: Int, pollInterval: Int) async throws -> [UUID] {
        let siteID: UUID
        if let existing = try await repositories.sites.find(code: Self.siteCode) {
            siteID = existing.id
        } else {
            siteID = try await repositories.sites.insert(Site(
                code: Self.siteCode, name: "Demo site (simulated panels)", address: "ul. Testowa 1, Warszawa",
                contactName: "Demo contact", contactPhone: Self.sitePhone)).id
        }
        let existing = try await repositories.panels.all(filter: .init(siteId: siteID))
        var ids: [UUID] = []
        for index in 0..<count {
            let name = "Demo panel \(index + 1)"
            let port = firstPort + index
            if let panel = existing.first(where: { $0.name == name }) {
                try await repositories.panels.update(
                    id: panel.id, set: [.host(host), .port(port), .enabled(true), .pollIntervalMs(pollInterval)])
                ids.append(panel.id)
            } else {
                ids.append(try await repositories.panels.insert(Panel(
                    siteId: siteID, name: name, host: host, port: port,
                    userCode: Secret(Self.panelUserCode), pollIntervalMs: pollInterval)).id)
            }
        }
        // Panels of an earlier run with more panels than now would stay "disconnected" forever: disable them.
        for panel in existing where !ids.contains(panel.id) {
            try await repositories.panels.update(id: panel.id, set: [.enabled(false)])
        }
        return ids
    }

    /// An SMS containing "ALARM" raises an alarm (the modem simulator's demo message does).
    func ensureSmsPattern() async throws {
        if try await repositories.smsAlarmPatterns.all().isEmpty {
            _ = try await repositories.smsAlarmPatterns.insert(SmsAlarmPattern(
                pattern: "\\balarm\\b", kind: .sms, priority: .burglary, title: "SMS alarm from the site"))
        }
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
