import StamCore

/// A secret field whose format another field of the row picks (`format: { by: ... }` in the schema, e.g. a DC-09
/// key by its `key_form`). The generated routes check the row as it will be written, after the request's fields
/// are merged into it: the key alone, the form alone or both may have changed. A secret is stored encrypted, so
/// this is the only door that can read it.
public enum SelectedFormat {
    /// Throws a 422 naming `field` when `text` does not match the format `formats` gives the selector's value.
    public static func check(_ field: String, _ text: String?, selector: String, selected: String?, formats: [String: TextFormat]) throws {
        guard let text, let selected, let format = formats[selected], !format.matches(text) else { return }
        throw APIError.invalid(field: field, "must be \(format.explanation) while \(selector) is \(selected)")
    }
}
