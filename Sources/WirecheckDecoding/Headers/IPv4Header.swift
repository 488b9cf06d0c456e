import WirecheckCore

/// An IPv4 header (RFC 791), options included.
public struct IPv4Header {
    enum Field {
        static let versionAndIHL = 0
        static let typeOfService = 1
        static let totalLength = 2
        static let identification = 4
        static let flagsAndFragmentOffset = 6
        static let ttl = 8
        static let protocolNumber = 9
        static let checksum = 10
        static let source = 12
        static let destination = 16
        static let options = 20
    }
    public static let minimumLength = 20

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 20-byte fixed header. The header length
    /// field is not checked here; compare `headerLength` with the bytes before reading options.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= IPv4Header.minimumLength else { return nil }
        self.bytes = bytes
    }

    public var version: UInt8 { bytes[Field.versionAndIHL] >> 4 }
    /// The header length field (IHL) in 32-bit words.
    public var headerLengthWords: UInt8 { bytes[Field.versionAndIHL] & 0x0f }
    /// The header length in bytes, options included.
    public var headerLength: Int { Int(headerLengthWords) * 4 }
    public var typeOfService: UInt8 { bytes[Field.typeOfService] }
    public var totalLength: UInt16 { bytes.bigEndianUInt16(at: Field.totalLength) ?? 0 }
    public var identification: UInt16 { bytes.bigEndianUInt16(at: Field.identification) ?? 0 }
    var flagsAndFragmentOffset: UInt16 { bytes.bigEndianUInt16(at: Field.flagsAndFragmentOffset) ?? 0 }
    public var dontFragment: Bool { flagsAndFragmentOffset & 0x4000 != 0 }
    public var moreFragments: Bool { flagsAndFragmentOffset & 0x2000 != 0 }
    /// The fragment offset in bytes (the field counts 8-byte units).
    public var fragmentOffset: Int { Int(flagsAndFragmentOffset & 0x1fff) * 8 }
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    public var ttl: UInt8 { bytes[Field.ttl] }
    public var protocolNumber: UInt8 { bytes[Field.protocolNumber] }
    public var checksum: UInt16 { bytes.bigEndianUInt16(at: Field.checksum) ?? 0 }
    public var source: UInt32 { bytes.bigEndianUInt32(at: Field.source) ?? 0 }
    public var destination: UInt32 { bytes.bigEndianUInt32(at: Field.destination) ?? 0 }
    /// The option bytes, clamped to what was captured.
    public var options: UnsafeRawBufferPointer { bytes.clampedSlice(from: Field.options, to: headerLength) }

    /// True when the header checksum over `headerLength` bytes is correct; false when it is
    /// wrong or the header was not captured whole.
    public var isChecksumValid: Bool {
        guard headerLength >= IPv4Header.minimumLength, headerLength <= bytes.count else { return false }
        return InternetChecksum.finish(InternetChecksum.add(bytes.clampedSlice(from: 0, to: headerLength), to: 0)) == 0
    }
}
