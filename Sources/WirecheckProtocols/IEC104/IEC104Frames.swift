/// A checked view of one APCI: start octet 0x68, the APDU length (4 to 253, counting the four
/// control octets and the ASDU), and the control field that makes the frame I, S or U.
struct IEC104APCI {
    static let startOctet: UInt8 = 0x68
    static let headerSize = 6
    static let minimumLength = 4
    static let maximumLength = 253

    enum Format: String {
        case i = "I"
        case s = "S"
        case u = "U"
    }

    let length: Int
    let control: (UInt8, UInt8, UInt8, UInt8)

    /// Reads the six header octets, or returns nil when fewer are present. The start octet and
    /// the length bounds are checked by the caller so each gets its own anomaly.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IEC104APCI.headerSize else { return nil }
        length = Int(bytes[1])
        control = (bytes[2], bytes[3], bytes[4], bytes[5])
    }

    var format: Format {
        if control.0 & 0x01 == 0 { return .i }
        return control.0 & 0x03 == 0x01 ? .s : .u
    }

    /// N(S), the 15-bit send sequence number of an I-frame.
    var sendSequence: UInt16 { (UInt16(control.0) | UInt16(control.1) << 8) >> 1 }
    /// N(R), the 15-bit receive sequence number of an I- or S-frame.
    var receiveSequence: UInt16 { (UInt16(control.2) | UInt16(control.3) << 8) >> 1 }
    var frameSize: Int { 2 + length }
}

/// The data unit identifier and information objects of an ASDU, as IEC 60870-5-104 lays them out:
/// 1-octet type id, variable structure qualifier, 2-octet cause of transmission (with the
/// originator address), 2-octet common address and 3-octet information object addresses.
struct IEC104ASDU {
    static let headerSize = 6
    static let addressSize = 3
    /// Information object addresses copied into the record; the rest are only counted.
    static let maxAddressesRecorded = 32

    let typeID: UInt8
    let isSequence: Bool
    let objectCount: Int
    let cause: UInt8
    let negative: Bool
    let test: Bool
    let originator: UInt8
    let commonAddress: UInt16
    /// The first information object addresses, at most `maxAddressesRecorded`.
    var addresses: [UInt32] = []
    var lowestAddress: UInt32?
    var highestAddress: UInt32?
    /// Octets the objects need according to the type's element size, or nil when unknown.
    var expectedSize: Int?
    let actualSize: Int

    /// Reads the data unit identifier, or returns nil when the ASDU is shorter than it.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IEC104ASDU.headerSize else { return nil }
        typeID = bytes[0]
        isSequence = bytes[1] & 0x80 != 0
        objectCount = Int(bytes[1] & 0x7F)
        cause = bytes[2] & 0x3F
        negative = bytes[2] & 0x40 != 0
        test = bytes[2] & 0x80 != 0
        originator = bytes[3]
        commonAddress = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        actualSize = bytes.count - IEC104ASDU.headerSize
        readAddresses(bytes)
    }

    /// Walks the information objects using the type's element size, recording addresses and the
    /// size the objects should take. F_SG_NA_1 reads its segment length from each element.
    private mutating func readAddresses(_ bytes: UnsafeRawBufferPointer) {
        guard let info = IEC104Names.type(typeID), objectCount > 0 else {
            expectedSize = IEC104Names.type(typeID) == nil ? nil : 0
            return
        }
        var offset = IEC104ASDU.headerSize
        var size = 0
        for position in 0..<objectCount {
            var address: UInt32?
            if position == 0 || !isSequence {
                if offset + IEC104ASDU.addressSize <= bytes.count {
                    address = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                }
                offset += IEC104ASDU.addressSize
                size += IEC104ASDU.addressSize
            } else if let first = addresses.first {
                // With SQ=1 only the first address is sent; the others follow it one by one.
                address = (first &+ UInt32(position)) & 0xFF_FFFF
            }
            if let address {
                if addresses.count < IEC104ASDU.maxAddressesRecorded { addresses.append(address) }
                lowestAddress = min(lowestAddress ?? address, address)
                highestAddress = max(highestAddress ?? address, address)
            }
            var elementSize: Int
            if let fixed = info.elementSize {
                elementSize = fixed
            } else {
                // F_SG_NA_1: name of file (2), name of section (1), length of segment (1), segment.
                guard offset + 4 <= bytes.count else {
                    expectedSize = size + 4
                    return
                }
                elementSize = 4 + Int(bytes[offset + 3])
            }
            offset += elementSize
            size += elementSize
        }
        expectedSize = size
    }
}
