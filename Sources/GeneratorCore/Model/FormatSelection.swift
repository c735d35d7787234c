import StamCore

/// `format: { by: key_form, hex: aes_key_hex, text: aes_key_text }`: a field whose pattern depends on the value of
/// an enum field of the same entity. Checked by the API on the row as it will be written (a secret is encrypted, so
/// no CHECK can read it).
public struct FormatSelection: Hashable, Sendable {
    /// The enum field whose value picks the format.
    public var selector: Located<String>
    /// Each value of the selector's enum and the format it asks for, in the order written.
    public var formats: [Choice]

    public struct Choice: Hashable, Sendable {
        public var value: Located<String>
        public var format: TextFormat

        public init(value: Located<String>, format: TextFormat) {
            self.value = value
            self.format = format
        }
    }

    public init(selector: Located<String>, formats: [Choice]) {
        self.selector = selector
        self.formats = formats
    }
}
