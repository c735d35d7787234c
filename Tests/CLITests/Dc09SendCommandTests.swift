import ArgumentParser
import Testing
@testable import stam

/// `stam dc09-send`'s arguments: what a communicator could not send is refused before anything is sent. (Sending
/// itself is `DC09Sender`, tested against pysiaalarm in DC09ReceiverInteropTests.)
@Suite struct Dc09SendCommandTests {
    @Test func validArgumentsParse() throws {
        let command = try #require(try Stam.parseAsRoot(["dc09-send", "--host", "r1", "--port", "9000", "--account", "12AB", "--receiver", "5",
                                                         "--sia", "Nri1/BA03", "--udp", "--sequence", "9999"]) as? Dc09SendCommand)
        #expect(command.account == "12AB" && command.sia == "Nri1/BA03" && command.udp && command.sequence == 9999)
        _ = try Stam.parseAsRoot(["dc09-send", "--host", "r1", "--port", "9000", "--account", "123"])  // a link test
    }

    @Test(arguments: [
        ["--account", "12G4"], ["--account", "12"], ["--account", "1234", "--sequence", "0"], ["--account", "1234", "--sequence", "10000"],
        ["--account", "1234", "--receiver", "1234567"], ["--account", "1234", "--sia", "NBA1", "--contact-id", "1130 01 015"],
        ["--account", "1234", "--key-form", "base64"],
    ])
    func whatNoCommunicatorSendsIsRefused(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try Stam.parseAsRoot(["dc09-send", "--host", "r1", "--port", "9000"] + arguments) }
    }
}
