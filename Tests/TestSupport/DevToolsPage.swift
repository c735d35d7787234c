import Foundation
import HummingbirdWSClient
import StamCore

/// One page over the DevTools protocol: commands in order, each waiting for its answer; the events that
/// arrive meanwhile are scanned for uncaught exceptions, console errors and refused loads (a Content
/// Security Policy violation is one), which the test then expects to be none.
public final class DevToolsPage {
    private let outbound: WebSocketOutboundWriter
    private var messages: WebSocketInboundMessageStream.AsyncIterator
    private var nextId = 0
    private var sessionId: String?
    public private(set) var problems: [String] = []

    init(outbound: WebSocketOutboundWriter, messages: WebSocketInboundMessageStream.AsyncIterator) {
        self.outbound = outbound
        self.messages = messages
    }

    public func open() async throws {
        let target = try await call("Target.createTarget", ["url": .string("about:blank")], onPage: false)
        guard case .string(let targetId)? = target["targetId"] else { throw HeadlessChromium.Failure(description: "no target id in \(target)") }
        let attached = try await call("Target.attachToTarget", ["targetId": .string(targetId), "flatten": .bool(true)], onPage: false)
        guard case .string(let session)? = attached["sessionId"] else { throw HeadlessChromium.Failure(description: "no session in \(attached)") }
        sessionId = session
        for domain in ["Page", "Runtime", "Log"] { _ = try await call("\(domain).enable") }
        // Keyboard focus as in a visible window, although no window has it.
        _ = try await call("Emulation.setFocusEmulationEnabled", ["enabled": .bool(true)])
    }

    /// Sends a command and waits for its answer (`result`), or throws its `error`.
    @discardableResult
    public func call(_ method: String, _ parameters: [String: JSONValue] = [:], onPage: Bool = true) async throws -> [String: JSONValue] {
        nextId += 1
        let id = nextId
        var message: [String: JSONValue] = ["id": .number(Double(id)), "method": .string(method), "params": .object(parameters)]
        if onPage, let sessionId { message["sessionId"] = .string(sessionId) }
        try await outbound.write(.text(String(decoding: try JSONEncoder().encode(JSONValue.object(message)), as: UTF8.self)))
        while let frame = try await messages.next() {
            guard case .text(let text) = frame,
                  case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { continue }
            guard fields["id"] == .number(Double(id)) else {
                note(fields)
                continue
            }
            if let error = fields["error"] { throw HeadlessChromium.Failure(description: "\(method) failed: \(error)") }
            if case .object(let result)? = fields["result"] { return result }
            return [:]
        }
        throw HeadlessChromium.Failure(description: "DevTools closed the connection during \(method)")
    }

    private func note(_ event: [String: JSONValue]) {
        guard case .string(let method)? = event["method"], case .object(let parameters)? = event["params"] else { return }
        switch method {
        case "Runtime.exceptionThrown":
            problems.append("exception: \(parameters["exceptionDetails"].map(Self.describe) ?? "?")")
        case "Runtime.consoleAPICalled" where parameters["type"] == .string("error") || parameters["type"] == .string("assert"):
            problems.append("console: \(parameters["args"].map(Self.describe) ?? "?")")
        case "Log.entryAdded":
            if case .object(let entry)? = parameters["entry"], entry["level"] == .string("error") {
                problems.append("log: \(entry["text"].map(Self.describe) ?? "?")")
            }
        default:
            break
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "\(value)"
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    @discardableResult
    public func evaluate(_ expression: String) async throws -> JSONValue {
        let answer = try await call("Runtime.evaluate", [
            "expression": .string(expression), "returnByValue": .bool(true), "awaitPromise": .bool(true),
        ])
        if let exception = answer["exceptionDetails"] {
            throw HeadlessChromium.Failure(description: "\(expression) threw \(Self.describe(exception))")
        }
        guard case .object(let result)? = answer["result"] else { return .null }
        return result["value"] ?? .null
    }

    /// Waits until `condition` (a JavaScript expression) is true in the page, checking every 100 ms. The
    /// deadline only ends a wait that would never end; it asserts nothing about how fast the page is.
    public func waitFor(_ condition: String, _ what: String, within limit: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            // A navigation can replace the context between two checks: that check just failed.
            if (try? await evaluate("Boolean(\(condition))")) == .bool(true) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let page = (try? await evaluate("document.body ? document.body.innerText : ''")) ?? .null
        throw HeadlessChromium.Failure(description: "never saw \(what); the page shows: \(page); problems: \(problems)")
    }

    public func navigate(_ url: String) async throws {
        try await call("Page.navigate", ["url": .string(url)])
    }

    /// Types text into the focused element, as an input method would.
    public func type(_ text: String) async throws {
        try await call("Input.insertText", ["text": .string(text)])
    }

    public func pressEnter() async throws {
        for type in ["keyDown", "keyUp"] {
            var parameters: [String: JSONValue] = [
                "type": .string(type), "key": .string("Enter"), "code": .string("Enter"),
                "windowsVirtualKeyCode": .number(13), "nativeVirtualKeyCode": .number(13),
            ]
            if type == "keyDown" { parameters["text"] = .string("\r") }
            try await call("Input.dispatchKeyEvent", parameters)
        }
    }

    public func setViewport(width: Int, height: Int) async throws {
        try await call("Emulation.setDeviceMetricsOverride", [
            "width": .number(Double(width)), "height": .number(Double(height)), "deviceScaleFactor": .number(1), "mobile": .bool(false),
        ])
    }

    /// A PNG of the viewport.
    public func screenshot() async throws -> Data {
        let answer = try await call("Page.captureScreenshot", ["format": .string("png")])
        guard case .string(let base64)? = answer["data"], let data = Data(base64Encoded: base64) else {
            throw HeadlessChromium.Failure(description: "no screenshot data")
        }
        return data
    }

    /// A JavaScript string literal of `text`.
    public static func jsString(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    public struct NotAPNG: Error {}

    /// Width and height from the IHDR chunk, after checking the signature.
    public static func pngSize(_ data: Data) throws -> (width: Int, height: Int) {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              bytes[12..<16] == Array("IHDR".utf8)[...] else { throw NotAPNG() }
        func int(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (int(16), int(20))
    }
}
