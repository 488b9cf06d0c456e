import WirecheckCore
import WirecheckFlows
import WirecheckProtocols

/// Plays one conversation from a fuzzer input through `ApplicationLayer` with only the named
/// protocol registered, so its probe and its parser both see the bytes.
///
/// Input layout, all integers big-endian:
///
///     options        1 byte   bit 0 picks UDP when the protocol registers both TCP and UDP
///     record...               until the input ends
///       control      1 byte   bit 0: 0 = client to server, 1 = server to client
///                             bit 1: TCP only, a gap of (control >> 4) + 1 bytes comes first
///                             bits 2-3: TCP only, the data is cut into that many extra chunks
///       length       2 bytes
///       data         `length` bytes, fewer when the input ends early
///
/// A UDP record is one datagram. The flow ends after the last record, so `close` runs too.
func runApplicationConversation(protocolName: String, _ start: UnsafeRawPointer, _ count: Int) {
    guard let type = ProtocolRegistry.all.first(where: { $0.name == protocolName }) else {
        fatalError("No protocol named \(protocolName) is in ProtocolRegistry.all; Scripts/fuzz.sh skips targets whose parser is missing.")
    }
    var input = FuzzInput(start, count)
    guard let options = input.readByte() else { return }

    let ports = type.registeredPorts
    let transport: Transport
    if let tcpPorts = ports[.tcp], !tcpPorts.isEmpty, (options & 1 == 0 || ports[.udp] == nil) {
        transport = .tcp
    } else {
        transport = .udp
    }
    let serverPort = ports[transport]?.min() ?? 0

    let sink = SerializingSink()
    let layer = ApplicationLayer(sink: sink, protocols: [type])
    let context = FlowContext(flowID: 1, communityID: "1:fuzz", srcIP: .v4(0x0A00_0005), srcPort: 49152,
                              destIP: .v4(0x0A00_0014), destPort: serverPort,
                              ipProtocol: transport == .tcp ? IPProtocolNumber.tcp : IPProtocolNumber.udp)
    var timestamp = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
    var packetNumber: UInt64 = 1
    let flow = Flow(context: context, firstSeen: timestamp, firstPacket: PacketReference(source: 0, number: 1))

    while let control = input.readByte(), let length = input.readUInt16() {
        let data = input.readBytes(upTo: Int(length))
        let direction: StreamDirection = control & 1 == 0 ? .toServer : .toClient
        let packet = PacketReference(source: 0, number: packetNumber)

        if transport == .udp {
            layer.datagram(flow, direction: direction, payload: data, packet: packet, timestamp: timestamp)
        } else {
            if control & 2 != 0 {
                layer.stream(flow, direction: direction, chunk: .gap(length: Int(control >> 4) + 1), timestamp: timestamp)
            }
            let pieces = Int((control >> 2) & 3) + 1
            let pieceLength = max(1, data.count / pieces)
            var offset = 0
            while offset < data.count {
                let end = min(data.count, offset + pieceLength)
                let chunk = UnsafeRawBufferPointer(rebasing: data[offset..<end])
                layer.stream(flow, direction: direction, chunk: .data(chunk, packet), timestamp: timestamp)
                offset = end
            }
        }
        packetNumber += 1
        timestamp = Timestamp(nanoseconds: timestamp.nanoseconds + 1_000_000)
    }
    layer.flowEnded(flow, timestamp: timestamp)
}
