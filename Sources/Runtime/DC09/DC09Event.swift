/// One event a DC-09 message carried, in one model for Contact ID and SIA DC-03 data.
public struct DC09Event: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable {
        case contactID = "contact_id"
        case sia
    }

    /// Contact ID's qualifier, or what the SIA code says (BR is BA's restore).
    public enum Qualifier: String, Sendable, Hashable {
        /// A new event, or an opening (disarm).
        case new
        /// A restore, or a closing (arm).
        case restore
        /// A condition reported before that is still there (Contact ID qualifier 6).
        case status
    }

    public var format: Format
    /// `130` for Contact ID, `BA` for SIA.
    public var code: String
    public var qualifier: Qualifier
    public var category: DC09EventCategory
    /// What the code means, in English (the code tables'), or "unknown ... code" for a code not in them.
    public var description: String
    public var partition: Int?
    public var zone: Int?
    public var user: Int?
    /// Text the sender added (SIA `|A...`, a zone or user name between carets).
    public var text: String?

    public init(format: Format, code: String, qualifier: Qualifier, category: DC09EventCategory, description: String,
                partition: Int? = nil, zone: Int? = nil, user: Int? = nil, text: String? = nil) {
        self.format = format
        self.code = code
        self.qualifier = qualifier
        self.category = category
        self.description = description
        self.partition = partition
        self.zone = zone
        self.user = user
        self.text = text
    }
}
