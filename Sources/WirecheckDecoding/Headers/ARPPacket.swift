import WirecheckCore

/// An ARP packet (RFC 826). Only Ethernet/IPv4 ARP (hardware size 6, protocol size 4) is
/// turned into `ARPFields`; the sizes are checked by `isEthernetIPv4`.
public struct ARPPacket {
    enum Field {
        static let hardwareType = 0
        static let protocolType = 2
        static let hardwareSize = 4
        static let protocolSize = 5
        static let operation = 6
        static let addresses = 8
    }
    /// The fixed part before the variable-size addresses.
    public static let fixedLength = 8
    /// The length of an Ethernet/IPv4 ARP packet.
    public static let ethernetIPv4Length = 28

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 8-byte fixed part.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= ARPPacket.fixedLength else { return nil }
        self.bytes = bytes
    }

    public var hardwareType: UInt16 { bytes.bigEndianUInt16(at: Field.hardwareType) ?? 0 }
    public var protocolType: UInt16 { bytes.bigEndianUInt16(at: Field.protocolType) ?? 0 }
    public var hardwareSize: UInt8 { bytes[Field.hardwareSize] }
    public var protocolSize: UInt8 { bytes[Field.protocolSize] }
    /// 1 is a request and 2 a reply.
    public var operation: UInt16 { bytes.bigEndianUInt16(at: Field.operation) ?? 0 }

    /// The bytes the sizes announce: the fixed part and two address pairs.
    public var announcedLength: Int { ARPPacket.fixedLength + 2 * (Int(hardwareSize) + Int(protocolSize)) }

    public var isEthernetIPv4: Bool {
        hardwareType == 1 && protocolType == 0x0800 && hardwareSize == 6 && protocolSize == 4
    }

    /// The Ethernet/IPv4 fields, or nil when the sizes differ or the addresses were not captured.
    public var ethernetIPv4Fields: ARPFields? {
        guard isEthernetIPv4, bytes.count >= ARPPacket.ethernetIPv4Length,
              let senderMAC = bytes.macAddress(at: 8), let senderIP = bytes.bigEndianUInt32(at: 14),
              let targetMAC = bytes.macAddress(at: 18), let targetIP = bytes.bigEndianUInt32(at: 24) else { return nil }
        return ARPFields(operation: operation, senderMAC: MACAddress(senderMAC), senderIP: senderIP,
                         targetMAC: MACAddress(targetMAC), targetIP: targetIP)
    }
}
