import Foundation
import DevStack
import Testing
import TestSupport

/// The generated OpenAPI document passes a standard validator (PyPI openapi-spec-validator), and a broken
/// document does not (so the check can fail).
@Suite(.integration, .tags(.integration)) struct OpenAPIValidationTests {
    func validate(_ path: String) throws -> (status: Int32, output: String) {
        let environment = try DeploymentTools.pythonEnvironment()
        do {
            return (0, try LocalProcess.run("/usr/bin/python3", ["-m", "openapi_spec_validator", path], environment: environment))
        } catch let error as LocalProcess.LaunchError {
            return (1, error.description)
        }
    }

    @Test func theGeneratedDocumentIsValidOpenAPI31() throws {
        let result = try validate("\(DeploymentTools.root)/Sources/GeneratedAPI/openapi.json")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK"))
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(DeploymentTools.root)/Sources/GeneratedAPI/openapi.json"))) as? [String: Any]
        #expect(document?["openapi"] as? String == "3.1.0")
    }

    @Test func aBrokenDocumentIsRejected() throws {
        let text = try String(contentsOfFile: "\(DeploymentTools.root)/Sources/GeneratedAPI/openapi.json", encoding: .utf8)
        var document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var paths = try #require(document["paths"] as? [String: Any])
        paths["/api/broken/{id}"] = ["get": ["responses": ["200": ["description": "x"]], "parameters": [["name": "id", "in": "path"]]]]
        document["paths"] = paths
        let path = NSTemporaryDirectory() + "openapi-broken-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try validate(path)
        #expect(result.status != 0, "\(result.output)")
    }
}
