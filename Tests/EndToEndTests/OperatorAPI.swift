import Foundation
import DevStack

/// The operator API from outside, as a script or the console would use it: curl over loopback, JSON in and out.
struct OperatorAPI {
    struct Answer {
        var status: Int
        var json: Any?

        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
    }

    let base: String
    var token: String?
    /// More curl options (prod: `--cacert` for nginx's self-signed certificate, `--resolve` for its name).
    var curlOptions: [String] = []
    /// Run curl inside this container (`podman exec`): a client with an address of its own on the stack's network.
    var container: String?

    /// `headers`: more request headers, as `Name: value` (`If-Match: *` for a PATCH).
    func call(_ method: String, _ path: String, body: String? = nil, requestID: String? = nil, headers: [String] = []) throws -> Answer {
        var arguments = curlOptions + ["-s", "-X", method, "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "\(base)\(path)"]
        for header in headers { arguments += ["-H", header] }
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let requestID { arguments += ["-H", "X-Request-ID: \(requestID)"] }
        if let body { arguments += ["--data", body] }
        let output = try curl(arguments)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        return Answer(status: status, json: try? JSONSerialization.jsonObject(with: Data(text.utf8)))
    }

    /// One header of a GET's answer (curl `-D`), nil when absent.
    func header(_ name: String, of path: String) throws -> String? {
        var arguments = curlOptions + ["-s", "-o", "/dev/null", "-D", "-", "\(base)\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let output = try curl(arguments)
        return output.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }.first
    }

    /// curl here, or inside `container`.
    private func curl(_ arguments: [String]) throws -> String {
        try container.map { try LocalProcess.run("/usr/bin/podman", ["exec", $0, "curl"] + arguments) }
            ?? LocalProcess.run("/usr/bin/curl", arguments)
    }

    mutating func login(_ login: String, password: String) throws {
        let answer = try call("POST", "/api/auth/login", body: #"{"login":"\#(login)","password":"\#(password)"}"#)
        guard answer.status == 200, let token = answer.object["access_token"] as? String else {
            throw EndToEndFailure(description: "login failed: \(answer.status) \(String(describing: answer.json))")
        }
        self.token = token
    }
}
