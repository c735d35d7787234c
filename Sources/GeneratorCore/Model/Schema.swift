/// The whole schema of the system after loading: what `schema/*.yaml` declares, with source locations.
/// Renderers only ever see a `Schema` that `SchemaValidator` accepted.
public struct Schema: Hashable, Sendable {
    public var roles: [Located<String>] = []
    public var enums: [EnumDeclaration] = []
    public var entities: [EntityDeclaration] = []
    /// `alarm_stack:`; nil when the schema declares none.
    public var alarmStack: AlarmStackDeclaration?
    public var events: [EventDeclaration] = []
    public var exchanges: [ExchangeDeclaration] = []
    public var queues: [QueueDeclaration] = []
    public var deployment = DeploymentDeclaration()

    public init() {}

    public func entity(named name: String) -> EntityDeclaration? { entities.first { $0.name == name } }
    public func enumeration(named name: String) -> EnumDeclaration? { enums.first { $0.name == name } }
}
