import WirecheckCore
import WirecheckDecoding
import WirecheckSynthesis

/// Decodes frames in tests and keeps the events the decoder raised.
final class DecodingHarness {
    let events = EventCollector()
    let decoder: PacketDecoder
    var packetNumber: UInt64 = 0

    init(limits: FragmentLimits = FragmentLimits(), verifyChecksums: Bool = true) {
        decoder = PacketDecoder(sink: events, limits: limits, verifyChecksums: verifyChecksums)
    }

    /// Decodes one frame and returns the result, the decoded fields and the transport payload.
    @discardableResult
    func decode(_ frame: [UInt8], link: LinkType = .ethernet, originalLength: Int? = nil,
                seconds: Int64 = 1_700_000_000) -> (decoded: Bool, packet: DecodedPacket, payload: [UInt8]) {
        packetNumber += 1
        var decoded = DecodedPacket()
        var result = false
        var payload: [UInt8] = []
        frame.withUnsafeBytes { bytes in
            let captured = CapturedPacket(timestamp: Timestamp(seconds: seconds, nanoseconds: 0), linkType: link,
                                          bytes: bytes, originalLength: originalLength ?? frame.count,
                                          reference: PacketReference(source: 0, number: packetNumber))
            result = decoder.decode(captured, into: &decoded)
            payload = Array(decoder.payload(of: decoded, packet: captured))
        }
        return (result, decoded, payload)
    }

    var anomalyNames: [String] { events.events.compactMap(\.anomalyName) }

    func count(_ definition: AnomalyDefinition) -> Int { events.anomalies(named: definition.name).count }
}

/// Addresses shared by the decoding tests.
enum TestHosts {
    static let clientMAC = MACAddress(0x001b_1b12_3456)
    static let serverMAC = MACAddress(0x000c_29ab_cdef)
    static let client = IPAddress("10.0.0.5")!
    static let server = IPAddress("10.0.0.20")!
    static let client6 = IPAddress("2001:db8::5")!
    static let server6 = IPAddress("2001:db8::20")!
    static let link = EthernetSpec(source: clientMAC, destination: serverMAC)
    static let ip = IPSpec(source: client, destination: server)
    static let ip6 = IPSpec(source: client6, destination: server6)
}

/// Runs `body` over a frame as raw bytes from `offset`, for views that tests construct
/// directly. A view must not leave `body`, because the bytes are only valid inside it.
func withBytes<Result>(_ frame: [UInt8], from offset: Int = 0,
                       _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    try frame.withUnsafeBytes { bytes in try body(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
}
