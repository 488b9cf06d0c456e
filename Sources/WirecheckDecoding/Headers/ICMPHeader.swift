/// The common first 8 bytes of an ICMP (RFC 792) or ICMPv6 (RFC 4443) message: type, code,
/// checksum and 4 type-specific bytes (identifier and sequence number for echo messages).
public struct ICMPHeader {
    enum Field {
        static let type = 0
        static let code = 1
        static let checksum = 2
        static let identifier = 4
        static let sequenceNumber = 6
    }
    public static let length = 8

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than 8 bytes.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= ICMPHeader.length else { return nil }
        self.bytes = bytes
    }

    public var type: UInt8 { bytes[Field.type] }
    public var code: UInt8 { bytes[Field.code] }
    public var checksum: UInt16 { bytes.bigEndianUInt16(at: Field.checksum) ?? 0 }
    /// The echo identifier (meaningful for echo request and reply only).
    public var identifier: UInt16 { bytes.bigEndianUInt16(at: Field.identifier) ?? 0 }
    /// The echo sequence number (meaningful for echo request and reply only).
    public var sequenceNumber: UInt16 { bytes.bigEndianUInt16(at: Field.sequenceNumber) ?? 0 }
}
