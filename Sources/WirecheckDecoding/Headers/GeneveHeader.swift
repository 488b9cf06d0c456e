/// A Geneve header (RFC 8926): 8 fixed bytes and up to 252 bytes of options.
public struct GeneveHeader {
    public static let minimumLength = 8
    public static let udpPort: UInt16 = 6081

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 8-byte fixed header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= GeneveHeader.minimumLength else { return nil }
        self.bytes = bytes
    }

    public var version: UInt8 { bytes[0] >> 6 }
    /// The option length in bytes (the field counts 4-byte units).
    public var optionsLength: Int { Int(bytes[0] & 0x3f) * 4 }
    public var headerLength: Int { GeneveHeader.minimumLength + optionsLength }
    public var isControl: Bool { bytes[1] & 0x80 != 0 }
    /// The EtherType of the payload (0x6558 for Ethernet).
    public var protocolType: UInt16 { bytes.bigEndianUInt16(at: 2) ?? 0 }
    /// The 24-bit virtual network identifier.
    public var networkIdentifier: UInt32 { bytes.bigEndianUInt24(at: 4) ?? 0 }
}
