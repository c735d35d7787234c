import Testing
@testable import Satel

@Suite struct SatelModuleTests {
    @Test func moduleLinks() { _ = SatelModule.self }
}
