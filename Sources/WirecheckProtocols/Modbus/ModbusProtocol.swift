import WirecheckCore

/// Modbus/TCP (MBAP framing over TCP, and the same framing over UDP).
public enum ModbusProtocol: ApplicationProtocol {
    public static let name = "modbus"
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [502], .udp: [502]]

    /// Matches a complete first frame with protocol id 0, length 2 to 254 and a public function
    /// code (or its exception form from a server). The PDU length must fit the function code,
    /// and when more bytes follow, the next header's protocol id must be 0 too.
    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        if bytes.count >= 4, bytes[2] != 0 || bytes[3] != 0 { return .noMatch }
        if bytes.count >= 6 {
            let length = Int(bytes[4]) << 8 | Int(bytes[5])
            if length < ModbusFrame.minimumLengthField || length > ModbusFrame.maximumLengthField { return .noMatch }
        }
        guard bytes.count >= ModbusFrame.headerSize + 1 else { return .needMoreData }

        let functionCode = bytes[ModbusFrame.headerSize]
        let isException = functionCode & 0x80 != 0
        let frameSize = ModbusFrame.lengthOffset + 2 + (Int(bytes[4]) << 8 | Int(bytes[5]))
        guard ModbusFunctionCodes.function(functionCode & 0x7f) != nil else {
            // An undefined function code is still Modbus when the MBAP header frames the bytes
            // exactly: protocol id 0 and a length that ends the frame at the end of the segment.
            // The parser then reports the function code; random bytes rarely frame this way.
            return bytes.count == frameSize && functionCode & 0x7f != 0 ? .match : .noMatch
        }
        if isException && direction == .toServer { return .noMatch }

        guard bytes.count >= frameSize else { return transport == .udp ? .noMatch : .needMoreData }

        let pdu = ModbusPDU(UnsafeRawBufferPointer(rebasing: bytes[ModbusFrame.headerSize..<frameSize]))
        if isException {
            // An exception PDU is two bytes; a longer one still frames as Modbus when it fills
            // the segment exactly, and the parser reports the length.
            let lengthFits = pdu.count == 2 || (pdu.count > 2 && bytes.count == frameSize)
            guard lengthFits, let code = pdu.u8(1), ModbusFunctionCodes.exceptionCodes[code] != nil else { return .noMatch }
        } else if !ModbusPDULayout.fits(pdu, isRequest: direction == .toServer) {
            return .noMatch
        }

        if bytes.count >= frameSize + 4, bytes[frameSize + 2] != 0 || bytes[frameSize + 3] != 0 { return .noMatch }
        return .match
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        ModbusParser(transport: transport)
    }
}

/// MBAP header layout (Modbus Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3).
enum ModbusFrame {
    static let transactionIDOffset = 0
    static let protocolIDOffset = 2
    static let lengthOffset = 4
    static let unitIDOffset = 6
    /// MBAP header size; the PDU (function code first) follows.
    static let headerSize = 7
    /// The length field counts the unit id and the PDU, so a function code alone gives 2.
    static let minimumLengthField = 2
    /// One unit id byte plus the 253-byte maximum PDU.
    static let maximumLengthField = 254
    static let maximumFrameSize = lengthOffset + 2 + maximumLengthField
}

/// A checked view over one PDU (function code at offset 0). Reads return nil past the end.
struct ModbusPDU {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }

    func u8(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    /// Big-endian, as every Modbus field is.
    func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    func slice(_ offset: Int, _ length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset + length <= bytes.count else { return nil }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
    }
}

/// The PDU length each function code implies (spec section 6), used by the probe and by the
/// `invalid_length` check.
enum ModbusPDULayout {
    /// Returns the smallest PDU that contains the fixed fields, and the exact PDU length when the fields
    /// present determine it (nil for variable-length messages such as diagnostics).
    static func expectedLength(_ pdu: ModbusPDU, isRequest: Bool) -> (minimum: Int, exact: Int?) {
        guard let functionCode = pdu.u8(0) else { return (1, nil) }
        if functionCode & 0x80 != 0 { return (2, isRequest ? nil : 2) }

        func counted(_ countOffset: Int, plus fixed: Int) -> (minimum: Int, exact: Int?) {
            guard let byteCount = pdu.u8(countOffset) else { return (countOffset + 1, nil) }
            return (fixed, fixed + Int(byteCount))
        }

        if isRequest {
            switch functionCode {
            case 1, 2, 3, 4, 5, 6: return (5, 5)
            case 7, 11, 12, 17: return (1, 1)
            case 8: return (3, nil)
            case 15, 16: return counted(5, plus: 6)
            case 20, 21: return counted(1, plus: 2)
            case 22: return (7, 7)
            case 23: return counted(9, plus: 10)
            case 24: return (3, 3)
            case 43: return (2, nil)
            default: return (1, nil)
            }
        }
        switch functionCode {
        case 1, 2, 3, 4, 12, 17, 20, 21, 23: return counted(1, plus: 2)
        case 5, 6, 11, 15, 16: return (5, 5)
        case 7: return (2, 2)
        case 8: return (3, nil)
        case 22: return (7, 7)
        case 24:
            guard let byteCount = pdu.u16(1) else { return (3, nil) }
            return (3, 3 + Int(byteCount))
        case 43: return (2, nil)
        default: return (1, nil)
        }
    }

    static func fits(_ pdu: ModbusPDU, isRequest: Bool) -> Bool {
        let expected = expectedLength(pdu, isRequest: isRequest)
        if pdu.count < expected.minimum { return false }
        if let exact = expected.exact, pdu.count != exact { return false }
        return true
    }
}
