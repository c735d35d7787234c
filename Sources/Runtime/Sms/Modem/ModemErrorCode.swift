/// The meaning of `+CMS ERROR` (3GPP TS 27.005 §3.2.5) and `+CME ERROR` (TS 27.007 §9.2) codes, for logs
/// and errors. Only the codes a receiving modem plausibly returns are named.
public enum ModemErrorCode {
    public static func cms(_ code: Int) -> String {
        switch code {
        case 300: "ME failure"
        case 301: "SMS service of ME reserved"
        case 302: "operation not allowed"
        case 303: "operation not supported"
        case 304: "invalid PDU mode parameter"
        case 305: "invalid text mode parameter"
        case 310: "(U)SIM not inserted"
        case 311: "(U)SIM PIN required"
        case 312: "PH-(U)SIM PIN required"
        case 313: "(U)SIM failure"
        case 314: "(U)SIM busy"
        case 315: "(U)SIM wrong"
        case 316: "(U)SIM PUK required"
        case 317: "(U)SIM PIN2 required"
        case 318: "(U)SIM PUK2 required"
        case 320: "memory failure"
        case 321: "invalid memory index"
        case 322: "memory full"
        case 330: "SMSC address unknown"
        case 331: "no network service"
        case 332: "network timeout"
        case 340: "no +CNMA acknowledgement expected"
        case 500: "unknown error"
        default: "CMS error \(code)"
        }
    }

    public static func cme(_ code: Int) -> String {
        switch code {
        case 0: "phone failure"
        case 1: "no connection to phone"
        case 3: "operation not allowed"
        case 4: "operation not supported"
        case 5: "PH-SIM PIN required"
        case 10: "SIM not inserted"
        case 11: "SIM PIN required"
        case 12: "SIM PUK required"
        case 13: "SIM failure"
        case 14: "SIM busy"
        case 15: "SIM wrong"
        case 16: "incorrect password"
        case 17: "SIM PIN2 required"
        case 18: "SIM PUK2 required"
        case 20: "memory full"
        case 21: "invalid index"
        case 22: "not found"
        case 23: "memory failure"
        case 30: "no network service"
        case 31: "network timeout"
        case 32: "network not allowed - emergency calls only"
        case 100: "unknown"
        default: "CME error \(code)"
        }
    }
}
