import WirecheckCore

/// DNP3 (IEEE 1815) over TCP or UDP port 20000: link frames with CRC-protected blocks, transport
/// segments, and application fragments with object headers.
public enum DNP3Protocol: ApplicationProtocol {
    public static let name = "dnp3"
    public static let port: UInt16 = 20000
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [port], .udp: [port]]

    /// Matches when the bytes start with 0x05 0x64, a LENGTH of at least 5 and a valid header CRC.
    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        if bytes.count >= 1 && bytes[0] != DNP3LinkHeader.startOctets.0 { return .noMatch }
        if bytes.count >= 2 && bytes[1] != DNP3LinkHeader.startOctets.1 { return .noMatch }
        guard let header = DNP3LinkHeader(bytes) else { return .needMoreData }
        guard Int(header.length) >= DNP3LinkHeader.minimumLength, DNP3CRC.check(bytes, 0..<8) else { return .noMatch }
        return .match
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        DNP3Parser(transport: transport)
    }
}

/// The per-flow DNP3 parser: frames, reassembles and decodes both directions, pairs responses
/// with requests by application sequence number, and raises anomalies and alerts.
///
/// The master is taken to be the side that sends the first request, or the peer of the side that
/// sends the first response. A request later seen from the other side is a direction mismatch.
/// `applayer.dnp3.unsolicited_response` is raised only for unsolicited responses that carry
/// objects after a disable_unsolicited request and before the next enable_unsolicited, because
/// IEEE 1815 requires an outstation to send a null unsolicited response after every restart.
public final class DNP3Parser: ApplicationParser {
    /// Unanswered requests on one flow before `request_flood` is raised. A master waits for each
    /// response before the next request, so more than a few is abnormal; Suricata's default is 32.
    static let maxUnansweredRequests = 32
    /// Anomalies of one kind reported per flow. A broken or hostile peer can cause one per frame,
    /// so past this many, further repeats are only counted.
    static let maxAnomaliesPerKind = 50

    final class DirectionState {
        var reassembly = DNP3Reassembly()
        /// User data of the current frame with CRCs removed; reused for every frame.
        var userData: [UInt8] = []
        /// Whether the bytes before the next start octets were already reported.
        var resyncing = false

        init() { userData.reserveCapacity(256) }
    }

    struct PendingRequest {
        var functionCode: UInt8
        var packets: [PacketReference]
    }

    struct AlertKey: Hashable {
        var rule: String
        var unit: Int
    }

    let transport: Transport
    private let toServerState = DirectionState()
    private let toClientState = DirectionState()
    /// Requests waiting for a response, indexed by application sequence number (4 bits).
    private var pending = [PendingRequest?](repeating: nil, count: 16)
    private var unansweredRequests = 0
    private var floodReported = false
    private var masterSide: StreamDirection?
    private var unsolicitedDisabled = false
    /// How often each (rule, unit) alert matched; only the first match emits an alert.
    private(set) var alertCounts: [AlertKey: Int] = [:]
    private var anomalyCounts: [String: Int] = [:]

    public init(transport: Transport) {
        self.transport = transport
    }

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        let state = direction == .toServer ? toServerState : toClientState
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            if !DNP3LinkHeader.hasStartOctets(rest) {
                if rest.count == 1 && rest[0] == DNP3LinkHeader.startOctets.0 && transport == .tcp { break }
                let skipped = skipToStartOctets(rest)
                if !state.resyncing {
                    state.resyncing = true
                    raise(DNP3Catalogue.invalidStartBytes, context,
                          "\(sender(direction, context)) sent \(skipped) octets that do not start a DNP3 link frame (first octet 0x\(DNP3Bytes.hex(rest[0]))); the parser skipped to the next 0x05 0x64.",
                          ["skipped_octets": .int(skipped), "first_octet": .int(rest[0])])
                }
                offset += skipped
                continue
            }
            guard let header = DNP3LinkHeader(rest) else {
                if transport == .udp {
                    raise(DNP3Catalogue.invalidLength, context,
                          "\(sender(direction, context)) sent a UDP datagram whose last \(rest.count) octets are too short for a DNP3 link header.",
                          ["length": .int(rest.count)])
                    offset = bytes.count
                }
                break
            }
            state.resyncing = false
            guard DNP3CRC.check(rest, 0..<8) else {
                raise(DNP3Catalogue.headerCRCInvalid, context,
                      "\(sender(direction, context)) sent a DNP3 link header whose CRC does not match; the frame was dropped.",
                      ["crc": .int(UInt16(rest[8]) | UInt16(rest[9]) << 8)])
                // The LENGTH is not trusted, so the parser searches for the next start octets
                // without reporting the skipped bytes again.
                state.resyncing = true
                offset += 2
                continue
            }
            guard Int(header.length) >= DNP3LinkHeader.minimumLength else {
                raise(DNP3Catalogue.invalidLength, context,
                      "\(sender(direction, context)) sent a DNP3 link frame with LENGTH \(header.length), below the minimum of 5.",
                      ["length": .int(header.length)])
                state.resyncing = true
                offset += DNP3LinkHeader.size
                continue
            }
            let size = header.frameSize
            guard rest.count >= size else {
                if transport == .udp {
                    raise(DNP3Catalogue.invalidLength, context,
                          "\(sender(direction, context)) sent a DNP3 link frame with LENGTH \(header.length) (\(size) octets with CRCs) in a datagram with only \(rest.count) octets left.",
                          ["length": .int(header.length), "available": .int(rest.count)])
                    offset = bytes.count
                }
                break
            }
            handleFrame(UnsafeRawBufferPointer(rebasing: rest[0..<size]), header: header, state: state,
                        direction: direction, context: context)
            offset += size
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        let state = direction == .toServer ? toServerState : toClientState
        state.reassembly.reset()
        state.resyncing = false
    }

    /// Returns how many octets precede the next 0x05 0x64 (or the whole buffer, keeping a final
    /// 0x05 that may begin the next frame).
    private func skipToStartOctets(_ bytes: UnsafeRawBufferPointer) -> Int {
        var index = 1
        while index < bytes.count {
            if bytes[index] == DNP3LinkHeader.startOctets.0 {
                if index + 1 == bytes.count || bytes[index + 1] == DNP3LinkHeader.startOctets.1 { return index }
            }
            index += 1
        }
        return bytes.count
    }

    private func handleFrame(_ frame: UnsafeRawBufferPointer, header: DNP3LinkHeader, state: DirectionState,
                             direction: StreamDirection, context: ApplicationContext) {
        guard header.carriesUserData else { return }
        state.userData.removeAll(keepingCapacity: true)
        if let badBlock = DNP3LinkData.extractUserData(frame: frame, header: header, into: &state.userData) {
            state.reassembly.reset()
            raise(DNP3Catalogue.dataCRCInvalid, context,
                  "\(sender(direction, context)) sent a DNP3 frame from link address \(header.source) to \(header.destination) whose data block \(badBlock) fails its CRC; the frame's data was dropped.",
                  ["block": .int(badBlock), "src": .int(header.source), "dst": .int(header.destination)])
            return
        }
        let outcome = state.userData.withUnsafeBytes { segment in
            state.reassembly.add(segment: segment, source: header.source, packet: context.packet)
        }
        switch outcome {
        case .incomplete, .discarded:
            return
        case .sequenceGap(let expected, let received):
            // A middle segment with nothing in progress is what a capture started mid-fragment shows.
            guard let expected else { return }
            raise(DNP3Catalogue.transportSequenceGap, context,
                  "\(sender(direction, context)) sent DNP3 transport segment \(received) where \(expected) was expected; the partial fragment was dropped.",
                  ["expected": .int(expected), "received": .int(received)])
        case .tooLong(let size):
            raise(DNP3Catalogue.reassemblyTooLong, context,
                  "\(sender(direction, context)) sent a DNP3 application fragment of \(size) octets, past the reassembly bound of \(DNP3Reassembly.maxFragmentSize); it was dropped.",
                  ["size": .int(size), "limit": .int(DNP3Reassembly.maxFragmentSize)])
        case .complete:
            let packets = state.reassembly.packets
            state.reassembly.fragment.withUnsafeBytes { fragment in
                handleFragment(fragment, header: header, packets: packets, direction: direction, context: context)
            }
        }
    }

    // MARK: - Application fragments

    private func handleFragment(_ fragment: UnsafeRawBufferPointer, header: DNP3LinkHeader, packets: [PacketReference],
                                direction: StreamDirection, context: ApplicationContext) {
        guard let message = DNP3ApplicationMessage(fragment) else {
            raise(DNP3Catalogue.invalidLength, context,
                  "\(sender(direction, context)) sent a DNP3 application fragment of \(fragment.count) octets, too short for its header.",
                  ["fragment_length": .int(fragment.count)], packets: packets)
            return
        }
        let functionName = DNP3Names.function(message.functionCode)
        if functionName == nil {
            raise(DNP3Catalogue.undefinedFunctionCode, context,
                  "\(sender(direction, context)) sent DNP3 function code \(message.functionCode) (0x\(DNP3Bytes.hex(message.functionCode))), which IEEE 1815 does not define.",
                  ["function_code": .int(message.functionCode)], packets: packets)
        }
        checkDirection(message, header: header, direction: direction, context: context, packets: packets)
        reportWalkError(message, direction: direction, context: context, packets: packets)

        // A run that writes no transactions does not need the record.
        var record = context.operationLogging == .none ? JSONObject() : makeRecord(message, header: header, functionName: functionName)
        if message.isResponse {
            handleResponse(message, header: header, record: &record, packets: packets, direction: direction, context: context)
        } else {
            handleRequest(message, header: header, record: record, packets: packets, direction: direction, context: context)
        }
    }

    private func checkDirection(_ message: DNP3ApplicationMessage, header: DNP3LinkHeader, direction: StreamDirection,
                                context: ApplicationContext, packets: [PacketReference]) {
        if masterSide == nil {
            masterSide = message.isResponse ? direction.reversed : direction
        }
        let name = DNP3Names.function(message.functionCode) ?? "function \(message.functionCode)"
        var reason: String?
        if message.isResponse == header.fromMaster {
            reason = message.isResponse
                ? "a \(name) with DIR=1, which marks frames from the master"
                : "a \(name) request with DIR=0, which marks frames from an outstation"
        } else if !message.isResponse && direction != masterSide {
            reason = "a \(name) request from the outstation side of the flow"
        }
        guard let reason else { return }
        raise(DNP3Catalogue.directionMismatch, context, "\(sender(direction, context)) sent \(reason).",
              ["function_code": .int(message.functionCode), "dir": .bool(header.fromMaster)], packets: packets)
    }

    private func reportWalkError(_ message: DNP3ApplicationMessage, direction: StreamDirection,
                                 context: ApplicationContext, packets: [PacketReference]) {
        guard let error = message.walkError else { return }
        let senderAddress = sender(direction, context)
        switch error {
        case .undefinedGroup(let group, let variation):
            raise(DNP3Catalogue.undefinedObjectGroup, context,
                  "\(senderAddress) sent a DNP3 object header for group \(group) variation \(variation), which IEEE 1815 does not define; the remaining objects were not read.",
                  ["group": .int(group), "variation": .int(variation)], packets: packets)
        case .qualifierInvalid(let qualifier, let group, let variation, let reason):
            raise(DNP3Catalogue.qualifierRangeInvalid, context,
                  "\(senderAddress) sent a DNP3 object header g\(group)v\(variation) with qualifier 0x\(DNP3Bytes.hex(qualifier)): \(reason).",
                  ["group": .int(group), "variation": .int(variation), "qualifier": .int(qualifier)], packets: packets)
        case .tooManyObjects(let count, let headers):
            raise(DNP3Catalogue.tooManyObjects, context,
                  "\(senderAddress) sent a DNP3 message with \(count) objects in \(headers) object headers, past the limits of \(DNP3ApplicationMessage.maxObjects) objects and \(DNP3ApplicationMessage.maxObjectHeaders) headers.",
                  ["objects": .int(count), "headers": .int(headers)], packets: packets)
        case .unknownSize:
            break
        }
    }

    private func handleRequest(_ message: DNP3ApplicationMessage, header: DNP3LinkHeader, record: JSONObject,
                               packets: [PacketReference], direction: StreamDirection, context: ApplicationContext) {
        let code = message.functionCode
        let name = DNP3Names.function(code) ?? "undefined_\(code)"
        let unit = Int(header.destination)
        switch code {
        case 0x00:
            break
        // Functions whose names end in _nr, and authenticate_req_no_ack, get no response.
        case 0x06, 0x08, 0x0A, 0x0C, 0x21:
            break
        default:
            // A reused sequence number abandons the older request, which stays counted as unanswered.
            unansweredRequests += 1
            pending[Int(message.sequence)] = PendingRequest(functionCode: code, packets: packets)
            // The pending table keeps at most 16 requests (one per sequence number), so this
            // limit only decides when the unanswered count is reported as a flood.
            let floodLimit = context.outstandingRequestLimit(default: DNP3Parser.maxUnansweredRequests)
            if unansweredRequests > floodLimit && !floodReported {
                floodReported = true
                raise(DNP3Catalogue.requestFlood, context,
                      "\(sender(direction, context)) has \(unansweredRequests) DNP3 requests to outstation \(unit) without a response, past the limit of \(floodLimit).",
                      ["unanswered": .int(unansweredRequests), "limit": .int(floodLimit)], packets: packets)
            }
        }
        if code == 0x14 { unsolicitedDisabled = false }
        if code == 0x15 { unsolicitedDisabled = true }

        // Application confirms only acknowledge a response; like Suricata, no event is logged.
        guard code != 0x00 else { return }

        var record = record
        record.set("type", .string("request"))
        let range = pointRange(message)
        let operation = Operation(protocolName: DNP3Protocol.name, name: name, operationClass: DNP3Names.operationClass(code),
                                  code: Int(code), unit: unit, rangeStart: range?.lowerBound, rangeEnd: range?.upperBound)
        context.transaction(protocolName: DNP3Protocol.name, record: record, operation: operation, packets: packets,
                            message: "\(sender(direction, context)) sent a DNP3 \(name) (fc \(code)) to outstation \(unit) at \(receiver(direction, context))\(objectSummary(message)).")
        raiseAlerts(message, name: name, unit: unit, packets: packets, direction: direction, context: context)
    }

    private func handleResponse(_ message: DNP3ApplicationMessage, header: DNP3LinkHeader, record: inout JSONObject,
                                packets: [PacketReference], direction: StreamDirection, context: ApplicationContext) {
        let code = message.functionCode
        var evidence = packets
        var requestText = ""
        if code == 0x82 {
            record.set("type", .string("unsolicited_response"))
            if unsolicitedDisabled && !message.headers.isEmpty {
                raise(DNP3Catalogue.unsolicitedResponse, context,
                      "\(sender(direction, context)) (outstation \(header.source)) sent an unsolicited response with \(message.headers.count) object headers after the master disabled unsolicited responses.",
                      ["src": .int(header.source), "objects": .int(message.headers.count)], packets: packets)
            }
        } else {
            record.set("type", .string("response"))
            if let request = pending[Int(message.sequence)] {
                pending[Int(message.sequence)] = nil
                // A response shows the outstation has caught up, so requests abandoned by a reused
                // sequence number (or whose responses were not captured) stop counting.
                unansweredRequests = pending.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
                if unansweredRequests == 0 { floodReported = false }
                let requestName = DNP3Names.function(request.functionCode) ?? "undefined_\(request.functionCode)"
                record.set("request", .object(["function_code": .int(request.functionCode), "function": .string(requestName)]))
                evidence = request.packets + packets
                requestText = " for its \(requestName) request"
            }
        }
        let kind = code == 0x82 ? "unsolicited response" : (code == 0x83 ? "authentication response" : "response")
        let flags = message.internalIndicationNames
        let iinText = flags.isEmpty ? "" : " (IIN \(flags.joined(separator: ", ")))"
        context.transaction(protocolName: DNP3Protocol.name, record: record, operation: nil, packets: evidence,
                            message: "\(sender(direction, context)) (outstation \(header.source)) sent a DNP3 \(kind) to master \(header.destination) at \(receiver(direction, context))\(requestText)\(iinText)\(objectSummary(message)).")
    }

    // MARK: - Alerts

    private func raiseAlerts(_ message: DNP3ApplicationMessage, name: String, unit: Int, packets: [PacketReference],
                             direction: StreamDirection, context: ApplicationContext) {
        let senderAddress = sender(direction, context)
        let target = "outstation \(unit) at \(receiver(direction, context))"
        var details: JSONObject = ["function": .string(name), "function_code": .int(message.functionCode), "unit": .int(unit)]
        switch message.functionCode {
        case 0x03...0x06 where !message.controlPoints.isEmpty:
            details.set("points", .array(message.controlPoints.map { .object(pointRecord($0)) }))
            let points = message.controlPoints.prefix(4).map(pointText).joined(separator: ", ")
            alertOnce(DNP3Catalogue.controlOperation, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) sent DNP3 \(name) to \(target): \(points)\(message.controlPoints.count > 4 ? ", ..." : "").")
        case 0x0D, 0x0E:
            alertOnce(DNP3Catalogue.restart, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) sent DNP3 \(name) to \(target).")
        case 0x0F...0x12:
            let severity = message.functionCode == 0x12 || message.functionCode == 0x0F ? 1 : nil
            alertOnce(DNP3Catalogue.applicationControl, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) sent DNP3 \(name) to \(target).", severity: severity)
        case 0x19:
            alertOnce(DNP3Catalogue.fileOperation, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) sent DNP3 open_file to \(target).")
        case 0x1B:
            alertOnce(DNP3Catalogue.fileDelete, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) sent DNP3 delete_file to \(target).")
        case 0x15:
            alertOnce(DNP3Catalogue.disableUnsolicited, unit: unit, context, packets: packets, details: details,
                      "\(senderAddress) told \(target) to stop sending unsolicited responses.")
        case 0x02:
            let groups = message.headers.map { "g\($0.group)v\($0.variation)" }
            details.set("objects", .array(groups.map { .string($0) }))
            if message.headers.contains(where: { $0.group == 70 }) {
                alertOnce(DNP3Catalogue.fileOperation, unit: unit, context, packets: packets, details: details,
                          "\(senderAddress) wrote file data (g70) to \(target).")
            } else {
                alertOnce(DNP3Catalogue.write, unit: unit, context, packets: packets, details: details,
                          "\(senderAddress) sent DNP3 write of \(groups.isEmpty ? "no objects" : groups.joined(separator: ", ")) to \(target).")
            }
        default:
            break
        }
    }

    private func alertOnce(_ definition: AlertDefinition, unit: Int, _ context: ApplicationContext, packets: [PacketReference],
                           details: JSONObject, _ message: String, severity: Int? = nil) {
        let key = AlertKey(rule: definition.name, unit: unit)
        let count = (alertCounts[key] ?? 0) + 1
        alertCounts[key] = count
        guard count == 1 else { return }
        context.alert(definition, message: message, packets: packets, severity: severity, details: details)
    }

    private func raise(_ definition: AnomalyDefinition, _ context: ApplicationContext, _ message: String,
                       _ details: JSONObject, packets: [PacketReference]? = nil) {
        let count = (anomalyCounts[definition.name] ?? 0) + 1
        anomalyCounts[definition.name] = count
        guard count <= DNP3Parser.maxAnomaliesPerKind else { return }
        context.anomaly(definition, message: message, packets: packets, details: details)
    }

    // MARK: - Records

    private func makeRecord(_ message: DNP3ApplicationMessage, header: DNP3LinkHeader, functionName: String?) -> JSONObject {
        var record = JSONObject()
        record.set("type", .null)
        record.set("control", .object([
            "dir": .bool(header.fromMaster), "prm": .bool(header.isPrimary),
            "fcb": .bool(header.control & 0x20 != 0), "fcv": .bool(header.control & 0x10 != 0),
            "function_code": .int(header.linkFunction),
        ]))
        record.set("src", .int(header.source))
        record.set("dst", .int(header.destination))
        var application: JSONObject = [
            "control": .object([
                "fir": .bool(message.isFirst), "fin": .bool(message.isFinal), "con": .bool(message.confirmRequested),
                "uns": .bool(message.isUnsolicited), "sequence": .int(message.sequence),
            ]),
            "function_code": .int(message.functionCode),
        ]
        if let functionName { application.set("function", .string(functionName)) }
        var objects: [JSONValue] = []
        for header in message.headers {
            var object: JSONObject = ["group": .int(header.group), "variation": .int(header.variation)]
            if let name = DNP3Names.group(header.group) { object.set("name", .string(name)) }
            object.set("qualifier", .int(header.qualifier))
            object.set("prefix_code", .int(header.prefixCode))
            object.set("range_code", .int(header.rangeCode))
            if let start = header.start, let stop = header.stop {
                object.set("start", .int(start))
                object.set("stop", .int(stop))
            }
            object.set("count", .int(header.count))
            objects.append(.object(object))
        }
        application.set("objects", .array(objects))
        if !message.controlPoints.isEmpty {
            application.set("points", .array(message.controlPoints.map { .object(pointRecord($0)) }))
        }
        application.set("complete", .bool(message.walkError == nil))
        record.set("application", .object(application))
        if let iin = message.internalIndications {
            record.set("iin", .object(["value": .int(iin),
                                       "indicators": .array(message.internalIndicationNames.map { .string($0) })]))
        }
        return record
    }

    private func pointRecord(_ point: DNP3ControlPoint) -> JSONObject {
        var record: JSONObject = ["group": .int(point.group), "variation": .int(point.variation), "index": .int(point.index)]
        if let code = point.controlCode {
            record.set("control_code", .int(code))
            record.set("operation", .string(DNP3Names.controlOperation(code)))
            if let tripClose = DNP3Names.tripClose(code) { record.set("trip_close", .string(tripClose)) }
        }
        if let value = point.value { record.set("value", .double(value)) }
        return record
    }

    private func pointText(_ point: DNP3ControlPoint) -> String {
        if let code = point.controlCode {
            let tripClose = DNP3Names.tripClose(code).map { " \($0)" } ?? ""
            return "CROB index \(point.index) \(DNP3Names.controlOperation(code))\(tripClose)"
        }
        if let value = point.value {
            return "analog output index \(point.index) value \(value)"
        }
        return "g\(point.group)v\(point.variation) index \(point.index)"
    }

    /// Returns the point index range named by the object headers and indexed control points, if any.
    private func pointRange(_ message: DNP3ApplicationMessage) -> ClosedRange<Int>? {
        var low = Int.max, high = Int.min
        for header in message.headers {
            if let start = header.start, let stop = header.stop {
                low = min(low, Int(start))
                high = max(high, Int(stop))
            }
        }
        for point in message.controlPoints {
            low = min(low, Int(point.index))
            high = max(high, Int(point.index))
        }
        return low <= high ? low...high : nil
    }

    private func objectSummary(_ message: DNP3ApplicationMessage) -> String {
        guard !message.headers.isEmpty else { return "" }
        let parts = message.headers.prefix(3).map { header -> String in
            let name = "g\(header.group)v\(header.variation)"
            if let start = header.start, let stop = header.stop { return "\(name) \(start)-\(stop)" }
            if header.rangeCode == 6 { return "\(name) all" }
            return "\(name) x\(header.count)"
        }
        return ": " + parts.joined(separator: ", ") + (message.headers.count > 3 ? ", ..." : "")
    }

    private func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    private func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }
}
