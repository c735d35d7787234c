/// Contact ID event codes (SIA DC-05): what the codes alarm panels commonly send mean, and in which of the code's
/// hundreds-and-tens group an unlisted code falls (a 13x the table lacks is still a burglary).
enum DC09ContactIDCodes {
    struct Meaning {
        var category: DC09EventCategory
        var description: String
        /// The third field is a user number, not a zone (openings and closings, duress, codes).
        var userInField = false
    }

    static func meaning(_ code: Int) -> Meaning {
        if let meaning = table[code] { return meaning }
        guard let group = groups.first(where: { $0.codes.contains(code) }) else {
            return Meaning(category: .unknown, description: "unknown Contact ID code \(code)")
        }
        return Meaning(category: group.category, description: "\(group.description) (Contact ID \(code))", userInField: group.userInField)
    }

    static let groups: [(codes: ClosedRange<Int>, category: DC09EventCategory, description: String, userInField: Bool)] = [
        (100...109, .medical, "medical alarm", false), (110...119, .fire, "fire alarm", false), (120...129, .panic, "panic alarm", false),
        (130...139, .burglary, "burglary", false), (140...149, .burglary, "general alarm", false), (150...169, .environmental, "24-hour non-burglary alarm", false),
        (200...299, .trouble, "fire supervisory", false), (300...399, .trouble, "trouble", false), (400...499, .openClose, "opening or closing", true),
        (500...599, .system, "disable or bypass", false), (600...699, .system, "test or system report", false),
    ]

    static let table: [Int: Meaning] = {
        var table: [Int: Meaning] = [:]
        func add(_ category: DC09EventCategory, userInField: Bool = false, _ entries: [Int: String]) {
            for (code, description) in entries { table[code] = Meaning(category: category, description: description, userInField: userInField) }
        }
        add(.medical, [100: "medical", 101: "personal emergency", 102: "fail to report in"])
        add(.fire, [110: "fire", 111: "smoke", 112: "combustion", 113: "water flow", 114: "heat", 115: "pull station", 116: "duct",
                    117: "flame", 118: "fire near alarm"])
        add(.panic, [120: "panic", 122: "silent panic", 123: "audible panic"])
        add(.duress, userInField: true, [121: "duress", 124: "duress, access granted", 125: "duress, egress granted"])
        add(.burglary, [130: "burglary", 131: "perimeter", 132: "interior", 133: "24-hour (safe)", 134: "entry/exit", 135: "day/night",
                        136: "outdoor", 138: "burglary near alarm", 139: "intrusion verified", 140: "general alarm", 146: "silent burglary"])
        add(.tamper, [137: "tamper", 144: "sensor tamper", 145: "expansion module tamper", 341: "expansion module tamper", 383: "sensor tamper"])
        add(.trouble, [143: "expansion module failure", 147: "sensor supervision failure", 300: "system trouble", 301: "AC power loss",
                       302: "low system battery", 309: "battery test failure", 311: "battery missing or dead",
                       312: "power supply overcurrent", 330: "system peripheral trouble", 333: "expansion module failure",
                       337: "expansion module DC loss", 338: "expansion module low battery", 342: "expansion module AC loss",
                       344: "RF receiver jam", 350: "communication trouble", 351: "telco 1 fault", 352: "telco 2 fault",
                       353: "long range radio fault", 354: "failure to communicate event", 355: "loss of radio supervision",
                       356: "loss of central polling", 373: "fire trouble", 380: "sensor trouble", 381: "loss of RF supervision",
                       384: "RF low battery", 389: "sensor self-test failure", 393: "maintenance alert", 200: "fire supervisory"])
        add(.environmental, [150: "24-hour non-burglary", 151: "gas detected", 152: "refrigeration", 153: "loss of heat", 154: "water leakage",
                             158: "high temperature", 159: "low temperature", 162: "carbon monoxide detected"])
        add(.openClose, userInField: true, [400: "opening/closing", 401: "opening/closing by user", 402: "group opening/closing",
                               403: "automatic opening/closing", 406: "cancel by user", 407: "remote arm/disarm", 408: "quick arm",
                               409: "keyswitch opening/closing", 441: "armed stay", 451: "early opening/closing", 452: "late opening/closing",
                               453: "failed to open", 454: "failed to close", 455: "auto-arm failed", 456: "partial arm", 459: "recent close"])
        add(.tamper, userInField: true, [461: "wrong code entry"])
        add(.bypass, [570: "zone bypass", 571: "fire bypass", 572: "24-hour zone bypass", 573: "burglary bypass", 574: "group bypass"])
        add(.test, [601: "manual test report", 602: "periodic test report", 603: "periodic RF transmission", 604: "fire test",
                    607: "walk test mode", 608: "periodic test, system trouble present", 611: "point tested OK"])
        add(.system, [305: "system reset", 306: "panel programming changed", 313: "engineer reset", 621: "event log reset",
                      624: "event log overflow", 625: "time/date reset", 627: "program mode entry", 628: "program mode exit",
                      654: "system inactivity"])
        return table
    }()
}
