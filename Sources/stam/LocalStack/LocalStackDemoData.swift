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
                     pollInterval: Int, panelMode: PanelMode = .auto, logger: Logger) async throws -> (panelIDs: [UUID], adminPassword: String?) {
        let client = database.makeClient(backgroundLogger: logger)
        let secrets = try SecretBox(keyFile: "\(paths.secrets)/encryption_key")
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let demo = LocalStackDemoData(client: client, secrets: secrets, logger: logger)
            let password = try await demo.ensureAdmin(passwordFile: paths.adminPassword)
            let panels = try await demo.ensurePanels(count: panelCount, host: host, firstPort: firstPort, pollInterval: pollInterval, mode: panelMode)
            try await demo.ensureSmsPattern()
            try await demo.ensureHandlingData(panels: panels)
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
    func ensurePanels(count: Int, host: String = "127.0.0.1", firstPort: Int, pollInterval: Int, mode: PanelMode = .auto) async throws -> [UUID] {
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
                    id: panel.id, set: [.host(host), .port(port), .enabled(true), .pollIntervalMs(pollInterval), .mode(mode)])
                ids.append(panel.id)
            } else {
                ids.append(try await repositories.panels.insert(Panel(
                    siteId: siteID, name: name, host: host, port: port,
                    userCode: Secret(Self.panelUserCode), pollIntervalMs: pollInterval, mode: mode)).id)
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

    /// What an operator handles an alarm with (the README's walkthrough): default action plans of the urgent classes,
    /// quick notes, the demo site's contacts (with code words), call lists and a standing comment, and the names of
    /// the first panel's partition 1 and zone 3. Each part only when there is none yet.
    func ensureHandlingData(panels: [UUID]) async throws {
        if try await repositories.actionPlanSteps.all().isEmpty {
            let plans: [(AlarmPriority, [(ActionStepKind, String, Bool)])] = [
                (.fire, [(.callFireBrigade, "Call the fire brigade (112) and give the address", true),
                         (.callContacts, "Call the site's contacts in order", true),
                         (.instruction, "Note who was reached and what they said", false)]),
                (.holdUp, [(.callPolice, "Call the police (112): a person may be in danger; do not call the site", true),
                           (.callContacts, "Once the police are there, call the contacts", true)]),
                (.burglary, [(.callContacts, "Call the keyholders in order; ask for the code word", true),
                             (.callGuardService, "Send the guard patrol", true),
                             (.waitForRestore, "Watch for the zone's restore", false)]),
                (.trouble, [(.callContacts, "Tell the site's contact", true)]),
            ]
            for (priority, steps) in plans {
                for (index, step) in steps.enumerated() {
                    _ = try await repositories.actionPlanSteps.insert(ActionPlanStep(
                        priority: priority, position: index + 1, kind: step.0, instruction: step.1, required: step.2))
                }
            }
        }
        if try await repositories.quickNotes.all().isEmpty {
            for (index, text) in ["Owner informed", "False alarm confirmed by the keyholder", "Patrol dispatched",
                                  "No answer; message left"].enumerated() {
                _ = try await repositories.quickNotes.insert(QuickNote(text: text, position: index + 1))
            }
        }
        guard let site = try await repositories.sites.find(code: Self.siteCode) else { return }
        if try await repositories.contacts.all(filter: .init(siteId: site.id)).isEmpty {
            let owner = try await repositories.contacts.insert(Contact(
                siteId: site.id, name: "Jan Kowalski", phone: "+48 600 100 201", role: .owner, codeWord: Secret("rogal"),
                availability: "always"))
            let keyholder = try await repositories.contacts.insert(Contact(
                siteId: site.id, name: "Anna Nowak", phone: "+48 600 100 202", role: .keyholder, codeWord: Secret("kasztan"),
                availability: "Mon-Fri 7-22"))
            _ = try await repositories.callListEntries.insert(CallListEntry(siteId: site.id, contactId: keyholder.id, priority: .burglary, position: 1))
            _ = try await repositories.callListEntries.insert(CallListEntry(siteId: site.id, contactId: owner.id, priority: .burglary, position: 2))
            _ = try await repositories.callListEntries.insert(CallListEntry(siteId: site.id, contactId: owner.id, position: 1))
            _ = try await repositories.siteComments.insert(SiteComment(siteId: site.id, body: "Dog in the warehouse at night; the owner has the key."))
        }
        if let first = panels.first {
            _ = try await repositories.partitions.insertIfAbsent(
                Partition(panelId: first, number: 1, name: "Partition 1", description: "Warehouse"), onConflict: .panelIdAndNumber)
            _ = try await repositories.zones.insertIfAbsent(
                Zone(panelId: first, number: 3, name: "Zone 3", description: "Back door"), onConflict: .panelIdAndNumber)
        }
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
