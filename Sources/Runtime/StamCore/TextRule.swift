/// The rules a text field of the schema may declare, read the same way by the API's validation (Swift) and the
/// database's CHECK constraint (PostgreSQL), which `stamgen` renders from the same values: one declaration,
/// enforced at both doors, and documented in the OpenAPI document.
public enum TextFormat: String, CaseIterable, Sendable {
    /// Letters, digits, `.`, `_`, `@`, `-`; starting with a letter or digit.
    case login
    /// A host name (labels of letters, digits and inner hyphens, separated by dots) or an IPv4 or IPv6 address.
    case hostname
    /// A telephone number as people write it: an optional `+`, digits, spaces, `-`, `(`, `)`; 6 to 32 characters.
    case phone
    /// E.164: `+`, country code and number, digits only (what a GSM network reports as an international sender).
    case e164
    /// A time of day on a 24-hour clock, `HH:MM` (`07:30`, `22:00`).
    case timeOfDay = "time_of_day"
    /// An IANA time zone name (`Europe/Warsaw`, `UTC`).
    case timeZone = "time_zone"
    /// Hex digits only (a SIA DC-09 account, receiver number or line prefix).
    case hexDigits = "hex_digits"
    /// An AES-128, -192 or -256 key written as hex: 32, 48 or 64 hex digits (a DC-09 account's key in hex form).
    case aesKeyHex = "aes_key_hex"
    /// An AES-128, -192 or -256 key written as text: 16, 24 or 32 printable ASCII characters, each one byte of the
    /// key (a DC-09 account's key in text form, as communicators that take a typed password use it).
    case aesKeyText = "aes_key_text"

    /// The pattern without anchors, in the dialect both Swift's `Regex` and PostgreSQL's ARE read the same:
    /// ASCII bracket expressions, groups, alternation, `?`, `*`, `+`, `{m,n}`.
    public var pattern: String {
        switch self {
        case .login: "[A-Za-z0-9][A-Za-z0-9._@-]*"
        case .hostname: "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?([.][A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
        case .phone: "[+]?[0-9 ()-]{6,32}"
        case .e164: "[+][1-9][0-9]{6,14}"
        case .timeOfDay: "([01][0-9]|2[0-3]):[0-5][0-9]"
        case .timeZone: "[A-Za-z][A-Za-z0-9_+-]*([/][A-Za-z0-9_+-]+)*"
        case .hexDigits: "[0-9A-Fa-f]+"
        case .aesKeyHex: "[0-9A-Fa-f]{32}([0-9A-Fa-f]{16}){0,2}"
        case .aesKeyText: "[ -~]{16}([ -~]{8}){0,2}"
        }
    }

    /// What the rule asks for, in an error message.
    public var explanation: String {
        switch self {
        case .login: "letters, digits, '.', '_', '@' and '-', starting with a letter or digit"
        case .hostname: "a host name or an IP address"
        case .phone: "a telephone number: digits, spaces, '-', '(', ')' and an optional leading '+'"
        case .e164: "an international number in E.164 form, e.g. +48600100200"
        case .timeOfDay: "a time of day as HH:MM on a 24-hour clock, e.g. 07:30"
        case .timeZone: "an IANA time zone name, e.g. Europe/Warsaw"
        case .hexDigits: "hex digits (0-9, A-F), e.g. 1234 or 12AB"
        case .aesKeyHex: "an AES key as 32, 48 or 64 hex digits (128, 192 or 256 bits)"
        case .aesKeyText: "an AES key as 16, 24 or 32 printable ASCII characters (128, 192 or 256 bits)"
        }
    }

    public func matches(_ text: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return text.wholeMatch(of: regex) != nil
    }
}

/// Control characters in text. A single-line field (`string`) allows none; a multi-line one (`text`) allows tab,
/// line feed and carriage return. C0 (U+0000-U+001F), DEL and C1 (U+007F-U+009F) are control characters: they
/// forge log lines, hide text on screens and break exports.
public enum ControlCharacters {
    public static func isAllowed(_ scalar: Unicode.Scalar, lineBreaks: Bool) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: lineBreaks
        case 0x00...0x1F, 0x7F...0x9F: false
        default: true
        }
    }

    public static func contains(in text: String, lineBreaks: Bool) -> Bool {
        text.unicodeScalars.contains { !isAllowed($0, lineBreaks: lineBreaks) }
    }

    /// The PostgreSQL ARE bracket expression of the refused characters.
    public static func sqlClass(lineBreaks: Bool) -> String {
        lineBreaks ? "[\\u0001-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]" : "[\\u0001-\\u001F\\u007F-\\u009F]"
    }

    /// The JSON Schema (ECMA-262) pattern of a value without refused characters.
    public static func jsonPattern(lineBreaks: Bool) -> String {
        lineBreaks ? "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$" : "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    }
}
