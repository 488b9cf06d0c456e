/// A UDP header (RFC 768), 8 bytes.
public struct UDPHeader {
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let length = 4
        static let checksum = 6
    }
    public static let length = 8

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than 8 bytes.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= UDPHeader.length else { return nil }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.bigEndianUInt16(at: Field.sourcePort) ?? 0 }
    public var destinationPort: UInt16 { bytes.bigEndianUInt16(at: Field.destinationPort) ?? 0 }
    /// The length of header and payload in bytes.
    public var length: UInt16 { bytes.bigEndianUInt16(at: Field.length) ?? 0 }
    /// The checksum, 0 when the sender did not compute one (allowed over IPv4).
    public var checksum: UInt16 { bytes.bigEndianUInt16(at: Field.checksum) ?? 0 }
}
