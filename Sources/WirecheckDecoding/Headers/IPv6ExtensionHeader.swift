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
