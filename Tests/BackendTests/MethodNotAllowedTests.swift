import APISupport
import Testing
@testable import APISupport

/// The 405 answer's `Allow` comes from the OpenAPI document; where a literal path and a parameter path have the same
/// shape (`/api/alarms/close-group` beside `/api/alarms/{id}`), the literal one decides, as in the router's trie.
@Suite struct MethodNotAllowedTests {
    static let document = """
        {"paths": {
          "/api/alarms": {"get": {}, "post": {}},
          "/api/alarms/{id}": {"get": {}, "patch": {}},
          "/api/alarms/close-group": {"post": {}},
          "/api/alarms/{id}/close": {"post": {}}
        }}
        """

    @Test func aLiteralSegmentWinsOverAParameter() {
        let middleware = MethodNotAllowedMiddleware(openAPIDocument: Self.document)
        #expect(middleware.allowedMethods(at: "/api/alarms/close-group") == ["POST"])
        #expect(middleware.allowedMethods(at: "/api/alarms/0b7e0c3e-6c1f-4a53-9d4c-1f0b1c2d3e4f") == ["GET", "HEAD", "PATCH"])
        #expect(middleware.allowedMethods(at: "/api/alarms/0b7e0c3e-6c1f-4a53-9d4c-1f0b1c2d3e4f/close") == ["POST"])
        #expect(middleware.allowedMethods(at: "/api/alarms/") == ["GET", "HEAD", "POST"])
        #expect(middleware.allowedMethods(at: "/api/nothing/here") == nil)
    }
}
