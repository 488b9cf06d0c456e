/// A GRE header: RFC 2784 with the key and sequence extensions of RFC 2890 (version 0), or the
/// enhanced GRE of PPTP (RFC 2637, version 1) with its optional acknowledgement number.
public struct GREHeader {
    enum Flag {
        static let checksum: UInt16 = 0x8000
        static let routing: UInt16 = 0x4000
        static let key: UInt16 = 0x2000
        static let sequence: UInt16 = 0x1000
        static let acknowledgement: UInt16 = 0x0080
    }
    public static let minimumLength = 4
    /// The IP protocol number of GRE.
    public static let ipProtocolNumber: UInt8 = 47

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 4-byte base header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= GREHeader.minimumLength else { return nil }
        self.bytes = bytes
    }

    var flagsAndVersion: UInt16 { bytes.bigEndianUInt16(at: 0) ?? 0 }
    public var version: UInt8 { UInt8(flagsAndVersion & 0x7) }
    public var hasChecksum: Bool { flagsAndVersion & Flag.checksum != 0 }
    /// The RFC 1701 routing bit; its source route entries are not decoded.
    public var hasRouting: Bool { flagsAndVersion & Flag.routing != 0 }
    public var hasKey: Bool { flagsAndVersion & Flag.key != 0 }
    public var hasSequence: Bool { flagsAndVersion & Flag.sequence != 0 }
    public var hasAcknowledgement: Bool { version == 1 && flagsAndVersion & Flag.acknowledgement != 0 }
    /// The EtherType of the payload (0x6558 for bridged Ethernet).
    public var protocolType: UInt16 { bytes.bigEndianUInt16(at: 2) ?? 0 }

    /// The header length the flags announce, before the payload.
    public var headerLength: Int {
        var length = GREHeader.minimumLength
        if hasChecksum || hasRouting { length += 4 }
        if hasKey { length += 4 }
        if hasSequence { length += 4 }
        if hasAcknowledgement { length += 4 }
        return length
    }
}
