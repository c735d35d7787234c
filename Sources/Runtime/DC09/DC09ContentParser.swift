/// The events in a message's data block, Contact ID or SIA DC-03, in one model (`DC09Event`). A code the tables do
/// not have is an event of category `unknown`, not an error; data that does not parse is `unusable` (DUH).
public enum DC09ContentParser {
    public static func events(in message: DC09Message) throws(DC09MessageError) -> [DC09Event] {
        let data = withoutAccount(message.data)
        switch message.header.token {
        case .null:
            return []
        case .contactID:
            guard let event = contactID(data) else {
                throw DC09MessageError(.unusable, "Contact ID data is QEEE GG CCC (qualifier 1, 3 or 6, code, partition, zone or user), not '\(data)'", header: message.header)
            }
            return [event]
        case .siaDCS:
            guard let events = sia(data), !events.isEmpty else {
                throw DC09MessageError(.unusable, "SIA data holds no event this station can read: '\(data)'", header: message.header)
            }
            return events
        case .other(let token):
            throw DC09MessageError(.unusable, "the token \"\(token)\" is not one this station reads", header: message.header)
        }
    }

    /// The data without its leading `#acct|`, which repeats the header's account.
    static func withoutAccount(_ data: String) -> Substring {
        guard data.hasPrefix("#"), let bar = data.firstIndex(of: "|") else { return Substring(data) }
        return data[data.index(after: bar)...]
    }

    /// `QEEE GG CCC`, spaces optional.
    static func contactID(_ data: Substring) -> DC09Event? {
        let digits = data.filter { $0 != " " }
        guard digits.count == 9, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let qualifierDigit = digits.first, let code = Int(digits.dropFirst().prefix(3)),
              let partition = Int(digits.dropFirst(4).prefix(2)), let field = Int(digits.suffix(3)) else { return nil }
        let qualifier: DC09Event.Qualifier
        switch qualifierDigit {
        case "1": qualifier = .new
        case "3": qualifier = .restore
        case "6": qualifier = .status
        default: return nil
        }
        let meaning = DC09ContactIDCodes.meaning(code)
        let number = field == 0 ? nil : field
        return DC09Event(format: .contactID, code: String(digits.dropFirst().prefix(3)), qualifier: qualifier, category: meaning.category,
                         description: meaning.description, partition: partition == 0 ? nil : partition,
                         zone: meaning.userInField ? nil : number, user: meaning.userInField ? number : nil)
    }

    /// `N` then modifiers (`ri` partition, `id` user, `ti` time, `pi` peripheral) and events (`BA01`, each with an
    /// optional `^name^`), `/` between them, and an optional `|A<text>` at the end. A modifier holds for the events
    /// after it.
    static func sia(_ data: Substring) -> [DC09Event]? {
        var text: String?
        var body = data
        if let bar = data.firstIndex(of: "|") {
            body = data[..<bar]
            let extra = data[data.index(after: bar)...]
            if extra.hasPrefix("A") { text = String(extra.dropFirst()) }
        }
        var characters = Array(body)
        if characters.first == "N" || characters.first == "O" { characters.removeFirst() }
        var index = 0
        var partition: Int?, user: Int?
        var events: [DC09Event] = []
        func number(maximumDigits: Int = 6) -> Int? {
            let start = index
            while index < characters.count, index - start < maximumDigits, characters[index].isASCII, characters[index].isNumber { index += 1 }
            return index > start ? Int(String(characters[start..<index])) : nil
        }
        /// `^name^`, when there is one.
        func name() -> String? {
            guard index < characters.count, characters[index] == "^" else { return nil }
            guard let close = characters[(index + 1)...].firstIndex(of: "^") else { index = characters.count; return nil }
            defer { index = close + 1 }
            return String(characters[(index + 1)..<close])
        }
        while index < characters.count {
            let character = characters[index]
            if character == "/" || character == " " { index += 1; continue }
            guard index + 1 < characters.count else { return nil }
            let pair = String(characters[index...(index + 1)])
            index += 2
            if pair.allSatisfy(\.isLowercase) {
                switch pair {
                case "ri": partition = number()
                case "id": user = number()
                case "ti": while index < characters.count, characters[index].isNumber || characters[index] == ":" { index += 1 }
                default: _ = number()
                }
                _ = name()
            } else if pair.allSatisfy({ $0.isUppercase && $0.isASCII }) {
                let meaning = DC09SIACodes.meaning(pair)
                let value = number()
                let eventText = name() ?? text
                events.append(DC09Event(format: .sia, code: pair, qualifier: meaning.restore ? .restore : .new, category: meaning.category,
                                        description: meaning.description, partition: partition,
                                        zone: meaning.userInField ? nil : value, user: meaning.userInField ? (value ?? user) : user,
                                        text: eventText))
            } else {
                return nil
            }
        }
        return events
    }
}
