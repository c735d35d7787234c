import Foundation

/// An SMS-DELIVER TPDU as a modem in PDU mode prints it (the SMSC address first): TS 23.040 §9.2.2.1.
public struct SmsDeliver: Hashable, Sendable {
    public var serviceCentre: SmsAddress?
    public var sender: SmsAddress
    public var protocolIdentifier: UInt8
    public var dataCoding: SmsDataCoding
    public var timestamp: SmsTimestamp
    /// Set when the user-data header carries a (valid) concatenation element.
    public var concatenation: SmsConcatenation?
    /// The user-data header's raw octets (without its length octet), empty when there is none.
    public var userDataHeader: [UInt8]
    /// The user data after the header: septet values for GSM 7-bit, octets otherwise.
    public var userData: [UInt8]
    /// The text of this part (8-bit data: see `text(ofEightBit:)`).
    public var text: String

    /// Decodes one PDU from its hex form.
    public static func decode(hex: String) throws(SmsPduError) -> SmsDeliver {
        let bytes = try SmsHex.decode(hex)
        return try decode(bytes, hex: hex)
    }

    public static func decode(_ bytes: [UInt8], hex: String? = nil) throws(SmsPduError) -> SmsDeliver {
        var reader = SmsPduReader(bytes: bytes, hex: hex ?? SmsHex.encode(bytes))
        return try reader.readDeliver()
    }

    /// 8-bit data is binary by definition, but alarm transmitters often put ASCII in it: show it as text when
    /// it is printable, as hex otherwise, so an operator can read either.
    static func text(ofEightBit data: [UInt8]) -> String {
        let printable = data.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D }
        return printable ? String(decoding: data, as: UTF8.self) : "[8-bit data] " + SmsHex.encode(data)
    }
}

/// A cursor over the PDU octets: each read checks the bounds and names the field in its error.
struct SmsPduReader {
    let bytes: [UInt8]
    let hex: String
    var offset = 0

    init(bytes: [UInt8], hex: String) {
        self.bytes = bytes
        self.hex = hex
    }

    func fail(_ code: SmsPduError.Code, _ detail: String, at position: Int? = nil) -> SmsPduError {
        SmsPduError(code, offset: position ?? offset, pduHex: hex, detail: detail)
    }

    mutating func octet(_ field: String) throws(SmsPduError) -> UInt8 {
        guard offset < bytes.count else { throw fail(.truncated, "missing \(field)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func octets(_ count: Int, _ field: String) throws(SmsPduError) -> ArraySlice<UInt8> {
        guard count >= 0, offset + count <= bytes.count else {
            throw fail(.truncated, "\(field) needs \(count) octets, \(bytes.count - offset) left")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func readDeliver() throws(SmsPduError) -> SmsDeliver {
        let serviceCentre = try readServiceCentre()
        let firstOctet = try octet("first octet")
        guard firstOctet & 0x03 == 0 else {
            throw fail(.unsupportedMessageType, "message type indicator \(firstOctet & 0x03) is not SMS-DELIVER", at: offset - 1)
        }
        let hasHeader = firstOctet & 0x40 != 0
        let sender = try readOriginatingAddress()
        let protocolIdentifier = try octet("TP-PID")
        let dataCoding = SmsDataCoding(dataCodingScheme: try octet("TP-DCS"))
        let stampStart = offset
        guard let timestamp = SmsTimestamp.decode(try octets(7, "TP-SCTS")) else {
            throw fail(.invalidTimestamp, "service-centre time stamp", at: stampStart)
        }
        let length = Int(try octet("TP-UDL"))
        let (header, data) = try readUserData(length: length, coding: dataCoding, hasHeader: hasHeader)
        let text: String
        switch dataCoding {
        case .gsm7:
            text = GsmAlphabet.decode(data)
        case .ucs2:
            guard data.count % 2 == 0 else { throw fail(.invalidUCS2, "\(data.count) octets of UCS2") }
            let units = stride(from: 0, to: data.count, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
            text = String(decoding: units, as: UTF16.self)
        case .eightBit:
            text = SmsDeliver.text(ofEightBit: data)
        }
        return SmsDeliver(serviceCentre: serviceCentre, sender: sender, protocolIdentifier: protocolIdentifier,
                          dataCoding: dataCoding, timestamp: timestamp,
                          concatenation: try Self.concatenation(in: header, reader: self), userDataHeader: header,
                          userData: data, text: text)
    }

    mutating func readServiceCentre() throws(SmsPduError) -> SmsAddress? {
        let length = Int(try octet("SMSC length"))
        guard length > 0 else { return nil }
        guard length <= 11 else { throw fail(.badLength, "SMSC length \(length) > 11", at: offset - 1) }
        let typeOfAddress = try octet("SMSC type of address")
        let digits = try octets(length - 1, "SMSC digits")
        let kind = SmsAddress.kind(typeOfAddress: typeOfAddress)
        let value = SmsAddress.decodeDigits(digits, count: digits.count * 2)
        return SmsAddress(kind: kind, value: kind == .international ? "+" + value : value, typeOfAddress: typeOfAddress)
    }

    mutating func readOriginatingAddress() throws(SmsPduError) -> SmsAddress {
        let digitCount = Int(try octet("TP-OA length"))
        guard digitCount <= 20 else { throw fail(.badLength, "address of \(digitCount) digits", at: offset - 1) }
        let typeOfAddress = try octet("TP-OA type of address")
        let value = try octets((digitCount + 1) / 2, "TP-OA digits")
        let kind = SmsAddress.kind(typeOfAddress: typeOfAddress)
        switch kind {
        case .alphanumeric:
            let septets = SeptetPacking.unpack(value, count: digitCount * 4 / 7)
            return SmsAddress(kind: kind, value: GsmAlphabet.decode(septets), typeOfAddress: typeOfAddress)
        case .international:
            return SmsAddress(kind: kind, value: "+" + SmsAddress.decodeDigits(value, count: digitCount), typeOfAddress: typeOfAddress)
        default:
            return SmsAddress(kind: kind, value: SmsAddress.decodeDigits(value, count: digitCount), typeOfAddress: typeOfAddress)
        }
    }

    /// Splits TP-UD into the header octets and the payload (septet values for GSM 7-bit). For 7-bit text the
    /// header is followed by fill bits up to the next septet boundary, so the payload starts at septet
    /// ceil((UDHL + 1) * 8 / 7).
    mutating func readUserData(length: Int, coding: SmsDataCoding, hasHeader: Bool) throws(SmsPduError) -> ([UInt8], [UInt8]) {
        let start = offset
        let octetCount: Int
        switch coding {
        case .gsm7:
            guard length <= 160 else { throw fail(.badLength, "TP-UDL \(length) septets > 160", at: start - 1) }
            octetCount = SeptetPacking.octetCount(septets: length)
        case .eightBit, .ucs2:
            guard length <= 140 else { throw fail(.badLength, "TP-UDL \(length) octets > 140", at: start - 1) }
            octetCount = length
        }
        let userData = try octets(octetCount, "TP-UD")
        var header: [UInt8] = []
        var headerOctets = 0
        if hasHeader {
            guard let headerLength = userData.first.map(Int.init), headerLength + 1 <= userData.count else {
                throw fail(.invalidUserDataHeader, "user-data header longer than the user data", at: start)
            }
            header = Array(userData.dropFirst().prefix(headerLength))
            headerOctets = headerLength + 1
        }
        switch coding {
        case .gsm7:
            let headerSeptets = (headerOctets * 8 + 6) / 7
            guard headerSeptets <= length else {
                throw fail(.invalidUserDataHeader, "header of \(headerSeptets) septets in \(length)", at: start)
            }
            return (header, Array(SeptetPacking.unpack(userData, count: length).dropFirst(headerSeptets)))
        case .eightBit, .ucs2:
            return (header, Array(userData.dropFirst(headerOctets)))
        }
    }

    /// The concatenation element, if the header has a valid one. Elements are IEI, length, data; an element
    /// that runs past the header is an error, while a concatenation element with impossible numbers is
    /// ignored as TS 23.040 §9.2.3.24.1 requires (the part is then treated as a whole message).
    static func concatenation(in header: [UInt8], reader: SmsPduReader) throws(SmsPduError) -> SmsConcatenation? {
        var index = 0
        var found: SmsConcatenation?
        while index < header.count {
            guard index + 1 < header.count else {
                throw reader.fail(.invalidUserDataHeader, "element \(header[index]) without a length")
            }
            let identifier = header[index], length = Int(header[index + 1])
            guard index + 2 + length <= header.count else {
                throw reader.fail(.invalidUserDataHeader, "element \(identifier) of \(length) octets runs past the header")
            }
            let data = header[(index + 2)..<(index + 2 + length)]
            let bytes = Array(data)
            if identifier == 0x00, length == 3 {
                found = SmsConcatenation(reference: Int(bytes[0]), total: Int(bytes[1]), sequence: Int(bytes[2]))
            } else if identifier == 0x08, length == 4 {
                found = SmsConcatenation(reference: Int(bytes[0]) << 8 | Int(bytes[1]), total: Int(bytes[2]),
                                         sequence: Int(bytes[3]), sixteenBitReference: true)
            }
            index += 2 + length
        }
        if let concatenation = found, concatenation.total == 0 || concatenation.sequence == 0
            || concatenation.sequence > concatenation.total {
            return nil
        }
        return found
    }
}
