/// A message as the modem listed it: its storage index, status (0 unread, 1 read) and the PDU in hex.
public struct StoredPdu: Hashable, Sendable {
    public var index: Int
    public var status: Int
    public var pdu: String

    public init(index: Int, status: Int, pdu: String) {
        self.index = index
        self.status = status
        self.pdu = pdu
    }
}
