import WirecheckCore

/// Parses the Modbus/TCP frames of one flow, pairs requests with responses by transaction id
/// and unit id, and reports conformance anomalies, alerts and one transaction per pair.
final class ModbusParser: ApplicationParser {
    /// Unanswered requests kept per flow unless `--max-outstanding-requests` sets another. A master rarely pipelines more than a few, so 64
    /// bounds memory without dropping requests of a normal session.
    static let maximumOutstandingRequests = 64
    /// A request unanswered this long is reported as unanswered when the next request arrives.
    static let responseTimeoutSeconds = 30.0
    /// Reports of one anomaly per flow, so a broken device cannot flood the output.
    static let maximumReportsPerAnomaly = 10
    /// Values (registers, coils, event bytes) copied into one transaction record.
    static let maximumRecordedValues = 32

    struct PendingRequest {
        var transactionID: UInt16
        var unitID: UInt8
        var functionCode: UInt8
        /// Coils or registers requested, to check the response's byte count.
        var quantity: Int?
        var record: JSONObject
        var operation: Operation
        /// The packets that carried the request, more than one when it was split across segments.
        var packets: [PacketReference]
        var timestamp: Timestamp
    }

    struct AlertKey: Hashable {
        var rule: String
        var unitID: UInt8
        var functionCode: UInt8
    }

    let transport: Transport
    private(set) var pending: [PendingRequest] = []
    /// True once a response on this flow matched its request.
    private var hasMatchedResponse = false
    private var anomalyReports: [String: Int] = [:]
    /// Requests that matched an alert rule after its first alert in this flow, per rule, unit
    /// and function code.
    private(set) var alertRepeats: [AlertKey: Int] = [:]

    init(transport: Transport) {
        self.transport = transport
    }

    var maximumMessageSize: Int { ModbusFrame.maximumFrameSize }

    func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        var offset = 0
        while bytes.count - offset >= ModbusFrame.lengthOffset + 2 {
            let header = ModbusPDU(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            let protocolID = header.u16(ModbusFrame.protocolIDOffset) ?? 0
            let length = Int(header.u16(ModbusFrame.lengthOffset) ?? 0)
            let sender = senderAddress(direction, context)

            if length < ModbusFrame.minimumLengthField || length > ModbusFrame.maximumLengthField {
                if protocolID != 0 {
                    report(ModbusCatalogue.invalidProtocolID, "\(sender) sent a Modbus frame with protocol id \(protocolID), not 0.", context,
                           ["protocol_id": .int(protocolID)])
                }
                if length > ModbusFrame.maximumLengthField {
                    report(ModbusCatalogue.pduTooLong, "\(sender) sent a Modbus frame whose MBAP length \(length) announces a \(length - 1)-byte PDU, over the 253-byte maximum.", context,
                           ["mbap_length": .int(length)])
                } else {
                    report(ModbusCatalogue.invalidLength, "\(sender) sent a Modbus frame whose MBAP length \(length) is below 2, too short for a unit id and a function code.", context,
                           ["mbap_length": .int(length)])
                }
                // The length cannot be trusted to find the next frame, so drop what arrived and
                // start again at the next bytes, which usually begin a new segment.
                return bytes.count
            }

            let frameSize = ModbusFrame.lengthOffset + 2 + length
            guard bytes.count - offset >= frameSize else { break }
            if protocolID != 0 {
                report(ModbusCatalogue.invalidProtocolID, "\(sender) sent a Modbus frame with protocol id \(protocolID), not 0.", context,
                       ["protocol_id": .int(protocolID)])
            }
            let frame = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + frameSize)])
            handleFrame(frame, packets: context.packets(carrying: offset..<(offset + frameSize)), direction: direction,
                        context: context)
            offset += frameSize
        }
        return offset
    }

    func close(context: ApplicationContext) {
        let unanswered = pending
        pending.removeAll()
        for request in unanswered {
            emitTransaction(request, response: nil, responsePackets: [], context: context)
        }
    }

    // MARK: - Frames

    private func handleFrame(_ frame: UnsafeRawBufferPointer, packets: [PacketReference], direction: StreamDirection,
                             context: ApplicationContext) {
        let header = ModbusPDU(frame)
        let transactionID = header.u16(ModbusFrame.transactionIDOffset) ?? 0
        let unitID = header.u8(ModbusFrame.unitIDOffset) ?? 0
        let pdu = ModbusPDU(UnsafeRawBufferPointer(rebasing: frame[ModbusFrame.headerSize...]))
        if direction == .toServer {
            handleRequest(pdu, transactionID: transactionID, unitID: unitID, packets: packets, context: context)
        } else {
            handleResponse(pdu, transactionID: transactionID, unitID: unitID, packets: packets, context: context)
        }
    }

    private func handleRequest(_ pdu: ModbusPDU, transactionID: UInt16, unitID: UInt8, packets: [PacketReference],
                               context: ApplicationContext) {
        guard let functionCode = pdu.u8(0) else { return }
        let client = context.flow.srcIP
        if ModbusFunctionCodes.function(functionCode) == nil {
            let kind = ModbusFunctionCodes.isUserDefined(functionCode) ? "a user-defined" : "an undefined"
            report(ModbusCatalogue.undefinedFunctionCode,
                   "\(client) sent \(kind) Modbus function code \(functionCode) to \(context.flow.destIP) unit \(unitID).", context,
                   ["function_code": .int(functionCode), "user_defined": .bool(ModbusFunctionCodes.isUserDefined(functionCode))])
        } else {
            checkLength(pdu, isRequest: true, context: context)
        }

        let summary = decodeRequest(pdu, unitID: unitID, context: context)
        let operation = makeOperation(functionCode: functionCode, unitID: unitID, summary: summary)
        // The record waits with the request for its response; a run that does not write this
        // transaction keeps an empty one.
        var record = JSONObject()
        if context.logsTransaction(operation) {
            record = [
                "transaction_id": .int(transactionID),
                "unit_id": .int(unitID),
                "function_code": .int(functionCode),
                "function": .string(ModbusFunctionCodes.name(functionCode)),
            ]
            record.set("request", .object(summary.fields))
        }

        expireStaleRequests(context: context)
        let outstandingLimit = context.outstandingRequestLimit(default: ModbusParser.maximumOutstandingRequests)
        if pending.count >= outstandingLimit {
            context.countOutstandingRequestOverrun()
            report(ModbusCatalogue.tooManyOutstandingRequests,
                   "\(client) has \(pending.count) Modbus requests to \(context.flow.destIP) without a response, the per-flow limit, so the oldest is reported as unanswered and dropped.",
                   context, ["limit": .int(outstandingLimit)], oncePerFlow: true)
            let oldest = pending.removeFirst()
            emitTransaction(oldest, response: nil, responsePackets: [], context: context)
        }
        pending.append(PendingRequest(transactionID: transactionID, unitID: unitID, functionCode: functionCode,
                                      quantity: summary.quantity, record: record, operation: operation,
                                      packets: packets, timestamp: context.timestamp))
        raiseAlerts(functionCode: functionCode, unitID: unitID, summary: summary, operation: operation, context: context)
    }

    private func handleResponse(_ pdu: ModbusPDU, transactionID: UInt16, unitID: UInt8, packets: [PacketReference],
                                context: ApplicationContext) {
        guard let functionCode = pdu.u8(0) else { return }
        let server = context.flow.destIP
        let baseCode = functionCode & 0x7f
        let isException = functionCode & 0x80 != 0

        let index = pending.firstIndex { $0.transactionID == transactionID && $0.unitID == unitID }
            ?? pending.firstIndex { $0.transactionID == transactionID }
        let request = index.map { pending.remove(at: $0) }

        if let request, request.functionCode != baseCode {
            report(ModbusCatalogue.functionCodeMismatch,
                   "\(server) answered Modbus transaction \(transactionID) with function code \(baseCode) to a request with function code \(request.functionCode).",
                   context, ["request_function_code": .int(request.functionCode), "response_function_code": .int(baseCode)])
        }
        if ModbusFunctionCodes.function(baseCode) == nil, request?.functionCode != baseCode {
            report(ModbusCatalogue.undefinedFunctionCode,
                   "\(server) sent a Modbus response with undefined function code \(baseCode) from unit \(unitID).", context,
                   ["function_code": .int(baseCode), "user_defined": .bool(ModbusFunctionCodes.isUserDefined(baseCode))])
        } else if ModbusFunctionCodes.function(baseCode) != nil {
            checkLength(pdu, isRequest: false, context: context)
        }

        let matchingQuantity = request?.functionCode == baseCode ? request?.quantity : nil
        let response = isException
            ? decodeException(pdu, context: context)
            : decodeResponse(pdu, requestQuantity: matchingQuantity, context: context)

        guard let request else {
            // On a flow picked up mid-stream, responses before the first matched response may
            // answer requests sent before the capture started, so they are not unsolicited.
            if !(context.isMidstream && !hasMatchedResponse) {
            report(ModbusCatalogue.unsolicitedResponse,
                   "\(server) sent a Modbus \(ModbusFunctionCodes.name(baseCode)) response (transaction \(transactionID), unit \(unitID)) that matches no request from \(context.flow.srcIP).",
                   context, ["transaction_id": .int(transactionID), "unit_id": .int(unitID)])
            }
            var record: JSONObject = [
                "transaction_id": .int(transactionID),
                "unit_id": .int(unitID),
                "function_code": .int(baseCode),
                "function": .string(ModbusFunctionCodes.name(baseCode)),
                "request": .null,
            ]
            record.set("response", .object(response))
            context.transaction(protocolName: ModbusProtocol.name, record: record, operation: nil, packets: packets,
                                message: "\(server) sent a Modbus \(ModbusFunctionCodes.name(baseCode)) response (fc \(baseCode)) from unit \(unitID) to \(context.flow.srcIP) with no matching request.")
            return
        }
        hasMatchedResponse = true
        emitTransaction(request, response: response, responsePackets: packets, context: context)
    }

    private func checkLength(_ pdu: ModbusPDU, isRequest: Bool, context: ApplicationContext) {
        guard !ModbusPDULayout.fits(pdu, isRequest: isRequest), let functionCode = pdu.u8(0) else { return }
        let expected = ModbusPDULayout.expectedLength(pdu, isRequest: isRequest)
        let expectedText = expected.exact.map { "\($0)" } ?? "at least \(expected.minimum)"
        let sender = isRequest ? context.flow.srcIP : context.flow.destIP
        let kind = isRequest ? "request" : "response"
        report(ModbusCatalogue.invalidLength,
               "\(sender) sent a Modbus \(ModbusFunctionCodes.name(functionCode & 0x7f)) \(kind) whose MBAP length gives a \(pdu.count)-byte PDU where the function code defines \(expectedText) bytes.",
               context, ["pdu_length": .int(pdu.count), "expected_pdu_length": .int(expected.exact ?? expected.minimum)])
    }

    // MARK: - Transactions and alerts

    private func expireStaleRequests(context: ApplicationContext) {
        while let oldest = pending.first,
              context.timestamp.interval(since: oldest.timestamp) > ModbusParser.responseTimeoutSeconds {
            pending.removeFirst()
            emitTransaction(oldest, response: nil, responsePackets: [], context: context)
        }
    }

    private func emitTransaction(_ request: PendingRequest, response: JSONObject?, responsePackets: [PacketReference],
                                 context: ApplicationContext) {
        guard context.logsTransaction(request.operation) else {
            context.transaction(protocolName: ModbusProtocol.name, record: JSONObject(), operation: request.operation,
                                packets: request.packets + responsePackets.filter { !request.packets.contains($0) })
            return
        }
        var record = request.record
        record.set("response", response.map { .object($0) } ?? .null)
        var packets = request.packets
        for packet in responsePackets where !packets.contains(packet) { packets.append(packet) }

        let outcome: String
        if let response {
            if case .string(let exception)? = response["exception"], case .int(let code)? = response["exception_code"] {
                outcome = "the server answered with exception \(exception) (\(code))"
            } else {
                outcome = "the server answered"
            }
        } else {
            outcome = "no response was seen"
        }
        let message = "\(context.flow.srcIP) sent a Modbus \(ModbusFunctionCodes.name(request.functionCode)) (fc \(request.functionCode)) to \(context.flow.destIP) unit \(request.unitID)\(rangeText(request.operation)); \(outcome)."
        context.transaction(protocolName: ModbusProtocol.name, record: record, operation: request.operation,
                            packets: packets, message: message)
    }

    private func makeOperation(functionCode: UInt8, unitID: UInt8, summary: RequestSummary) -> Operation {
        let function = ModbusFunctionCodes.function(functionCode)
        var name = ModbusFunctionCodes.name(functionCode)
        var operationClass = function?.operationClass ?? .other
        if functionCode == 8, let subfunction = summary.subfunction {
            if let subfunctionName = ModbusFunctionCodes.diagnosticSubfunctions[subfunction] { name = subfunctionName }
            if subfunction == ModbusFunctionCodes.restartCommunicationsSubfunction { operationClass = .restart }
            if subfunction == ModbusFunctionCodes.forceListenOnlySubfunction { operationClass = .control }
        }
        if functionCode == 43, let meiType = summary.meiType {
            if let meiName = ModbusFunctionCodes.meiTypes[meiType] { name = meiName }
            operationClass = meiType == ModbusFunctionCodes.meiReadDeviceIdentification ? .diagnostic : .other
        }
        return Operation(protocolName: ModbusProtocol.name, name: name, operationClass: operationClass,
                         code: Int(functionCode), unit: Int(unitID), rangeStart: summary.rangeStart, rangeEnd: summary.rangeEnd)
    }

    private func raiseAlerts(functionCode: UInt8, unitID: UInt8, summary: RequestSummary, operation: Operation,
                             context: ApplicationContext) {
        let definition: AlertDefinition
        switch functionCode {
        case 5, 15: definition = ModbusCatalogue.coilWriteRequest
        case 6, 16, 22, 23: definition = ModbusCatalogue.registerWriteRequest
        case 8 where summary.subfunction == ModbusFunctionCodes.restartCommunicationsSubfunction:
            definition = ModbusCatalogue.diagnosticRestart
        case 8 where summary.subfunction == ModbusFunctionCodes.forceListenOnlySubfunction:
            definition = ModbusCatalogue.listenOnlyMode
        case 17: definition = ModbusCatalogue.deviceIdentification
        case 43 where summary.meiType == ModbusFunctionCodes.meiReadDeviceIdentification:
            definition = ModbusCatalogue.deviceIdentification
        default: return
        }

        let key = AlertKey(rule: definition.name, unitID: unitID, functionCode: functionCode)
        if let repeats = alertRepeats[key] {
            alertRepeats[key] = repeats + 1
            return
        }
        alertRepeats[key] = 0
        let message = "\(context.flow.srcIP) sent a Modbus \(operation.name) (fc \(functionCode)) to \(context.flow.destIP) unit \(unitID)\(rangeText(operation)). Later matching requests in this flow are counted, not alerted."
        context.alert(definition, message: message,
                      details: ["function_code": .int(functionCode), "unit_id": .int(unitID), "operation": .string(operation.name)])
    }

    // MARK: - Helpers

    /// Emits an anomaly unless this flow already reported it `maximumReportsPerAnomaly` times
    /// (or once, for `oncePerFlow`).
    func report(_ definition: AnomalyDefinition, _ message: String, _ context: ApplicationContext,
                _ details: JSONObject = JSONObject(), oncePerFlow: Bool = false) {
        let reports = anomalyReports[definition.name, default: 0]
        let limit = oncePerFlow ? 1 : ModbusParser.maximumReportsPerAnomaly
        guard reports < limit else { return }
        anomalyReports[definition.name] = reports + 1
        context.anomaly(definition, message: message, details: details)
    }

    private func senderAddress(_ direction: StreamDirection, _ context: ApplicationContext) -> IPAddress {
        direction == .toServer ? context.flow.srcIP : context.flow.destIP
    }

    private func rangeText(_ operation: Operation) -> String {
        guard let start = operation.rangeStart else { return "" }
        let noun = ModbusParser.addressNoun(Int(operation.code))
        if let end = operation.rangeEnd, end != start { return ", \(noun)s \(start)-\(end)" }
        return ", \(noun) \(start)"
    }

    private static func addressNoun(_ functionCode: Int) -> String {
        switch functionCode {
        case 1, 5, 15: return "coil"
        case 2: return "discrete input"
        case 4: return "input register"
        case 24: return "FIFO pointer register"
        default: return "register"
        }
    }
}
