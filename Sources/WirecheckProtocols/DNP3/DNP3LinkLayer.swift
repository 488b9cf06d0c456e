/// CRC-16/DNP: polynomial 0x3D65 processed bit-reflected (0xA6BC), initial value 0, final value
/// complemented, stored little-endian after each block. The check value of "123456789" is 0xEA82.
enum DNP3CRC {
    static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA6BC : crc >> 1
        }
        return crc
    }

    static func compute(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc >> 8) ^ table[Int((crc ^ UInt16(byte)) & 0xFF)]
        }
        return ~crc
    }

    /// Returns whether the two octets after `bytes[range]` are the CRC of that range.
    static func check(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard range.lowerBound >= 0, range.upperBound + 2 <= bytes.count else { return false }
        let stored = UInt16(bytes[range.upperBound]) | UInt16(bytes[range.upperBound + 1]) << 8
        return compute(UnsafeRawBufferPointer(rebasing: bytes[range])) == stored
    }
}

/// A checked view of the 10-octet DNP3 link header: start octets 0x05 0x64, LENGTH, CONTROL,
/// DESTINATION and SOURCE (little-endian), and the header CRC.
struct DNP3LinkHeader {
    static let size = 10
    static let startOctets: (UInt8, UInt8) = (0x05, 0x64)
    /// LENGTH counts CONTROL, DESTINATION and SOURCE (5 octets) plus the user data, without CRCs.
    static let minimumLength = 5
    /// User data travels in blocks of at most 16 octets, each followed by its CRC.
    static let blockSize = 16

    let length: UInt8
    let control: UInt8
    let destination: UInt16
    let source: UInt16

    /// Reads the header fields from the first 10 octets, or returns nil when fewer are present.
    /// Start octets and CRC are checked separately so each failure gets its own anomaly.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= DNP3LinkHeader.size else { return nil }
        length = bytes[2]
        control = bytes[3]
        destination = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        source = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
    }

    static func hasStartOctets(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> Bool {
        offset + 1 < bytes.count && bytes[offset] == startOctets.0 && bytes[offset + 1] == startOctets.1
    }

    /// DIR: 1 when the frame comes from the master.
    var fromMaster: Bool { control & 0x80 != 0 }
    /// PRM: 1 when the sender is the primary (initiating) station of this link transaction.
    var isPrimary: Bool { control & 0x40 != 0 }
    var linkFunction: UInt8 { control & 0x0F }
    var userDataLength: Int { max(0, Int(length) - DNP3LinkHeader.minimumLength) }

    /// Whole frame size on the wire: header, user data and one CRC per 16-octet block.
    var frameSize: Int {
        let data = userDataLength
        return DNP3LinkHeader.size + data + 2 * ((data + DNP3LinkHeader.blockSize - 1) / DNP3LinkHeader.blockSize)
    }

    /// Whether the frame carries transport and application data (confirmed or unconfirmed user data).
    var carriesUserData: Bool { isPrimary && (linkFunction == 3 || linkFunction == 4) && userDataLength > 0 }
}

enum DNP3LinkData {
    /// Copies the user data of a whole frame into `output` without its block CRCs, and returns
    /// the index of the first block whose CRC fails, or nil when all blocks are valid.
    static func extractUserData(frame: UnsafeRawBufferPointer, header: DNP3LinkHeader,
                                into output: inout [UInt8]) -> Int? {
        var remaining = header.userDataLength
        var offset = DNP3LinkHeader.size
        var block = 0
        var firstBadBlock: Int?
        while remaining > 0 {
            let count = min(remaining, DNP3LinkHeader.blockSize)
            guard offset + count + 2 <= frame.count else { return firstBadBlock ?? block }
            if firstBadBlock == nil && !DNP3CRC.check(frame, offset..<(offset + count)) {
                firstBadBlock = block
            }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: frame[offset..<(offset + count)]))
            offset += count + 2
            remaining -= count
            block += 1
        }
        return firstBadBlock
    }
}
