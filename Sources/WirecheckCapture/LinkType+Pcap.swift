import CPcap
import WirecheckCore

extension LinkType {
    /// Maps libpcap's `pcap_datalink` value (a `DLT_*` number) to a link type Wirecheck decodes,
    /// or returns nil for any other value.
    public init?(dataLinkType value: Int32) {
        switch value {
        case 0: self = .null
        case 1: self = .ethernet
        // DLT_RAW is 12 on most systems and 14 on BSD/OS; LINKTYPE_RAW (101) is the file value.
        case 12, 14, 101: self = .raw
        case 108: self = .loop
        case 113: self = .linuxSLL
        case 228: self = .ipv4
        case 229: self = .ipv6
        case 276: self = .linuxSLL2
        default: return nil
        }
    }

    /// The `DLT_*` value libpcap expects for this link type, for `pcap_open_dead` and
    /// `pcap_compile`. Link types Wirecheck does not know pass through unchanged.
    public var dataLinkType: Int32 {
        self == .raw ? Int32(DLT_RAW) : rawValue
    }

    /// libpcap's short name for a `DLT_*` value (`EN10MB`, `IEEE802_11`), or nil when libpcap
    /// has no name for it (libpcap 1.10 names neither `DLT_USER0` nor values it does not know).
    static func name(ofDataLinkType value: Int32) -> String? {
        pcap_datalink_val_to_name(value).map { String(cString: $0) }
    }

    /// Formats the name and number for messages: `IEEE802_11 (105)`, or `147` when libpcap has no name.
    static func label(ofDataLinkType value: Int32) -> String {
        name(ofDataLinkType: value).map { "\($0) (\(value))" } ?? "\(value)"
    }
}
