import WirecheckCore

/// The Linux cooked-mode capture header, version 1 (LINKTYPE_LINUX_SLL, 16 bytes).
public struct LinuxCookedHeader {
    enum Field {
        static let packetType = 0
        static let addressType = 2
        static let addressLength = 4
        static let address = 6
        static let protocolType = 14
    }
    public static let length = 16

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 16-byte header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= LinuxCookedHeader.length else { return nil }
        self.bytes = bytes
    }

    /// 0 to the host, 1 broadcast, 2 multicast, 3 to another host, 4 sent by the host.
    public var packetType: UInt16 { bytes.bigEndianUInt16(at: Field.packetType) ?? 0 }
    /// The ARPHRD_ device type (1 is Ethernet).
    public var addressType: UInt16 { bytes.bigEndianUInt16(at: Field.addressType) ?? 0 }
    public var addressLength: UInt16 { bytes.bigEndianUInt16(at: Field.addressLength) ?? 0 }
    /// The sender's link-layer address when it is a 6-byte Ethernet address.
    public var sourceMAC: MACAddress? {
        guard addressType == LinuxCookedHeader.ethernetDevice, addressLength == 6,
              let bits = bytes.macAddress(at: Field.address) else { return nil }
        return MACAddress(bits)
    }
    /// The EtherType of the payload (values below 0x0600 are Linux pseudo-protocols).
    public var protocolType: UInt16 { bytes.bigEndianUInt16(at: Field.protocolType) ?? 0 }

    static let ethernetDevice: UInt16 = 1
}
