import APISupport
import Foundation
import Generated
import DevStack
import StamCore
import Testing
import TestSupport

/// The contract fuzzer against the backend as `stam backend` wires it (OperatorAccessTests' harness: the real
/// router and sessions on a real port, over a migrated PostgreSQL): schemathesis 4 reads `/openapi.json` and runs
/// every check (status codes, content types, headers, response schemas, positive and negative data, missing
/// headers, undeclared methods, auth, use-after-free, resource availability) through its coverage, fuzzing and
/// stateful phases. Any difference between what the document promises and what the server does fails the test,
/// with schemathesis's report. Settings that only the server can know are in `api/schemathesis.toml`, each with
/// its reason.
///
/// The seed is fixed so CI runs the same cases each time (STAM_SCHEMATHESIS_SEED picks others;
/// STAM_SCHEMATHESIS_EXAMPLES more of them).
@Suite(.postgres, .integration, .tags(.integration)) struct ContractFuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Operations that end the very session the fuzzer's token belongs to (logout; a password set for, or a
    /// revocation of, its own operator, which the stateful phase finds through the operator and session lists).
    /// They get runs of their own, after the rest, each with a fresh login.
    static let selfEnding = "(/api/auth/logout|/set-password|/revoke)$"

    @Test func theServerDoesWhatItsOpenAPIDocumentSays() async throws {
        try LocalProcessRunner.installPythonTools(root: Self.root)
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["STAM_SCHEMATHESIS_SEED"] ?? "20261205"
        let examples = environment["STAM_SCHEMATHESIS_EXAMPLES"] ?? "20"
        try await OperatorAccessTests().withBackend(reports: true) { _, harness in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stam-contract-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            var runs = 0
            func fuzz(_ selection: [String], phases: String) async throws -> (status: Int32, report: String) {
                // A fresh admin for each run: schemathesis harvests ids from the lists (the operators' included) and
                // may rename its operator or, in the run of set-password, change its password.
                runs += 1
                let login = "fuzz\(runs)"
                _ = try await harness.repositories.operators.insert(Operator(login: login, displayName: "Contract fuzzer \(runs)",
                                                                            passwordHash: Secret(try await PasswordHasher.hash(OperatorAccessTests.password)),
                                                                            role: .admin))
                // A connection of its own for each login: the test client's one kept-alive connection is closed by the
                // backend's idle timeout (120 s) while a run goes on, and a loaded machine makes a run that long.
                let token = try await Self.login(port: harness.port, login: login, directory: directory)
                let arguments = ["--config-file", "\(Self.root)/api/schemathesis.toml", "run", "http://127.0.0.1:\(harness.port)/openapi.json",
                                 "--checks", "all", "--phases", phases, "--max-examples", examples, "--seed", seed,
                                 "--header", "Authorization: Bearer \(token)", "--no-color", "--request-timeout", "30"] + selection
                return try await LocalProcessRunner.run("/usr/bin/python3", ["\(Self.root)/.tools/schemathesis/bin/st"] + arguments,
                                                        environment: ["PYTHONPATH": "\(Self.root)/.tools/schemathesis", "PYTHONDONTWRITEBYTECODE": "1"],
                                                        directory: directory)
            }

            let main = try await fuzz(["--exclude-path-regex", Self.selfEnding], phases: "examples,coverage,fuzzing,stateful")
            #expect(main.status == 0, "schemathesis (all but the session-ending operations):\n\(Self.failures(in: main.report))")
            let operations = try Self.operationCount()
            #expect(main.report.contains("Tested: \(operations - 3)"), "the run tested every operation but the three:\n\(Self.failures(in: main.report))")
            // Stateless phases only: with the stateful one, set-password and revoke would find the fuzzer's own operator
            // and session and end the token midway. Random ids still reach each route's 404 and 422 paths.
            let ending = try await fuzz(["--include-path-regex", "(/set-password|/revoke)$"], phases: "examples,coverage,fuzzing")
            #expect(ending.status == 0, "schemathesis (set-password, revoke):\n\(Self.failures(in: ending.report))")
            let logout = try await fuzz(["--include-path", "/api/auth/logout"], phases: "examples,coverage,fuzzing")
            #expect(logout.status == 0, "schemathesis (logout):\n\(Self.failures(in: logout.report))")
        }
    }

    /// The operations of Sources/GeneratedAPI/openapi.json.
    static func operationCount() throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(root)/Sources/GeneratedAPI/openapi.json"))
        let paths = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "options", "head", "trace"]
        return paths.values.map { $0.keys.filter(methods.contains).count }.reduce(0, +)
    }

    /// schemathesis's report from its failures on (its summary when there are none), bounded for a test message.
    static func failures(in report: String) -> String {
        let start = report.range(of: "FAILURES")?.lowerBound ?? report.range(of: "SUMMARY")?.lowerBound ?? report.startIndex
        return String(report[start...].prefix(12_000))
    }
}

/// Child processes for the contract fuzzer, off the cooperative pool: the backend under test serves from the same
/// process, and a blocked pool thread is one of two on this machine.
enum LocalProcessRunner {
    static let installLock = NSLock()

    static func installPythonTools(root: String) throws {
        try installLock.withLock {
            let (status, output) = try run(blocking: "\(root)/scripts/install-python-tools.sh", [], environment: [:], directory: URL(fileURLWithPath: root))
            guard status == 0 else { throw InstallError(description: "scripts/install-python-tools.sh failed (exit \(status)):\n\(output)") }
        }
    }

    struct InstallError: Error, CustomStringConvertible { var description: String }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String], directory: URL) async throws -> (status: Int32, report: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(blocking: executable, arguments, environment: environment, directory: directory) })
            }.start()
        }
    }

    private static func run(blocking executable: String, _ arguments: [String], environment: [String: String], directory: URL) throws -> (status: Int32, report: String) {
        let (status, output) = try LocalProcess.status(executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                                                       directory: directory.path)
        return (status, output)
    }
}

extension ContractFuzzTests {
    /// The fuzzer's token, from a login over a new connection (curl).
    static func login(port: Int, login: String, directory: URL) async throws -> String {
        let body = #"{"login":"\#(login)","password":"\#(OperatorAccessTests.password)"}"#
        let answer = try await LocalProcessRunner.run("/usr/bin/curl", ["-s", "-X", "POST", "-H", "Content-Type: application/json",
                                                                        "-H", "X-Real-IP: 198.51.100.20", "--data", body,
                                                                        "http://127.0.0.1:\(port)/api/auth/login"],
                                                      environment: [:], directory: directory)
        let object = try JSONSerialization.jsonObject(with: Data(answer.report.utf8)) as? [String: Any]
        return try #require(object?["access_token"] as? String, "login \(login): \(answer.report)")
    }
}
