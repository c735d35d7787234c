import Foundation
import StamCore
import Testing

/// Base64URL (JWTs, page cursors): RFC 4648 §5 text, no padding, and back.
@Suite struct Base64URLTests {
    @Test func encodesLikeBase64WithTheURLAlphabetAndNoPaddingAndDecodesBack() throws {
        #expect(Base64URL.encode(Data()) == "")
        #expect(Base64URL.encode(Data([0xfb, 0xff])) == "-_8")  // "+/8=" in standard base64
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let text = Base64URL.encode(data)
            let standard = data.base64EncodedString()
            #expect(text == standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: ""))
            #expect(Base64URL.decode(text) == data)
        }
        #expect(Base64URL.decode("not base64!") == nil)
    }
}
