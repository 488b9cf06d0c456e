import WirecheckCore

/// The Linux cooked-mode capture header, version 2 (LINKTYPE_LINUX_SLL2, 20 bytes), which adds
/// the interface index.
public struct LinuxCookedV2Header {
    enum Field {
        static let protocolType = 0
        static let interfaceIndex = 4
        static let addressType = 8
        static let packetType = 10
        static let addressLength = 11
        static let address = 12
    }
    public static let length = 20

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 20-byte header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= LinuxCookedV2Header.length else { return nil }
        self.bytes = bytes
    }

    public var protocolType: UInt16 { bytes.bigEndianUInt16(at: Field.protocolType) ?? 0 }
    public var interfaceIndex: UInt32 { bytes.bigEndianUInt32(at: Field.interfaceIndex) ?? 0 }
    public var addressType: UInt16 { bytes.bigEndianUInt16(at: Field.addressType) ?? 0 }
    public var packetType: UInt8 { bytes[Field.packetType] }
    public var addressLength: UInt8 { bytes[Field.addressLength] }
    public var sourceMAC: MACAddress? {
        guard addressType == LinuxCookedHeader.ethernetDevice, addressLength == 6,
              let bits = bytes.macAddress(at: Field.address) else { return nil }
        return MACAddress(bits)
    }
}
