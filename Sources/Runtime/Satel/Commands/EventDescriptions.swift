/// English texts for the event codes a monitoring operator sees most (doc §6.5). The panel's own table
/// (0x8F) is authoritative; this one lets reports say something useful without a round trip per record.
public enum EventDescriptions {
    public static func text(code: Int, restore: Bool) -> String {
        if let pair = table[code] {
            return restore ? pair.restore : pair.normal
        }
        return "event \(code)\(restore ? " (restore)" : "")"
    }

    private static let table: [Int: (normal: String, restore: String)] = [
        110: ("fire alarm", "fire alarm restore"),
        111: ("fire alarm (smoke detector)", "fire alarm restore"),
        112: ("combustion alarm", "combustion alarm restore"),
        113: ("water flow alarm", "water flow alarm restore"),
        114: ("fire alarm (heat detector)", "fire alarm restore"),
        115: ("fire alarm (pull station)", "fire alarm restore"),
        116: ("fire alarm (duct detector)", "fire alarm restore"),
        117: ("fire alarm (flame detector)", "fire alarm restore"),
        120: ("panic alarm", "panic alarm restore"),
        121: ("duress alarm", "duress alarm restore"),
        122: ("silent panic alarm", "silent panic alarm restore"),
        123: ("audible panic alarm", "audible panic alarm restore"),
        130: ("burglary alarm", "zone restore"),
        131: ("perimeter alarm", "perimeter alarm restore"),
        132: ("interior alarm", "interior alarm restore"),
        133: ("24 hour burglary alarm", "24 hour burglary alarm restore"),
        134: ("entry/exit alarm", "entry/exit alarm restore"),
        135: ("day/night alarm", "day/night alarm restore"),
        136: ("outdoor alarm", "outdoor alarm restore"),
        137: ("tamper alarm", "tamper alarm restore"),
        144: ("zone tamper alarm", "zone tamper restore"),
        400: ("disarm", "arm"),
        401: ("disarm by user", "arm by user"),
        402: ("group disarm", "group arm"),
        403: ("automatic disarm", "automatic arm"),
        406: ("alarm cleared", "alarm cleared"),
        407: ("remote disarm", "remote arm"),
        409: ("disarm by zone", "arm by zone"),
        422: ("user access", "user access"),
        454: ("arming failed", "arming failed"),
        1001: ("forced arming", "forced arming"),
        1019: ("remote key fob used", "remote key fob used"),
    ]
}
