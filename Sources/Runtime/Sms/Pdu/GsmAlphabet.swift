/// The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), as septet values.
public enum GsmAlphabet {
    /// The escape septet that selects the extension table for the next septet.
    public static let escape: UInt8 = 0x1B

    /// Septet value -> character (0x1B, the escape, is never looked up here).
    static let basic: [Character] = [
        "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
        "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "\u{1B}", "Æ", "æ", "ß", "É",
        " ", "!", "\"", "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
        "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
        "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
        "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
        "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
    ]

    /// The extension table: the septet after an escape.
    static let extended: [UInt8: Character] = [
        0x0A: "\u{0C}", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|",
        0x65: "€",
    ]

    static let basicReverse: [Character: UInt8] = {
        var map: [Character: UInt8] = [:]
        for (index, character) in basic.enumerated() where index != 0x1B { map[character] = UInt8(index) }
        return map
    }()

    static let extendedReverse: [Character: UInt8] = {
        var map: [Character: UInt8] = [:]
        for (septet, character) in extended { map[character] = septet }
        return map
    }()

    /// Septets to text. An escape followed by a septet the extension table does not define shows that septet
    /// from the default table (TS 23.038: "the default alphabet character shall be displayed"); a trailing
    /// escape is dropped.
    public static func decode(_ septets: some Sequence<UInt8>) -> String {
        var text = ""
        var escaped = false
        for septet in septets {
            let value = septet & 0x7F
            if escaped {
                escaped = false
                text.append(extended[value] ?? basic[Int(value)])
            } else if value == escape {
                escaped = true
            } else {
                text.append(basic[Int(value)])
            }
        }
        return text
    }

    /// Text to septets, or nil when a character is in neither table (then the text needs UCS2).
    public static func encode(_ text: String) -> [UInt8]? {
        var septets: [UInt8] = []
        for character in text {
            if let value = basicReverse[character] {
                septets.append(value)
            } else if let value = extendedReverse[character] {
                septets.append(escape)
                septets.append(value)
            } else {
                return nil
            }
        }
        return septets
    }
}
