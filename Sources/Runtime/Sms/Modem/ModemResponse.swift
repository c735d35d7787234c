import Foundation

/// A modem line classified: a final result code ends the outstanding command, an unsolicited result code
/// may arrive at any time (also between the lines of an answer), anything else is information for the
/// outstanding command or, with none outstanding, noise.
public enum ModemResponse: Hashable, Sendable {
    case ok
    case error
    case cmsError(Int?, String)
    case cmeError(Int?, String)
    /// `+CMTI: "SM",3`: a new message was stored at that index.
    case newMessage(storage: String, index: Int)
    /// Other unsolicited codes we do not act on (RING, +CDSI, +CIEV, ...).
    case otherUnsolicited(String)
    case prompt
    case information(String)

    public init(_ line: ModemLine) {
        guard case .line(let raw) = line else { self = .prompt; return }
        let text = raw.trimmingCharacters(in: .whitespaces)
        switch text {
        case "OK": self = .ok
        case "ERROR": self = .error
        default:
            if let rest = text.dropPrefix("+CMS ERROR:") {
                let code = Int(rest.trimmingCharacters(in: .whitespaces))
                self = .cmsError(code, code.map(ModemErrorCode.cms) ?? rest.trimmingCharacters(in: .whitespaces))
            } else if let rest = text.dropPrefix("+CME ERROR:") {
                let code = Int(rest.trimmingCharacters(in: .whitespaces))
                self = .cmeError(code, code.map(ModemErrorCode.cme) ?? rest.trimmingCharacters(in: .whitespaces))
            } else if let rest = text.dropPrefix("+CMTI:") {
                let fields = rest.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                if fields.count == 2, let index = Int(fields[1]) {
                    self = .newMessage(storage: fields[0].trimmingCharacters(in: CharacterSet(charactersIn: "\"")), index: index)
                } else {
                    self = .otherUnsolicited(text)
                }
            } else if ["RING", "NO CARRIER", "+CRING:", "+CDSI:", "+CIEV:", "+CBM:", "+CDS:", "^"].contains(where: text.hasPrefix) {
                self = .otherUnsolicited(text)
            } else {
                self = .information(text)
            }
        }
    }

    public var isFinal: Bool {
        switch self {
        case .ok, .error, .cmsError, .cmeError: true
        default: false
        }
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
