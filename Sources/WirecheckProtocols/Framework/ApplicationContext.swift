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

    /// The level of transaction logging (`--operations`). Alerts, anomalies and the operations
    /// the baseline observes do not depend on it.
    public var operationLogging: OperationLogging = .all

    /// True when a transaction with `operation` would be written as an event. Parsers check it
    /// before they build a record or a sentence, so a run that logs no transactions does not pay
    /// for them.
    public func logsTransaction(_ operation: Operation?) -> Bool {
        operationLogging.includes(operation)
    }

    /// Emits a protocol transaction event (`event_type` = the protocol name) whose body is
    /// `{"<protocol>": record}` when `operationLogging` includes it, and passes its operation to
    /// the operation observer (the baseline). The record, packets and message are built only when
    /// the event is written.
    public func transaction(protocolName: String, record: @autoclosure () -> JSONObject, operation: Operation?,
                            packets: @autoclosure () -> [PacketReference], message: @autoclosure () -> String? = nil) {
        let logs = operationLogging.includes(operation)
        guard logs || operationObserver != nil else { return }
        let evidence = packets()
        if logs {
            var event = Event(eventType: protocolName, timestamp: timestamp, flow: flow, packets: evidence,
                              message: message(), body: [protocolName: .object(record())])
            if let operation {
                event.body.set("operation", .object(operation.jsonObject))
            }
            sink.emit(event)
        }
        operationObserver?(operation, flow, timestamp, evidence)
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

/// The protocol transactions a run writes as events.
public enum OperationLogging: String, Sendable, CaseIterable {
    /// One event per request and response pair, poll or unsolicited message.
    case all
    /// Only operations that change the process or the device: writes, controls, program and
    /// file transfers, restarts. Reads, polls and session housekeeping are not written.
    case changes
    /// No transaction events; alerts, anomalies and flow records still are.
    case none

    /// True when a transaction with `operation` is written at this level.
    public func includes(_ operation: Operation?) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .changes:
            guard let operation else { return false }
            switch operation.operationClass {
            case .write, .control, .program, .restart: return true
            case .read, .diagnostic, .session, .other: return false
            }
        }
    }
}
