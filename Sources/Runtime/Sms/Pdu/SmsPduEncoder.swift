/// Encodes SMS-DELIVER PDUs, as a network would deliver them to a modem. The decoder's mirror, used by the
/// modem simulator and the tests; long texts are split into concatenated parts the way phones do it
/// (153 septets or 67 UCS2 characters per part with an 8-bit reference, never splitting an escape sequence
/// or a surrogate pair).
public struct SmsPduEncoder: Sendable {
    public var serviceCentre: SmsAddress?
    public var protocolIdentifier: UInt8 = 0

    public init(serviceCentre: SmsAddress? = SmsAddress(kind: .international, value: "+48790998250")) {
        self.serviceCentre = serviceCentre
    }

    /// The PDUs (hex) of `text` from `sender`; `coding` nil picks GSM 7-bit when every character fits, else
    /// UCS2. `reference` is used only when the text needs more than one part.
    public func deliver(text: String, from sender: SmsAddress, at timestamp: SmsTimestamp, coding: SmsDataCoding? = nil,
                        reference: Int = 0, sixteenBitReference: Bool = false) -> [String] {
        let septets = GsmAlphabet.encode(text)
        let coding = coding ?? (septets == nil ? .ucs2 : .gsm7)
        let headerOctets = sixteenBitReference ? 7 : 6
        switch coding {
        case .gsm7:
            let septets = septets ?? GsmAlphabet.encode(String(text.map { GsmAlphabet.encode(String($0)) == nil ? "?" : $0 })) ?? []
            if septets.count <= 160 {
                return [pdu(sender: sender, timestamp: timestamp, coding: coding, header: nil, payload: septets, septetCount: septets.count)]
            }
            let perPart = 160 - (headerOctets * 8 + 6) / 7
            var chunks: [[UInt8]] = []
            var current: [UInt8] = []
            var index = 0
            while index < septets.count {
                let width = septets[index] == GsmAlphabet.escape && index + 1 < septets.count ? 2 : 1
                if current.count + width > perPart {
                    chunks.append(current)
                    current = []
                }
                current.append(contentsOf: septets[index..<index + width])
                index += width
            }
            if !current.isEmpty { chunks.append(current) }
            return chunks.enumerated().map { part, chunk in
                let header = SmsConcatenation(reference: reference, total: chunks.count, sequence: part + 1,
                                              sixteenBitReference: sixteenBitReference).encoded()
                return pdu(sender: sender, timestamp: timestamp, coding: coding, header: header, payload: chunk,
                           septetCount: (headerOctets * 8 + 6) / 7 + chunk.count)
            }
        case .ucs2, .eightBit:
            let payload: [UInt8] = coding == .ucs2 ? text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } : Array(text.utf8)
            if payload.count <= 140 {
                return [pdu(sender: sender, timestamp: timestamp, coding: coding, header: nil, payload: payload, septetCount: 0)]
            }
            let perPart = coding == .ucs2 ? (140 - headerOctets) / 2 * 2 : 140 - headerOctets
            var chunks: [[UInt8]] = []
            var index = 0
            while index < payload.count {
                var end = min(index + perPart, payload.count)
                // A high surrogate at the end of a UCS2 chunk moves to the next part with its low surrogate.
                if coding == .ucs2, end < payload.count, (0xD8...0xDB).contains(payload[end - 2]) { end -= 2 }
                chunks.append(Array(payload[index..<end]))
                index = end
            }
            return chunks.enumerated().map { part, chunk in
                let header = SmsConcatenation(reference: reference, total: chunks.count, sequence: part + 1,
                                              sixteenBitReference: sixteenBitReference).encoded()
                return pdu(sender: sender, timestamp: timestamp, coding: coding, header: header, payload: chunk, septetCount: 0)
            }
        }
    }

    /// One PDU; `header` is the user-data header's elements (its length octet is added here).
    public func pdu(sender: SmsAddress, timestamp: SmsTimestamp, coding: SmsDataCoding, header: [UInt8]?,
                    payload: [UInt8], septetCount: Int) -> String {
        var bytes = serviceCentre?.encodedAsServiceCentre() ?? [0x00]
        // SMS-DELIVER, "no more messages to send" (bit 2), user-data header indicator (bit 6).
        bytes.append(0x04 | (header == nil ? 0 : 0x40))
        bytes += sender.encodedAsOriginatingAddress()
        bytes.append(protocolIdentifier)
        bytes.append(coding.dataCodingScheme)
        bytes += timestamp.encoded()
        let headerBytes = header.map { [UInt8($0.count)] + $0 } ?? []
        switch coding {
        case .gsm7:
            let fill = headerBytes.isEmpty ? 0 : (7 - (headerBytes.count * 8) % 7) % 7
            bytes.append(UInt8(septetCount))
            bytes += headerBytes
            // The header occupies whole octets; the septets continue after the fill bits.
            bytes += SeptetPacking.pack(payload, fillBits: fill)
        case .ucs2, .eightBit:
            bytes.append(UInt8(headerBytes.count + payload.count))
            bytes += headerBytes + payload
        }
        return SmsHex.encode(bytes)
    }
}
