/// One unit of modem output: a text line, or the `> ` prompt that asks for PDU input (it has no line end).
public enum ModemLine: Hashable, Sendable {
    case line(String)
    case prompt
}
