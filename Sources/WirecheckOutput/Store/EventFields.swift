import WirecheckCore

/// The columns one event fills, read from its flow, endpoints and EVE body. Missing or
/// mistyped members become NULL, never an error, because bodies come from many stages.
struct EventFields {
    let event: Event
    let time: Int64
    let flowID: Int64?
    let srcIP: String?
    let srcPort: Int64?
    let destIP: String?
    let destPort: Int64?
    let appProto: String?
    let evidence: String
    /// A device's vendor or name reported in a protocol record (an EtherNet/IP identity,
    /// a Modbus device identification), for the responder's asset entry.
    let vendor: String?

    /// Record members that name the device's vendor or product, in order of preference.
    static let vendorKeys = ["vendor_name", "vendor", "product_name", "device_name"]

    init(_ event: Event, sources: [String]) {
        self.event = event
        time = event.timestamp.nanoseconds
        if let flow = event.flow {
            flowID = Int64(bitPattern: flow.flowID)
            srcIP = flow.srcIP.description
            srcPort = Int64(flow.srcPort)
            destIP = flow.destIP.description
            destPort = Int64(flow.destPort)
        } else {
            flowID = nil
            srcIP = event.endpoints?.srcIP?.description
            srcPort = event.endpoints?.srcPort.map(Int64.init)
            destIP = event.endpoints?.destIP?.description
            destPort = event.endpoints?.destPort.map(Int64.init)
        }
        appProto = event.flow?.appProto ?? JSONText.string(event.body["app_proto"])
        evidence = EventFields.evidenceJSON(event.packets, sources: sources)

        var vendor: String?
        if case .object(let record)? = event.body[event.eventType] {
            vendor = EventFields.vendorKeys.lazy.compactMap { JSONText.string(record[$0]) }.first
        }
        self.vendor = vendor
    }

    /// Evidence as a JSON array of `{"file": NAME, "packet": NUMBER}` in capture order.
    static func evidenceJSON(_ packets: [PacketReference], sources: [String]) -> String {
        let items: [JSONValue] = packets.sorted().map { reference in
            let name = Int(reference.source) < sources.count ? sources[Int(reference.source)] : "source-\(reference.source)"
            return .object(["file": .string(name), "packet": .int(reference.number)])
        }
        return JSONWriter.serialize(.array(items))
    }

    /// Reads the run's packet count from a Suricata-style stats object (`decoder.pkts`).
    /// `flow.pkts_toclient` of a flow event, or nil for other events.
    static func packetsToClient(_ event: Event) -> Int64? {
        guard case .object(let flow)? = event.body["flow"] else { return nil }
        return JSONText.int(flow["pkts_toclient"])
    }

    /// The run's packet count: Wirecheck's `capture.packets`, or Suricata's `decoder.pkts`.
    static func packetCount(stats: JSONObject) -> Int64? {
        if case .object(let capture)? = stats["capture"], let packets = JSONText.int(capture["packets"]) { return packets }
        guard case .object(let decoder)? = stats["decoder"] else { return nil }
        return JSONText.int(decoder["pkts"])
    }

    private func bindEndpoints(_ statement: SQLiteStatement, from index: Int32) {
        statement.bind(index, srcIP)
        statement.bind(index + 1, srcPort)
        statement.bind(index + 2, destIP)
        statement.bind(index + 3, destPort)
    }

    func insertAlert(using statement: SQLiteStatement, run: Int64) throws {
        let alert = JSONText.object(event.body["alert"]) ?? JSONObject()
        let metadata = JSONText.object(alert["metadata"]) ?? JSONObject()
        let process = JSONText.object(event.body["process"]) ?? JSONText.object(alert["process"])
        let host = JSONText.object(event.body["host"]) ?? JSONText.object(alert["host"])
        let suppressed = JSONText.bool(alert["suppressed"]) ?? JSONText.bool(event.body["suppressed"]) ?? false

        statement.bind(1, run)
        statement.bind(2, time)
        statement.bind(3, JSONText.first(metadata["wirecheck_rule"]))
        statement.bind(4, JSONText.int(alert["signature_id"]) ?? 0)
        statement.bind(5, JSONText.string(alert["signature"]) ?? "")
        statement.bind(6, JSONText.string(alert["category"]))
        statement.bind(7, JSONText.int(alert["severity"]) ?? 3)
        statement.bind(8, JSONText.first(metadata["mitre_technique_id"]))
        statement.bind(9, JSONText.first(metadata["mitre_technique_name"]))
        statement.bind(10, flowID)
        bindEndpoints(statement, from: 11)
        statement.bind(15, appProto)
        statement.bind(16, event.message)
        statement.bind(17, evidence)
        statement.bind(18, suppressed)
        statement.bind(19, JSONText.string(process?["executable"]))
        statement.bind(20, JSONText.string(process?["command_line"]))
        statement.bind(21, JSONText.int(process?["pid"]))
        statement.bind(22, JSONText.string(process?["user"]))
        statement.bind(23, JSONText.string(host?["name"]))
        try statement.run()
    }

    func insertAnomaly(using statement: SQLiteStatement, run: Int64) throws {
        let anomaly = JSONText.object(event.body["anomaly"]) ?? JSONObject()
        statement.bind(1, run)
        statement.bind(2, time)
        statement.bind(3, JSONText.string(anomaly["event"]) ?? "unknown")
        statement.bind(4, JSONText.string(anomaly["type"]))
        statement.bind(5, JSONText.string(anomaly["layer"]))
        statement.bind(6, flowID)
        bindEndpoints(statement, from: 7)
        statement.bind(11, appProto)
        statement.bind(12, event.message)
        statement.bind(13, evidence)
        try statement.run()
    }

    /// Stores a flow event. `start` and `end` come from the record's ISO 8601 text when it parses.
    /// Otherwise `end` is the event time and `start` is `end` minus `age` seconds.
    func insertFlow(using statement: SQLiteStatement, run: Int64) throws {
        let record = JSONText.object(event.body["flow"]) ?? JSONObject()
        func member(_ key: String) -> JSONValue? { record[key] ?? event.body[key] }

        let end = JSONText.string(member("end")).flatMap { try? TimeFilterParser.parseISO8601($0) }?.nanoseconds ?? time
        let age = JSONText.int(member("age")) ?? 0
        let start = JSONText.string(member("start")).flatMap { try? TimeFilterParser.parseISO8601($0) }?.nanoseconds
            ?? (end &- age &* 1_000_000_000)
        let proto = event.flow.map { IPProtocolNumber.name($0.ipProtocol) }
            ?? event.endpoints?.ipProtocol.map(IPProtocolNumber.name) ?? "unknown"

        statement.bind(1, run)
        statement.bind(2, flowID ?? 0)
        statement.bind(3, event.flow?.communityID)
        statement.bind(4, srcIP ?? "")
        statement.bind(5, srcPort)
        statement.bind(6, destIP ?? "")
        statement.bind(7, destPort)
        statement.bind(8, proto)
        statement.bind(9, appProto)
        statement.bind(10, start)
        statement.bind(11, end)
        statement.bind(12, JSONText.int(member("pkts_toserver")) ?? 0)
        statement.bind(13, JSONText.int(member("pkts_toclient")) ?? 0)
        statement.bind(14, JSONText.int(member("bytes_toserver")) ?? 0)
        statement.bind(15, JSONText.int(member("bytes_toclient")) ?? 0)
        statement.bind(16, JSONText.string(member("state")))
        statement.bind(17, JSONText.string(member("reason")))
        statement.bind(18, JSONText.string(member("conn_state")))
        statement.bind(19, JSONText.string(member("history")))
        statement.bind(20, JSONText.bool(member("midstream")) ?? false)
        statement.bind(21, JSONText.bool(member("alerted")) ?? false)
        try statement.run()
    }

    /// Stores the `operation` of a protocol event (in the body or in the protocol record).
    /// Events without one (a TLS handshake record) only feed the asset inventory.
    func insertOperation(using statement: SQLiteStatement, run: Int64) throws {
        let record = JSONText.object(event.body[event.eventType])
        guard let operation = JSONText.object(event.body["operation"]) ?? JSONText.object(record?["operation"]) else {
            return
        }
        statement.bind(1, run)
        statement.bind(2, flowID)
        statement.bind(3, time)
        statement.bind(4, event.eventType)
        statement.bind(5, srcIP)
        statement.bind(6, destIP)
        statement.bind(7, JSONText.string(operation["name"]))
        statement.bind(8, JSONText.string(operation["class"]))
        statement.bind(9, JSONText.int(operation["code"]))
        statement.bind(10, JSONText.int(operation["unit"]))
        statement.bind(11, JSONText.int(operation["range_start"]))
        statement.bind(12, JSONText.int(operation["range_end"]))
        try statement.run()
    }
}

/// Typed reads of `JSONValue` members that return nil on a missing or mistyped member.
enum JSONText {
    /// Text of a string member; wire bytes are decoded as UTF-8 with invalid bytes replaced.
    static func string(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .wire(let bytes)?: return String(wireBytes: bytes)
        default: return nil
        }
    }

    static func int(_ value: JSONValue?) -> Int64? {
        switch value {
        case .int(let number)?: return number
        case .double(let number)? where number.isFinite && abs(number) < 9e18: return Int64(number)
        default: return nil
        }
    }

    static func double(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        default: return nil
        }
    }

    static func bool(_ value: JSONValue?) -> Bool? {
        if case .bool(let flag)? = value { return flag }
        return nil
    }

    static func object(_ value: JSONValue?) -> JSONObject? {
        if case .object(let object)? = value { return object }
        return nil
    }

    /// Returns the first string of an array member, or the member itself when it is a string.
    static func first(_ value: JSONValue?) -> String? {
        if case .array(let items)? = value { return string(items.first) }
        return string(value)
    }

    /// Parses a JSON array of strings as the store writes it (`["a","b"]`). Other text gives [].
    static func stringArray(_ text: String) -> [String] {
        var parser = MiniJSONParser(text)
        guard case .array(let items)? = parser.parseValue() else { return [] }
        return items.compactMap { string($0) }
    }
}
