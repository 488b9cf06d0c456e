import WirecheckCore

/// The Ethernet header of a built frame. VLAN identifiers are written outer first, the outer
/// one with the 802.1ad TPID when there are two or more.
public struct EthernetSpec: Sendable {
    public var source: MACAddress
    public var destination: MACAddress
    public var vlans: [UInt16]

    public init(source: MACAddress, destination: MACAddress, vlans: [UInt16] = []) {
        self.source = source
        self.destination = destination
        self.vlans = vlans
    }

    /// The same link seen from the other side.
    public var reversed: EthernetSpec { EthernetSpec(source: destination, destination: source, vlans: vlans) }
}

/// An IPv6 extension header to place between the fixed header and the upper layer. The body
/// starts after the next-header and length bytes and is zero-padded to the header's unit.
public struct IPv6ExtensionSpec: Sendable {
    public var headerNumber: UInt8
    public var body: [UInt8]

    public init(headerNumber: UInt8, body: [UInt8] = []) {
        self.headerNumber = headerNumber
        self.body = body
    }
}

/// The IP header of a built packet. The version follows the address family of `source`.
public struct IPSpec: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8
    public var identification: UInt16
    public var dontFragment: Bool
    public var typeOfService: UInt8
    /// IPv4 option bytes, zero-padded to a multiple of 4. IPv6 packets ignore them.
    public var options: [UInt8]
    /// IPv6 extension headers in order. IPv4 packets ignore them.
    public var extensionHeaders: [IPv6ExtensionSpec]

    public init(source: IPAddress, destination: IPAddress, ttl: UInt8 = 64, identification: UInt16 = 0,
                dontFragment: Bool = false, typeOfService: UInt8 = 0, options: [UInt8] = [],
                extensionHeaders: [IPv6ExtensionSpec] = []) {
        self.source = source
        self.destination = destination
        self.ttl = ttl
        self.identification = identification
        self.dontFragment = dontFragment
        self.typeOfService = typeOfService
        self.options = options
        self.extensionHeaders = extensionHeaders
    }

    public var reversed: IPSpec {
        var copy = self
        swap(&copy.source, &copy.destination)
        return copy
    }
}

/// TCP header flag bits, as in the header's 9-bit flags field.
public struct TCPHeaderFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPHeaderFlags(rawValue: 0x001)
    public static let syn = TCPHeaderFlags(rawValue: 0x002)
    public static let rst = TCPHeaderFlags(rawValue: 0x004)
    public static let psh = TCPHeaderFlags(rawValue: 0x008)
    public static let ack = TCPHeaderFlags(rawValue: 0x010)
    public static let urg = TCPHeaderFlags(rawValue: 0x020)
    public static let ece = TCPHeaderFlags(rawValue: 0x040)
    public static let cwr = TCPHeaderFlags(rawValue: 0x080)
    public static let ns = TCPHeaderFlags(rawValue: 0x100)
}

/// One TCP option to write.
public enum TCPOptionSpec: Sendable {
    case endOfOptionList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack([(UInt32, UInt32)])
    case timestamps(value: UInt32, echo: UInt32)
    case fastOpen(cookie: [UInt8])
    /// Bytes written as they are, for options of any kind or deliberately malformed ones.
    case raw([UInt8])
}

/// The TCP header of a built segment.
public struct TCPSpec: Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgement: UInt32
    public var flags: TCPHeaderFlags
    public var window: UInt16
    public var urgentPointer: UInt16
    /// Options, padded with zero bytes (end of option list) to a multiple of 4.
    public var options: [TCPOptionSpec]

    public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32 = 0, acknowledgement: UInt32 = 0,
                flags: TCPHeaderFlags = .ack, window: UInt16 = 65_535, urgentPointer: UInt16 = 0,
                options: [TCPOptionSpec] = []) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgement = acknowledgement
        self.flags = flags
        self.window = window
        self.urgentPointer = urgentPointer
        self.options = options
    }
}
