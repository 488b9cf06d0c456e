/// An IEEE 802.1Q tag (after TPID 0x8100) or 802.1ad service tag (TPID 0x88A8, or the older
/// 0x9100): 4 bytes of tag control information and the next EtherType.
public struct VLANHeader {
    enum Field {
        static let tagControl = 0
        static let etherType = 2
    }
    public static let length = 4

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 4-byte tag.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= VLANHeader.length else { return nil }
        self.bytes = bytes
    }

    var tagControl: UInt16 { bytes.bigEndianUInt16(at: Field.tagControl) ?? 0 }
    /// Priority code point (802.1p), 0 to 7.
    public var priority: UInt8 { UInt8(tagControl >> 13) }
    /// Drop eligible indicator.
    public var dropEligible: Bool { tagControl & 0x1000 != 0 }
    /// VLAN identifier, 0 to 4095.
    public var identifier: UInt16 { tagControl & 0x0fff }
    public var etherType: UInt16 { bytes.bigEndianUInt16(at: Field.etherType) ?? 0 }
}
