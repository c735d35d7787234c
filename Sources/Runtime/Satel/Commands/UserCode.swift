/// The user code (optionally preceded by the panel's prefix) sent with every control command.
///
/// On the wire it is 8 bytes of packed BCD, high nibble first, padded with `F` nibbles (doc §2.2). The digits
/// are never printed: `description` masks them so codes cannot leak into logs.
public struct UserCode: Hashable, Sendable {
    /// Prefix digits followed by the code digits.
    public let digits: [UInt8]

    /// The longest digit string that fits in the 8-byte field.
    public static let maximumDigits = 16

    /// A code from its decimal digits, e.g. `"1234"`, with an optional installer-configured prefix.
    public init?(_ code: String, prefix: String = "") {
        let text = prefix + code
        guard !code.isEmpty, text.count <= UserCode.maximumDigits else { return nil }
        var digits: [UInt8] = []
        for character in text {
            guard let value = character.wholeNumberValue, character.isASCII else { return nil }
            digits.append(UInt8(value))
        }
        self.digits = digits
    }

    /// Reads the 8-byte field back (the simulator does this); digits stop at the first `F` nibble.
    public init(encoded bytes: some Collection<UInt8>) throws(UserCodeError) {
        guard bytes.count == 8 || bytes.count == 4 else { throw UserCodeError(bytes: Array(bytes)) }
        var digits: [UInt8] = []
        var ended = false
        for byte in bytes {
            for nibble in [byte >> 4, byte & 0x0F] {
                if nibble == 0x0F {
                    ended = true
                } else if ended || nibble > 9 {
                    throw UserCodeError(bytes: Array(bytes))
                } else {
                    digits.append(nibble)
                }
            }
        }
        guard !digits.isEmpty else { throw UserCodeError(bytes: Array(bytes)) }
        self.digits = digits
    }

    /// The 8-byte field as it goes into a control command.
    public var encoded: [UInt8] {
        var nibbles = digits
        nibbles += [UInt8](repeating: 0x0F, count: UserCode.maximumDigits - nibbles.count)
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }

    /// The digits as a string; only for comparing with configured codes, never for logging.
    public var digitString: String {
        String(digits.map { Character(String($0)) })
    }
}

extension UserCode: CustomStringConvertible {
    public var description: String { "UserCode(\(digits.count) digits)" }
}

/// A user-code field that is not valid packed BCD.
public struct UserCodeError: Error, Hashable, Sendable {
    public var code: String { "invalidUserCode" }
    public var bytes: [UInt8]
}
