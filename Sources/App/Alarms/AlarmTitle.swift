import Generated

/// The line an operator reads first, the same for every source: the kind, then where (the partition and zone as
/// the site's descriptions name them), e.g. "Burglary - Warehouse / Zone 3 Back door". Without descriptions the
/// numbers stand in ("Burglary - Partition 1 / Zone 3"); an event of no zone (a trouble, a keypad) keeps the
/// panel's own text ("Trouble - AC loss (source 2)", "Tamper - Office: Keypad tamper (source 1)").
public enum AlarmTitle {
    public struct Place: Sendable, Equatable {
        public var number: Int
        public var description: String?

        public init(number: Int, description: String?) {
            self.number = number
            self.description = description
        }
    }

    public static func compose(kind: AlarmKind, partition: Place?, zone: Place?, event: String) -> String {
        let place = switch (partition, zone) {
        case (let partition?, let zone?): "\(name(partition, fallback: "Partition")) / \(name(zone, fallback: "Zone", alwaysNumbered: true))"
        case (nil, let zone?): name(zone, fallback: "Zone", alwaysNumbered: true)
        // No zone (a keypad or expander): the panel's text says what, the partition where.
        case (let partition?, nil): "\(name(partition, fallback: "Partition")): \(event)"
        case (nil, nil): event
        }
        return String("\(label(kind)) - \(place)".prefix(200))
    }

    /// "Zone 3 Back door", "Warehouse", "Partition 1".
    static func name(_ place: Place, fallback: String, alwaysNumbered: Bool = false) -> String {
        let description = place.description?.trimmingCharacters(in: .whitespaces) ?? ""
        if description.isEmpty { return "\(fallback) \(place.number)" }
        return alwaysNumbered ? "\(fallback) \(place.number) \(description)" : description
    }

    public static func label(_ kind: AlarmKind) -> String {
        switch kind {
        case .burglary: "Burglary"
        case .fire: "Fire"
        case .panic: "Panic"
        case .duress: "Duress"
        case .tamper: "Tamper"
        case .medical: "Medical"
        case .trouble: "Trouble"
        case .technical: "Technical"
        case .panelOffline: "Panel offline"
        case .sms: "SMS"
        case .noSignal: "No signal"
        case .openingOutOfHours: "Opening out of hours"
        case .lateToClose: "Late to close"
        }
    }
}
