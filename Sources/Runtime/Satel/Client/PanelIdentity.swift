/// What the client learned about the panel when it connected: 0x7E and 0x7C.
public struct PanelIdentity: Hashable, Sendable, Codable {
    public var integra: IntegraVersion
    /// Nil when the module did not answer 0x7C (very old firmware).
    public var module: ModuleVersion?

    public init(integra: IntegraVersion, module: ModuleVersion?) {
        self.integra = integra
        self.module = module
    }

    public var model: PanelModel { integra.model }

    /// 32-byte zone and output lists: a 256 Plus whose module can serve them (doc §3.5).
    public var uses32ByteLists: Bool {
        integra.typeCode == PanelModel.integra256Plus.typeCode && (module?.supports32ByteLists ?? false)
    }

    /// The 0x7F answer length to ask for: 7 bytes with troubles part 8, else 6 (v2 firmware).
    public var newDataAnswerLength: Int {
        module?.supportsTroublesPart8 == true ? 7 : 6
    }
}
