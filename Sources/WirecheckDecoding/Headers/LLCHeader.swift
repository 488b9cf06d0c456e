/// An IEEE 802.2 LLC header and, when DSAP and SSAP are 0xAA, the SNAP extension that carries
/// an EtherType (RFC 1042).
public struct LLCHeader {
    enum Field {
        static let dsap = 0
        static let ssap = 1
        static let control = 2
        static let organizationCode = 3
        static let etherType = 6
    }
    public static let length = 3
    public static let snapLength = 8
    static let snapSAP: UInt8 = 0xAA

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 3-byte LLC header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= LLCHeader.length else { return nil }
        self.bytes = bytes
    }

    public var dsap: UInt8 { bytes[Field.dsap] }
    public var ssap: UInt8 { bytes[Field.ssap] }
    public var control: UInt8 { bytes[Field.control] }
    /// True when the header announces SNAP and the 5 SNAP bytes were captured.
    public var hasSNAP: Bool {
        dsap == LLCHeader.snapSAP && ssap == LLCHeader.snapSAP && bytes.count >= LLCHeader.snapLength
    }
    /// The SNAP organization code (0 for an encapsulated EtherType), when `hasSNAP`.
    public var organizationCode: UInt32? { hasSNAP ? bytes.bigEndianUInt24(at: Field.organizationCode) : nil }
    /// The SNAP EtherType, when `hasSNAP`.
    public var etherType: UInt16? { hasSNAP ? bytes.bigEndianUInt16(at: Field.etherType) : nil }
}
