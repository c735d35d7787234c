/// SIA DC-03 event codes: what the two letters alarm panels commonly send mean. A restore code names the alarm
/// code it restores; for the others the number after the code is a zone, or a user where `userInField` says so.
enum DC09SIACodes {
    struct Meaning {
        var category: DC09EventCategory
        var description: String
        var restore = false
        var userInField = false
    }

    static func meaning(_ code: String) -> Meaning {
        table[code] ?? Meaning(category: .unknown, description: "unknown SIA code \(code)")
    }

    static let table: [String: Meaning] = {
        var table: [String: Meaning] = [:]
        /// An alarm code, its restore and its other codes of the same family.
        func family(_ category: DC09EventCategory, _ name: String, alarm: String, restore: String) {
            table[alarm] = Meaning(category: category, description: "\(name) alarm")
            table[restore] = Meaning(category: category, description: "\(name) restore", restore: true)
        }
        family(.burglary, "burglary", alarm: "BA", restore: "BR")
        family(.fire, "fire", alarm: "FA", restore: "FR")
        family(.panic, "panic", alarm: "PA", restore: "PR")
        family(.panic, "hold-up", alarm: "HA", restore: "HR")
        family(.medical, "medical", alarm: "MA", restore: "MR")
        family(.environmental, "gas", alarm: "GA", restore: "GR")
        family(.environmental, "heat", alarm: "KA", restore: "KR")
        family(.environmental, "water", alarm: "WA", restore: "WR")
        family(.environmental, "low temperature", alarm: "ZA", restore: "ZR")
        family(.tamper, "tamper", alarm: "TA", restore: "TR")
        family(.burglary, "untyped zone", alarm: "UA", restore: "UR")
        family(.panic, "emergency", alarm: "QA", restore: "QR")
        family(.trouble, "burglary trouble", alarm: "BT", restore: "BJ")
        family(.trouble, "fire trouble", alarm: "FT", restore: "FJ")
        family(.trouble, "AC power", alarm: "AT", restore: "AR")
        family(.trouble, "system battery", alarm: "YT", restore: "YR")
        family(.trouble, "phone line", alarm: "LT", restore: "LR")
        family(.trouble, "expansion module", alarm: "ET", restore: "ER")
        family(.trouble, "transmitter battery", alarm: "XT", restore: "XR")
        family(.trouble, "communication", alarm: "YC", restore: "YK")
        family(.trouble, "untyped zone trouble", alarm: "UT", restore: "UJ")
        table["HA"]?.description = "hold-up alarm"
        table["DA"] = Meaning(category: .duress, description: "duress", userInField: true)
        for (code, name) in [("OP", "opening"), ("OA", "automatic opening"), ("OR", "disarm from alarm"), ("OG", "partition opening"),
                             ("CL", "closing"), ("CA", "automatic closing"), ("CG", "partition closing"), ("CR", "recent closing"),
                             ("NL", "armed stay"), ("CF", "forced closing"), ("CI", "fail to close"), ("OI", "fail to open")] {
            table[code] = Meaning(category: .openClose, description: name, restore: code.hasPrefix("C") || code == "NL", userInField: true)
        }
        for (code, name) in [("RP", "automatic test"), ("RX", "manual test"), ("FX", "fire test"), ("BX", "burglary test")] {
            table[code] = Meaning(category: .test, description: name)
        }
        for (code, name) in [("BB", "burglary bypass"), ("FB", "fire bypass"), ("UB", "untyped zone bypass")] {
            table[code] = Meaning(category: .bypass, description: name)
        }
        for (code, name) in [("BU", "burglary unbypass"), ("FU", "fire unbypass"), ("UU", "untyped zone unbypass")] {
            table[code] = Meaning(category: .bypass, description: name, restore: true)
        }
        table["JA"] = Meaning(category: .tamper, description: "user code tamper (wrong codes)", userInField: true)
        for (code, name) in [("LB", "local programming begin"), ("LX", "local programming end"), ("RS", "remote program success"),
                             ("JT", "time changed"), ("RR", "power up")] {
            table[code] = Meaning(category: .system, description: name)
        }
        return table
    }()
}
