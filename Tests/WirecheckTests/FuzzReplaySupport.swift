import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// Runs a fuzzer input the way its target in Fuzz/ runs it, so a finding's exact bytes become a
/// regression test under `swift test`, without the sanitizer build. Each function follows the
/// input layout documented in the target's source file; keep the two in step.
enum FuzzReplay {
    /// Replays the layout of the protocol targets (Fuzz/Support/ApplicationHarness.swift):
    /// an options byte, then records of control byte, 2-byte length and data.
    static func conversation(_ protocolName: String, _ input: [UInt8]) -> EventCollector {
        let collector = EventCollector()
        guard let type = ProtocolRegistry.all.first(where: { $0.name == protocolName }) else { return collector }
        var reader = ReplayReader(input)
        guard let options = reader.byte() else { return collector }

        let ports = type.registeredPorts
        let isTCP = (ports[.tcp].map { !$0.isEmpty } ?? false) && (options & 1 == 0 || ports[.udp] == nil)
        let transport: Transport = isTCP ? .tcp : .udp
        let layer = ApplicationLayer(sink: collector, protocols: [type])
        let context = FlowContext(flowID: 1, communityID: "1:fuzz", srcIP: .v4(0x0A00_0005), srcPort: 49152,
                                  destIP: .v4(0x0A00_0014), destPort: ports[transport]?.min() ?? 0,
                                  ipProtocol: isTCP ? IPProtocolNumber.tcp : IPProtocolNumber.udp)
        var timestamp = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
        let flow = Flow(context: context, firstSeen: timestamp, firstPacket: PacketReference(source: 0, number: 1))
        var packetNumber: UInt64 = 1

        while let control = reader.byte(), let length = reader.uint16() {
            let data = reader.bytes(upTo: Int(length))
            let direction: StreamDirection = control & 1 == 0 ? .toServer : .toClient
            let packet = PacketReference(source: 0, number: packetNumber)
            data.withUnsafeBytes { data in
                if !isTCP {
                    layer.datagram(flow, direction: direction, payload: data, packet: packet, timestamp: timestamp)
                    return
                }
                if control & 2 != 0 {
                    layer.stream(flow, direction: direction, chunk: .gap(length: Int(control >> 4) + 1),
                                 timestamp: timestamp)
                }
                let pieceLength = max(1, data.count / (Int((control >> 2) & 3) + 1))
                var offset = 0
                while offset < data.count {
                    let end = min(data.count, offset + pieceLength)
                    layer.stream(flow, direction: direction,
                                 chunk: .data(UnsafeRawBufferPointer(rebasing: data[offset..<end]), packet),
                                 timestamp: timestamp)
                    offset = end
                }
            }
            packetNumber += 1
            timestamp = Timestamp(nanoseconds: timestamp.nanoseconds + 1_000_000)
        }
        layer.flowEnded(flow, timestamp: timestamp)
        return collector
    }
}

/// Big-endian reads over a byte array that return nil, or fewer bytes, at the end.
struct ReplayReader {
    private let input: [UInt8]
    private var offset = 0

    init(_ input: [UInt8]) { self.input = input }

    mutating func byte() -> UInt8? {
        guard offset < input.count else { return nil }
        defer { offset += 1 }
        return input[offset]
    }

    mutating func uint16() -> UInt16? {
        guard input.count - offset >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(input[offset]) << 8 | UInt16(input[offset + 1])
    }

    mutating func bytes(upTo count: Int) -> [UInt8] {
        let available = min(count, input.count - offset)
        defer { offset += available }
        return Array(input[offset..<(offset + available)])
    }
}
