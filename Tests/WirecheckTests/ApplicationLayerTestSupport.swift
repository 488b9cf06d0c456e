import Testing
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

/// Drives an `ApplicationLayer` with one hand-built flow, numbering each chunk as a packet.
final class ApplicationLayerHarness {
    let collector = EventCollector()
    let layer: ApplicationLayer
    let flow: Flow
    private(set) var packetNumber: UInt64 = 0
    var timestamp = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)

    init(serverPort: UInt16 = 502, ipProtocol: UInt8 = IPProtocolNumber.tcp,
         protocols: [ApplicationProtocol.Type] = ProtocolRegistry.all, limits: ApplicationLimits = .init()) {
        layer = ApplicationLayer(sink: collector, protocols: protocols, limits: limits)
        let context = FlowContext(flowID: 1, communityID: "1:test", srcIP: IPAddress("10.0.0.5")!, srcPort: 49152,
                                  destIP: IPAddress("10.0.0.20")!, destPort: serverPort, ipProtocol: ipProtocol)
        flow = Flow(context: context, firstSeen: timestamp, firstPacket: PacketReference(source: 0, number: 1))
    }

    /// Sends one chunk of in-order bytes and returns its packet number.
    @discardableResult
    func send(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) -> UInt64 {
        packetNumber += 1
        let packet = PacketReference(source: 0, number: packetNumber)
        timestamp = timestamp.adding(seconds: 0.01)
        bytes.withUnsafeBytes { layer.stream(flow, direction: direction, chunk: .data($0, packet), timestamp: timestamp) }
        return packetNumber
    }

    func sendDatagram(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        packetNumber += 1
        let packet = PacketReference(source: 0, number: packetNumber)
        bytes.withUnsafeBytes { layer.datagram(flow, direction: direction, payload: $0, packet: packet, timestamp: timestamp) }
    }

    func gap(_ length: Int, _ direction: StreamDirection = .toServer) {
        layer.stream(flow, direction: direction, chunk: .gap(length: length), timestamp: timestamp)
    }

    func end() { layer.flowEnded(flow, timestamp: timestamp) }

    var transactions: [Event] { collector.events.filter { $0.eventType == "modbus" } }
    var anomalies: [Event] { collector.events.filter { $0.eventType == "anomaly" } }
    var alerts: [Event] { collector.events.filter { $0.eventType == "alert" } }
    var anomalyNames: [String] { anomalies.compactMap(\.anomalyName) }
}

/// Builds a Modbus/TCP frame: MBAP header (protocol id 0, length from the PDU) and the PDU.
func modbusFrame(_ transactionID: UInt16, unit: UInt8 = 1, _ pdu: [UInt8], protocolID: UInt16 = 0) -> [UInt8] {
    let length = pdu.count + 1
    return [UInt8(transactionID >> 8), UInt8(transactionID & 0xff), UInt8(protocolID >> 8), UInt8(protocolID & 0xff),
            UInt8(length >> 8), UInt8(length & 0xff), unit] + pdu
}

func jsonObject(_ value: JSONValue?) -> JSONObject? {
    if case .object(let object)? = value { return object }
    return nil
}

func jsonArray(_ value: JSONValue?) -> [JSONValue]? {
    if case .array(let array)? = value { return array }
    return nil
}

extension Event {
    /// The `modbus` member of a transaction event.
    var modbusRecord: JSONObject? { jsonObject(body["modbus"]) }
    var operationRecord: JSONObject? { jsonObject(body["operation"]) }
}
