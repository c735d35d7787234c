import Foundation
import HummingbirdWSClient
import DevStack
import Logging
import StamCore
import Synchronization

/// Debian's `chromium`, headless, driven over the DevTools protocol: the browser's own WebSocket endpoint
/// on loopback, one page attached in flat mode (every page command carries the session id). No WebDriver,
/// no Node: the protocol is JSON over a WebSocket, and the test already has a WebSocket client.
public final class HeadlessChromium: Sendable {
    public static let executable = "/usr/bin/chromium"

    public let process: LocalProcess
    public let profile: String
    public let endpoint: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Starts the browser with a private profile under `directory`; its PID goes to `registry`, so a test
    /// run that crashes leaves nothing behind (`RunDirectory.reapDeadRuns` kills what it lists). `extraArguments`: more
    /// switches (a host name mapped to a container's address, say).
    public static func launch(directory: String, registry: String, width: Int, height: Int,
                              extraArguments: [String] = []) async throws -> HeadlessChromium {
        let profile = "\(directory)/profile"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        var arguments = [
            "--headless=new", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            "--user-data-dir=\(profile)", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-background-networking", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
            "--window-size=\(width),\(height)",
            // Chromium refuses DevTools connections that send an Origin it was not told to allow, and the
            // WebSocket client sends its own URL's (`ws://127.0.0.1`).
            "--remote-allow-origins=ws://127.0.0.1",
        ] + extraArguments + ["about:blank"]
        // Chromium refuses to run as root with its sandbox (which needs an unprivileged user for its
        // namespaces); the test machines run tests as root. It only opens our own loopback page.
        if getuid() == 0 { arguments.insert("--no-sandbox", at: 0) }
        // `LocalProcess` (posix_spawn) passes every open descriptor on, and sockets from NIO, PostgresNIO,
        // hiredis and rabbitmq-c are not close-on-exec: the browser would hold the backend's listening
        // socket, so a backend started again on that port could not bind it, and connections would queue on
        // a socket nobody accepts from. Python closes them and then becomes the browser (same PID).
        let closeDescriptors = "import os, sys; os.closerange(3, os.sysconf('SC_OPEN_MAX')); os.execv(sys.argv[1], sys.argv[1:])"
        let process = try LocalProcess(name: "chromium", executable: "/usr/bin/python3",
                                       arguments: ["-c", closeDescriptors, executable] + arguments,
                                       logFile: "\(directory)/chromium.log")
        let line = process.registryLine
        if let handle = FileHandle(forWritingAtPath: registry) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try handle.close()
        } else {
            try line.write(toFile: registry, atomically: true, encoding: .utf8)
        }
        // The browser writes its port and the browser target's path here once it listens.
        let portFile = "\(profile)/DevToolsActivePort"
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8) {
                let lines = text.split(separator: "\n")
                if lines.count >= 2, let port = Int(lines[0]) {
                    return HeadlessChromium(process: process, profile: profile, endpoint: "ws://127.0.0.1:\(port)\(lines[1])")
                }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOfFile: "\(directory)/chromium.log", encoding: .utf8)) ?? ""
        stop(process)
        throw Failure(description: "chromium did not open its DevTools port:\n\(log.suffix(3000))")
    }

    private init(process: LocalProcess, profile: String, endpoint: String) {
        self.process = process
        self.profile = profile
        self.endpoint = endpoint
    }

    /// Stops the browser by its PID, then kills what is left of its process group (renderer, GPU and
    /// utility processes it started; `LocalProcess` gave it a group of its own).
    public func stop() {
        Self.stop(process)
    }

    private static func stop(_ process: LocalProcess) {
        process.stop(signal: SIGTERM, timeout: .seconds(10))
        kill(-process.pid, SIGKILL)
    }

    /// Opens a new page and runs `body` with it; what `body` returns comes back out.
    public func withPage<Result: Sendable>(_ body: @escaping @Sendable (DevToolsPage) async throws -> Result) async throws -> Result {
        let outcome = Outcome<Result>()
        // Screenshots come back as one large base64 message.
        let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 26)
        try await WebSocketClient.connect(url: endpoint, configuration: configuration, logger: Logger(label: "test.chromium")) { inbound, outbound, _ in
            let result: Swift.Result<Result, any Error>
            do {
                let page = DevToolsPage(outbound: outbound, messages: inbound.messages(maxSize: 1 << 26).makeAsyncIterator())
                try await page.open()
                result = .success(try await body(page))
            } catch {
                result = .failure(error)
            }
            outcome.value.withLock { $0 = result }
            try await outbound.close(.normalClosure, reason: nil)
        }
        guard let result = outcome.value.withLock({ $0 }) else { throw Failure(description: "the DevTools connection ended early") }
        return try result.get()
    }
}

/// What the page's body returned or threw, carried out of the WebSocket handler.
private final class Outcome<Value: Sendable>: Sendable {
    let value = Mutex<Swift.Result<Value, any Error>?>(nil)
}
