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

/// IPv6 extension header numbers that the decoder walks past.
public enum IPv6ExtensionHeaderNumber {
    public static let hopByHop: UInt8 = 0
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let encapsulatingSecurityPayload: UInt8 = 50
    public static let authentication: UInt8 = 51
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
}

/// A generic IPv6 extension header: hop-by-hop or destination options, routing, or the
/// authentication header (whose length field counts 4-byte units, not 8-byte units).
public struct IPv6ExtensionHeader {
    public static let minimumLength = 8

    public let bytes: UnsafeRawBufferPointer
    public let headerNumber: UInt8

    /// Returns nil when `bytes` is shorter than the first 2 bytes of the header.
    public init?(_ bytes: UnsafeRawBufferPointer, headerNumber: UInt8) {
        guard bytes.count >= 2 else { return nil }
        self.bytes = bytes
        self.headerNumber = headerNumber
    }

    public var nextHeader: UInt8 { bytes[0] }
    /// The header length in bytes: (n + 1) * 8, or (n + 2) * 4 for the authentication header.
    public var length: Int {
        headerNumber == IPv6ExtensionHeaderNumber.authentication ? (Int(bytes[1]) + 2) * 4 : (Int(bytes[1]) + 1) * 8
    }
}

/// The IPv6 fragment header (RFC 8200 section 4.5), 8 bytes.
public struct IPv6FragmentHeader {
    public static let length = 8

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than 8 bytes.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IPv6FragmentHeader.length else { return nil }
        self.bytes = bytes
    }

    public var nextHeader: UInt8 { bytes[0] }
    var offsetAndFlags: UInt16 { bytes.bigEndianUInt16(at: 2) ?? 0 }
    /// The fragment offset in bytes (the field counts 8-byte units).
    public var fragmentOffset: Int { Int(offsetAndFlags >> 3) * 8 }
    public var moreFragments: Bool { offsetAndFlags & 1 != 0 }
    public var identification: UInt32 { bytes.bigEndianUInt32(at: 4) ?? 0 }
}
