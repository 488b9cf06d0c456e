import WirecheckCore
import WirecheckDecoding
@testable import WirecheckFlows

/// Records what the flow table hands to the application layer.
final class RecordingFlowConsumer: FlowPayloadConsumer {
    var toServerBytes: [UInt8] = []
    var toClientBytes: [UInt8] = []
    var gaps = 0
    var datagrams: [(toServer: Bool, bytes: [UInt8])] = []
    var endedFlows: [Flow] = []

    func stream(_ flow: Flow, toServer: Bool, chunk: StreamChunk, timestamp: Timestamp) {
        switch chunk {
        case .data(let bytes, _):
            if toServer { toServerBytes.append(contentsOf: bytes) } else { toClientBytes.append(contentsOf: bytes) }
        case .gap:
            gaps += 1
        }
    }

    func datagram(_ flow: Flow, toServer: Bool, payload: UnsafeRawBufferPointer, packet: PacketReference,
                  timestamp: Timestamp) {
        datagrams.append((toServer, Array(payload)))
    }

    func flowEnded(_ flow: Flow, timestamp: Timestamp) {
        endedFlows.append(flow)
    }
}

/// A flow table fed with hand-built decoded packets, numbered in the order they are sent.
final class FlowHarness {
    let events = EventCollector()
    let consumer = RecordingFlowConsumer()
    let table: FlowTable
    private var packetNumber: UInt64 = 0
    /// Capture start, 2024-03-01T12:00:00Z.
    static let epoch: Int64 = 1_709_294_400

    init(configuration: FlowConfiguration = FlowConfiguration()) {
        table = FlowTable(configuration: configuration, sink: events, consumer: consumer)
    }

    static func time(_ seconds: Double) -> Timestamp {
        Timestamp(nanoseconds: epoch * 1_000_000_000 + Int64(seconds * 1e9))
    }

    /// Sends one TCP segment from `source` to `destination` ("address:port") at `seconds`
    /// after the capture start.
    @discardableResult
    func tcp(_ source: String, _ destination: String, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0,
             window: UInt16 = 64_240, windowScale: UInt8? = nil, payload: [UInt8] = [], at seconds: Double) -> FlowUpdate? {
        var packet = makePacket(source, destination, ipProtocol: IPProtocolNumber.tcp, payloadCount: payload.count,
                                at: seconds)
        var fields = TCPFields()
        fields.sequence = seq
        fields.acknowledgement = ack
        fields.flags = flags
        fields.window = window
        fields.windowScale = windowScale
        packet.tcp = fields
        packet.wireLength = 14 + 20 + 20 + payload.count
        return payload.withUnsafeBytes { table.process(packet, payload: $0) }
    }

    @discardableResult
    func udp(_ source: String, _ destination: String, payload: [UInt8], at seconds: Double) -> FlowUpdate? {
        var packet = makePacket(source, destination, ipProtocol: IPProtocolNumber.udp, payloadCount: payload.count,
                                at: seconds)
        packet.wireLength = 14 + 20 + 8 + payload.count
        return payload.withUnsafeBytes { table.process(packet, payload: $0) }
    }

    @discardableResult
    func icmp(_ source: String, _ destination: String, type: UInt8, code: UInt8 = 0, at seconds: Double) -> FlowUpdate? {
        var packet = makePacket(source + ":0", destination + ":0", ipProtocol: IPProtocolNumber.icmp, payloadCount: 0,
                                at: seconds)
        packet.icmpType = type
        packet.icmpCode = code
        packet.wireLength = 14 + 20 + 8
        return table.process(packet, payload: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    func makePacket(_ source: String, _ destination: String, ipProtocol: UInt8, payloadCount: Int,
                    at seconds: Double) -> DecodedPacket {
        packetNumber += 1
        let (sourceIP, sourcePort) = FlowHarness.split(source)
        let (destinationIP, destinationPort) = FlowHarness.split(destination)
        var packet = DecodedPacket()
        packet.timestamp = FlowHarness.time(seconds)
        packet.reference = PacketReference(source: 0, number: packetNumber)
        packet.network = sourceIP.isV4 ? .ipv4 : .ipv6
        packet.sourceIP = sourceIP
        packet.destinationIP = destinationIP
        packet.sourcePort = sourcePort
        packet.destinationPort = destinationPort
        packet.ipProtocol = ipProtocol
        packet.hasTransport = true
        packet.payloadLength = payloadCount
        return packet
    }

    /// Splits "10.0.0.5:502" or "[2001:db8::1]:502".
    static func split(_ text: String) -> (IPAddress, UInt16) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let address = IPAddress(String(text[text.index(after: text.startIndex)..<close]))!
            let port = UInt16(text[text.index(close, offsetBy: 2)...])!
            return (address, port)
        }
        let parts = text.split(separator: ":")
        return (IPAddress(String(parts[0]))!, UInt16(parts[1])!)
    }

    var anomalies: [Event] { events.events.filter { $0.eventType == "anomaly" } }
    var alerts: [Event] { events.events.filter { $0.eventType == "alert" } }
    var flowEvents: [Event] { events.events.filter { $0.eventType == "flow" } }

    /// Returns the `flow` member of the flow event at `index`.
    func flowBody(_ index: Int = 0) -> JSONObject? {
        guard index < flowEvents.count, case .object(let body)? = flowEvents[index].body["flow"] else { return nil }
        return body
    }

    /// Sends a complete handshake from client to server with ISNs 1000 and 5000, starting at `seconds`.
    func handshake(_ client: String, _ server: String, at seconds: Double, clientScale: UInt8? = nil,
                   serverScale: UInt8? = nil) {
        tcp(client, server, [.syn], seq: 1000, windowScale: clientScale, at: seconds)
        tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, windowScale: serverScale, at: seconds + 0.001)
        tcp(client, server, [.ack], seq: 1001, ack: 5001, at: seconds + 0.002)
    }
}
