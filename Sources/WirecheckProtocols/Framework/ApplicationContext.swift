import WirecheckCore

/// What a parser may read about the data it is given, and where it sends what it finds.
///
/// One context object is reused for every call on the packet path; the caller sets the fields
/// before each call, so parsers must not keep a reference to it across calls.
public final class ApplicationContext {
    public var flow: FlowContext
    public var timestamp: Timestamp
    /// The packet whose arrival delivered the bytes being parsed.
    public var packet: PacketReference
    public var transport: Transport
    /// True when the flow was already in progress when the capture started, so the parser did
    /// not see the session's opening messages (a STARTDT, a Hello, a RegisterSession) and must
    /// not report their absence.
    public var isMidstream = false
    public let sink: EventSink
    /// The run's outstanding-request limit per flow, or nil for each parser's own default.
    public internal(set) var maxOutstandingRequests: Int?
    /// Times any parser dropped a waiting request at its outstanding-request limit.
    public internal(set) var outstandingRequestOverruns = 0
    /// The packets that carried the buffer passed to `parse`, in order, each with the offset of
    /// its first byte in that buffer. The caller sets it before each call.
    var bufferPackets: [(offset: Int, packet: PacketReference)] = []

    public init(flow: FlowContext, timestamp: Timestamp, packet: PacketReference, transport: Transport, sink: EventSink) {
        self.flow = flow
        self.timestamp = timestamp
        self.packet = packet
        self.transport = transport
        self.sink = sink
    }

    /// Returns the packets that carried bytes `range` of the buffer passed to `parse`, in order:
    /// several when a message was split across TCP segments, else `[packet]`.
    /// NOTE: only the Modbus parser calls this so far; the DNP3, IEC 104 and OPC UA parsers
    /// still name only the packet that completed a split message, or track their own.
    public func packets(carrying range: Range<Int>) -> [PacketReference] {
        var result: [PacketReference] = []
        for (index, entry) in bufferPackets.enumerated() {
            let end = index + 1 < bufferPackets.count ? bufferPackets[index + 1].offset : Int.max
            if entry.offset < range.upperBound && end > range.lowerBound && !result.contains(entry.packet) {
                result.append(entry.packet)
            }
        }
        return result.isEmpty ? [packet] : result
    }

    /// Returns the outstanding-request limit a parser applies: the run's, or `parserDefault`.
    public func outstandingRequestLimit(default parserDefault: Int) -> Int {
        maxOutstandingRequests ?? parserDefault
    }

    /// Counts one request dropped at the outstanding-request limit, for the run statistics.
    public func countOutstandingRequestOverrun() {
        outstandingRequestOverruns += 1
    }

    /// Emits a conformance anomaly for this flow.
    public func anomaly(_ definition: AnomalyDefinition, message: String, packets: [PacketReference]? = nil,
                        details: JSONObject = JSONObject()) {
        sink.emit(.anomaly(definition, timestamp: timestamp, flow: flow, packets: packets ?? [packet],
                           message: message, details: details))
    }

    /// Emits an alert for this flow.
    public func alert(_ definition: AlertDefinition, message: String, packets: [PacketReference]? = nil,
                      severity: Int? = nil, details: JSONObject = JSONObject()) {
        sink.emit(.alert(definition, timestamp: timestamp, flow: flow, packets: packets ?? [packet],
                         message: message, severity: severity, details: details))
    }

    /// Emits a protocol transaction event (`event_type` = the protocol name) whose body is
    /// `{"<protocol>": record}`, and passes its operation to the operation observer
    /// (the baseline, later).
    public func transaction(protocolName: String, record: JSONObject, operation: Operation?,
                            packets: [PacketReference], message: String? = nil) {
        var event = Event(eventType: protocolName, timestamp: timestamp, flow: flow, packets: packets,
                          message: message, body: [protocolName: .object(record)])
        if let operation {
            event.body.set("operation", .object(operation.jsonObject))
        }
        sink.emit(event)
        operationObserver?(operation, flow, timestamp, packets)
    }

    /// Receives every operation the parsers report, with its flow and time.
    public var operationObserver: ((Operation?, FlowContext, Timestamp, [PacketReference]) -> Void)?
}

extension Operation {
    public var jsonObject: JSONObject {
        var object: JSONObject = ["name": .string(name), "class": .string(operationClass.rawValue), "code": .int(code)]
        if let unit { object.set("unit", .int(unit)) }
        if let rangeStart { object.set("range_start", .int(rangeStart)) }
        if let rangeEnd { object.set("range_end", .int(rangeEnd)) }
        return object
    }
}
