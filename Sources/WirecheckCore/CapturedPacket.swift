/// A libpcap link-layer header type (`LINKTYPE_*` as stored in capture files; for the ones
/// Wirecheck decodes, the live `DLT_*` value is mapped to the same number).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW; DLT_RAW is 12 or 14 live).
    public static let raw = LinkType(rawValue: 101)
    /// OpenBSD loopback: like `null` but the family is always big-endian.
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    public static let supported: [LinkType] = [.null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2]

    public var description: String {
        switch self {
        case .null: return "NULL (BSD loopback)"
        case .ethernet: return "EN10MB (Ethernet)"
        case .raw: return "RAW (raw IP)"
        case .loop: return "LOOP (OpenBSD loopback)"
        case .linuxSLL: return "LINUX_SLL (Linux cooked v1)"
        case .ipv4: return "IPV4 (raw IPv4)"
        case .ipv6: return "IPV6 (raw IPv6)"
        case .linuxSLL2: return "LINUX_SLL2 (Linux cooked v2)"
        default: return "link type \(rawValue)"
        }
    }
}

/// One packet as read from a capture source. `bytes` is borrowed from the reader and is valid
/// only until the reader returns the next packet, so consumers copy what they keep.
public struct CapturedPacket {
    public var timestamp: Timestamp
    public var linkType: LinkType
    public var bytes: UnsafeRawBufferPointer
    /// Length of the packet on the wire; larger than `bytes.count` when the snapshot length cut it.
    public var originalLength: Int
    public var reference: PacketReference

    public init(timestamp: Timestamp, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
                reference: PacketReference) {
        self.timestamp = timestamp
        self.linkType = linkType
        self.bytes = bytes
        self.originalLength = originalLength
        self.reference = reference
    }
}
