import WirecheckCore

/// An Ethernet II or IEEE 802.3 header: destination, source, then an EtherType (>= 0x0600) or,
/// for 802.3, the frame's payload length (<= 1500) followed by an LLC header.
public struct EthernetHeader {
    enum Field {
        static let destination = 0
        static let source = 6
        static let etherType = 12
    }
    public static let length = 14
    /// The largest value of the type field that is an 802.3 length, not an EtherType.
    public static let maxPayloadLength: UInt16 = 1500

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 14-byte header.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= EthernetHeader.length else { return nil }
        self.bytes = bytes
    }

    public var destination: MACAddress { MACAddress(bytes.macAddress(at: Field.destination) ?? 0) }
    public var source: MACAddress { MACAddress(bytes.macAddress(at: Field.source) ?? 0) }
    /// The EtherType, or the 802.3 payload length when `isLengthField` is true.
    public var etherType: UInt16 { bytes.bigEndianUInt16(at: Field.etherType) ?? 0 }
    public var isLengthField: Bool { etherType <= EthernetHeader.maxPayloadLength }
}
