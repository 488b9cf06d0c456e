/// The kind of rule an anomaly breaks: a header's, a flow's or an application protocol's.
/// Anomalies name broken rules, while alerts are findings an analyst should act on.
public enum AnomalyType: String, Sendable, CaseIterable {
    /// A malformed header seen while decoding layers 2 to 4.
    case decode
    /// TCP or UDP flow behaviour that does not fit the conversation (out-of-window, no handshake).
    case stream
    /// An application protocol message that breaks its standard.
    case applayer
}

/// One output record. Every stage produces these, the engine adds flow and evidence fields,
/// and the output stage writes them as EVE JSON lines.
public struct Event: Sendable {
    /// EVE `event_type`: `anomaly`, `alert`, `flow`, `stats`, or a protocol name such as `modbus`.
    public var eventType: String
    public var timestamp: Timestamp
    /// The flow the event belongs to, when there is one.
    public var flow: FlowContext?
    /// Endpoints for events with no flow (ARP, a decode anomaly before ports are known).
    public var endpoints: Endpoints?
    /// The packets that show the finding, in capture order.
    public var packets: [PacketReference]
    /// A plain sentence saying what happened, for an operator.
    public var message: String?
    /// Event-specific members, written after the common fields (for example `"anomaly": {...}`).
    public var body: JSONObject

    public init(eventType: String, timestamp: Timestamp, flow: FlowContext? = nil, endpoints: Endpoints? = nil,
                packets: [PacketReference] = [], message: String? = nil, body: JSONObject = JSONObject()) {
        self.eventType = eventType
        self.timestamp = timestamp
        self.flow = flow
        self.endpoints = endpoints
        self.packets = packets
        self.message = message
        self.body = body
    }
}

/// Source and destination of an event that has no flow.
public struct Endpoints: Hashable, Sendable {
    public var srcIP: IPAddress?
    public var srcPort: UInt16?
    public var destIP: IPAddress?
    public var destPort: UInt16?
    public var ipProtocol: UInt8?
    public var srcMAC: MACAddress?
    public var destMAC: MACAddress?

    public init(srcIP: IPAddress? = nil, srcPort: UInt16? = nil, destIP: IPAddress? = nil, destPort: UInt16? = nil,
                ipProtocol: UInt8? = nil, srcMAC: MACAddress? = nil, destMAC: MACAddress? = nil) {
        self.srcIP = srcIP
        self.srcPort = srcPort
        self.destIP = destIP
        self.destPort = destPort
        self.ipProtocol = ipProtocol
        self.srcMAC = srcMAC
        self.destMAC = destMAC
    }
}

extension Event {
    /// Builds an `anomaly` event for a catalogued anomaly.
    public static func anomaly(_ definition: AnomalyDefinition, timestamp: Timestamp, flow: FlowContext? = nil,
                               endpoints: Endpoints? = nil, packets: [PacketReference], message: String,
                               details: JSONObject = JSONObject()) -> Event {
        var anomaly: JSONObject = ["type": .string(definition.type.rawValue), "event": .string(definition.name)]
        if let layer = definition.layer { anomaly.set("layer", .string(layer)) }
        for pair in details.pairs { anomaly.set(pair.0, pair.1) }
        return Event(eventType: "anomaly", timestamp: timestamp, flow: flow, endpoints: endpoints, packets: packets,
                     message: message, body: ["anomaly": .object(anomaly)])
    }

    /// Builds an `alert` event for a catalogued alert.
    public static func alert(_ definition: AlertDefinition, timestamp: Timestamp, flow: FlowContext? = nil,
                             endpoints: Endpoints? = nil, packets: [PacketReference], message: String,
                             severity: Int? = nil, details: JSONObject = JSONObject()) -> Event {
        var metadata = JSONObject()
        if let technique = definition.technique {
            metadata.set("mitre_technique_id", .array([.string(technique.id)]))
            metadata.set("mitre_technique_name", .array([.string(technique.name)]))
            metadata.set("mitre_tactic", .array([.string(technique.tactic)]))
        }
        metadata.set("wirecheck_rule", .array([.string(definition.name)]))
        var alert: JSONObject = [
            "action": "allowed",
            "signature_id": .int(definition.signatureID),
            "signature": .string(definition.signature),
            "category": .string(definition.category),
            "severity": .int(severity ?? definition.severity),
            "metadata": .object(metadata),
        ]
        for pair in details.pairs { alert.set(pair.0, pair.1) }
        return Event(eventType: "alert", timestamp: timestamp, flow: flow, endpoints: endpoints, packets: packets,
                     message: message, body: ["alert": .object(alert)])
    }
}

/// Receives events from any stage. Implementations are not thread-safe unless their documentation states it.
public protocol EventSink: AnyObject {
    func emit(_ event: Event)
}

/// Collects events in memory, for tests and small runs.
public final class EventCollector: EventSink {
    public private(set) var events: [Event] = []

    public init() {}

    public func emit(_ event: Event) { events.append(event) }

    public func anomalies(named name: String) -> [Event] {
        events.filter { $0.eventType == "anomaly" && $0.anomalyName == name }
    }

    public func alerts(named name: String) -> [Event] {
        events.filter { $0.eventType == "alert" && $0.alertRule == name }
    }
}

extension Event {
    /// The stable anomaly name (`anomaly.event`) of an anomaly event.
    public var anomalyName: String? {
        guard case .object(let anomaly)? = body["anomaly"], case .string(let name)? = anomaly["event"] else { return nil }
        return name
    }

    /// The stable rule name of an alert event.
    public var alertRule: String? {
        guard case .object(let alert)? = body["alert"], case .object(let metadata)? = alert["metadata"],
              case .array(let rules)? = metadata["wirecheck_rule"], case .string(let name)? = rules.first else { return nil }
        return name
    }
}
