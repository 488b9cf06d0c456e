import WirecheckCore

/// The fixed IPv6 header (RFC 8200), 40 bytes.
public struct IPv6Header {
    enum Field {
        static let versionClassLabel = 0
        static let payloadLength = 4
        static let nextHeader = 6
        static let hopLimit = 7
        static let source = 8
        static let destination = 24
    }
    public static let length = 40

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 40-byte header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IPv6Header.length else { return nil }
        self.bytes = bytes
    }

    var versionClassLabel: UInt32 { bytes.bigEndianUInt32(at: Field.versionClassLabel) ?? 0 }
    public var version: UInt8 { UInt8(versionClassLabel >> 28) }
    public var trafficClass: UInt8 { UInt8((versionClassLabel >> 20) & 0xff) }
    public var flowLabel: UInt32 { versionClassLabel & 0x000f_ffff }
    /// The bytes after the fixed header, extension headers included.
    public var payloadLength: UInt16 { bytes.bigEndianUInt16(at: Field.payloadLength) ?? 0 }
    public var nextHeader: UInt8 { bytes[Field.nextHeader] }
    public var hopLimit: UInt8 { bytes[Field.hopLimit] }
    public var source: IPAddress {
        .v6(bytes.bigEndianUInt64(at: Field.source) ?? 0, bytes.bigEndianUInt64(at: Field.source + 8) ?? 0)
    }
    public var destination: IPAddress {
        .v6(bytes.bigEndianUInt64(at: Field.destination) ?? 0, bytes.bigEndianUInt64(at: Field.destination + 8) ?? 0)
    }
}
