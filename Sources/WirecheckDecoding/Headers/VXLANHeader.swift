/// A VXLAN header (RFC 7348), 8 bytes, followed by an Ethernet frame.
public struct VXLANHeader {
    public static let length = 8
    public static let udpPort: UInt16 = 4789

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than 8 bytes.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= VXLANHeader.length else { return nil }
        self.bytes = bytes
    }

    public var flags: UInt8 { bytes[0] }
    /// True when the I flag says the VNI is valid.
    public var hasValidIdentifier: Bool { flags & 0x08 != 0 }
    /// The 24-bit VXLAN network identifier.
    public var networkIdentifier: UInt32 { bytes.bigEndianUInt24(at: 4) ?? 0 }
}
