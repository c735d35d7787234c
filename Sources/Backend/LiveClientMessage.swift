import Foundation

/// A message a console sends on `/ws` (the protocol in `LiveSocket`), decoded from a JSON object whose `type`
/// names it. Anything else is a `Refusal`, answered with an `error` message; the connection stays.
enum LiveClientMessage: Decodable, Sendable, Equatable {
    case auth(token: String)
    case subscribe(LiveSubscription)
    case ping

    /// Why a message was refused: the `code` and `message` of the `error` the console gets back.
    struct Refusal: Error, Sendable, Equatable {
        var code: String
        var message: String
    }

    private enum Key: String, CodingKey {
        case type, token, all, panels, sites, alarms
    }

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: Key.self),
              let type = try? container.decode(String.self, forKey: .type) else {
            throw Refusal(code: "bad_message", message: "expected a JSON object with a type")
        }
        switch type {
        case "auth":
            guard let token = try? container.decode(String.self, forKey: .token) else {
                throw Refusal(code: "bad_message", message: "auth needs a token")
            }
            self = .auth(token: token)
        case "ping":
            self = .ping
        case "subscribe":
            func ids(_ key: Key) throws -> Set<UUID> {
                guard container.contains(key) else { return [] }
                let texts = try? container.decode([String].self, forKey: key)
                let parsed = texts?.compactMap(UUID.init(uuidString:)) ?? []
                guard let texts, parsed.count == texts.count else {
                    throw Refusal(code: "bad_subscription", message: "panels and sites must be lists of ids")
                }
                return Set(parsed)
            }
            // A flag that is not `true` (absent, false, anything else) does not subscribe.
            func flag(_ key: Key) -> Bool { (try? container.decodeIfPresent(Bool.self, forKey: key)) == true }
            self = .subscribe(LiveSubscription(everything: flag(.all), panels: try ids(.panels), sites: try ids(.sites),
                                               alarms: flag(.alarms)))
        default:
            throw Refusal(code: "bad_message", message: "unknown type '\(type)'")
        }
    }

    /// Decodes a text frame; a frame that is not JSON is refused like one without a type.
    static func decode(_ text: String) throws(Refusal) -> LiveClientMessage {
        do {
            return try JSONDecoder().decode(LiveClientMessage.self, from: Data(text.utf8))
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(code: "bad_message", message: "expected a JSON object with a type")
        }
    }
}
