/// The 4-byte address family header of BSD loopback captures. LINKTYPE_NULL stores the family
/// in the capturing host's byte order, and LINKTYPE_LOOP always stores it big-endian.
public struct LoopbackHeader {
    public static let length = 4

    /// The network layer the family names.
    public enum Family: Equatable {
        case ipv4
        case ipv6
        case other(UInt32)
    }

    public let bytes: UnsafeRawBufferPointer
    public let isAlwaysBigEndian: Bool

    /// Returns nil when `bytes` is shorter than 4 bytes. Pass `isAlwaysBigEndian` for LOOP.
    public init?(_ bytes: UnsafeRawBufferPointer, isAlwaysBigEndian: Bool) {
        guard bytes.count >= LoopbackHeader.length else { return nil }
        self.bytes = bytes
        self.isAlwaysBigEndian = isAlwaysBigEndian
    }

    /// AF_INET is 2 everywhere. AF_INET6 is 24 on NetBSD and OpenBSD, 28 on FreeBSD and 30 on
    /// macOS, so a capture from any of them is read as IPv6.
    static func family(of value: UInt32) -> Family? {
        switch value {
        case 2: return .ipv4
        case 24, 28, 30: return .ipv6
        default: return nil
        }
    }

    /// The address family. For NULL, both byte orders are tried because the capture file does
    /// not record which host wrote it.
    public var family: Family {
        let bigEndian = bytes.bigEndianUInt32(at: 0) ?? 0
        if isAlwaysBigEndian { return LoopbackHeader.family(of: bigEndian) ?? .other(bigEndian) }
        let littleEndian = bytes.littleEndianUInt32(at: 0) ?? 0
        return LoopbackHeader.family(of: littleEndian) ?? LoopbackHeader.family(of: bigEndian) ?? .other(littleEndian)
    }
}
