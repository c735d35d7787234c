/// The `If-Match` header the API accepts on an update, read by the server (`APIResponse.requireIfMatch`) and
/// documented (`pattern`, in the OpenAPI document) from this one place: the strong ETag of a version the API
/// issued (`"3"`) or `*` ("whatever is current", RFC 9110 13.1.1). A weak `W/"3"` never matches under
/// If-Match's strong comparison, and a list of ETags is not something this API issues; both are refused.
public enum IfMatch: Equatable, Sendable {
    case version(Int)
    case any

    /// Versions are PostgreSQL integers, issued from 1; 18 digits keeps every accepted value an `Int`.
    public static let pattern = #"^[ \t]*(\*|"(0|[1-9][0-9]{0,17})")[ \t]*$"#

    /// nil when the header is not one of the accepted forms.
    public init?(header: String) {
        let text = header.trimmingCharacters(in: " \t")
        if text == "*" { self = .any; return }
        guard text.count >= 3, text.first == "\"", text.last == "\"" else { return nil }
        let digits = text.dropFirst().dropLast()
        guard digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits == "0" || digits.first != "0",
              let version = Int(digits) else { return nil }
        self = .version(version)
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> Substring {
        var text = self[...]
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}
