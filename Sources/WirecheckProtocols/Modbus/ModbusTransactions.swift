import WirecheckCore

/// Fields decoded from one request, for the transaction record, the operation and the response checks.
struct RequestSummary {
    var fields = JSONObject()
    var rangeStart: Int?
    var rangeEnd: Int?
    /// Coils or registers requested (the read quantity for function code 23).
    var quantity: Int?
    var subfunction: UInt16?
    var meiType: UInt8?
}

/// Per-function-code decoding of request and response PDUs (layouts from the Modbus Application
/// Protocol Specification V1.1b3, section 6). Missing fields are left out of the record; the
/// length check reports them.
extension ModbusParser {
    /// Quantity ranges of spec section 6: reads of 1-2000 coils or 1-125 registers, writes of
    /// 1-1968 coils or 1-123 registers, and 1-121 registers written by function code 23.
    static let coilReadQuantities = 1...2000
    static let registerReadQuantities = 1...125
    static let coilWriteQuantities = 1...1968
    static let registerWriteQuantities = 1...123
    static let readWriteWriteQuantities = 1...121

    func decodeRequest(_ pdu: ModbusPDU, unitID: UInt8, context: ApplicationContext) -> RequestSummary {
        var summary = RequestSummary()
        guard let functionCode = pdu.u8(0) else { return summary }
        switch functionCode {
        case 1, 2, 3, 4:
            let limits = functionCode <= 2 ? ModbusParser.coilReadQuantities : ModbusParser.registerReadQuantities
            decodeAddressAndQuantity(pdu, at: 1, limits: limits, into: &summary, context: context)
        case 5, 6:
            guard let address = pdu.u16(1), let value = pdu.u16(3) else { break }
            summary.fields.set("address", .int(address))
            summary.fields.set("value", .int(value))
            summary.rangeStart = Int(address)
            summary.rangeEnd = Int(address)
            if functionCode == 5 {
                if value == 0xff00 || value == 0 {
                    summary.fields.set("coil_on", .bool(value == 0xff00))
                } else {
                    report(ModbusCatalogue.invalidCoilValue,
                           "\(context.flow.srcIP) sent a Modbus write_single_coil to \(context.flow.destIP) unit \(unitID), coil \(address), with value 0x\(hex(value)) instead of 0xFF00 or 0x0000.",
                           context, ["value": .int(value)])
                }
            }
        case 8:
            guard let subfunction = pdu.u16(1) else { break }
            summary.subfunction = subfunction
            summary.fields.set("subfunction", .int(subfunction))
            if let name = ModbusFunctionCodes.diagnosticSubfunctions[subfunction] {
                summary.fields.set("subfunction_name", .string(name))
            } else {
                report(ModbusCatalogue.invalidSubfunction,
                       "\(context.flow.srcIP) sent Modbus diagnostics sub-function \(subfunction) to \(context.flow.destIP) unit \(unitID), which the specification does not define.",
                       context, ["subfunction": .int(subfunction)])
            }
            summary.fields.set("data", .array(registerValues(pdu, from: 3, count: (pdu.count - 3) / 2)))
        case 15, 16:
            decodeMultipleWrite(pdu, isCoils: functionCode == 15, into: &summary, context: context)
        case 20, 21:
            decodeFileRecords(pdu, isWrite: functionCode == 21, into: &summary, context: context)
        case 22:
            guard let address = pdu.u16(1), let andMask = pdu.u16(3), let orMask = pdu.u16(5) else { break }
            summary.fields.set("address", .int(address))
            summary.fields.set("and_mask", .int(andMask))
            summary.fields.set("or_mask", .int(orMask))
            summary.rangeStart = Int(address)
            summary.rangeEnd = Int(address)
        case 23:
            decodeReadWriteMultiple(pdu, into: &summary, context: context)
        case 24:
            guard let address = pdu.u16(1) else { break }
            summary.fields.set("fifo_pointer_address", .int(address))
            summary.rangeStart = Int(address)
            summary.rangeEnd = Int(address)
        case 43:
            guard let meiType = pdu.u8(1) else { break }
            summary.meiType = meiType
            summary.fields.set("mei_type", .int(meiType))
            if let name = ModbusFunctionCodes.meiTypes[meiType] { summary.fields.set("mei_name", .string(name)) }
            if meiType == ModbusFunctionCodes.meiReadDeviceIdentification {
                if let code = pdu.u8(2) {
                    summary.fields.set("read_device_id_code", .int(code))
                    if let name = ModbusFunctionCodes.deviceIDCodes[code] { summary.fields.set("read_device_id", .string(name)) }
                }
                if let objectID = pdu.u8(3) { summary.fields.set("object_id", .int(objectID)) }
            } else {
                summary.fields.set("mei_data_length", .int(max(0, pdu.count - 2)))
            }
        default:
            // Read exception status (7), comm event counter and log (11, 12), report server id
            // (17) and unknown codes carry no request fields.
            break
        }
        return summary
    }

    func decodeException(_ pdu: ModbusPDU, context: ApplicationContext) -> JSONObject {
        guard let code = pdu.u8(1) else { return ["exception": .string("missing")] }
        if let name = ModbusFunctionCodes.exceptionCodes[code] {
            return ["exception_code": .int(code), "exception": .string(name)]
        }
        report(ModbusCatalogue.invalidExceptionCode,
               "\(context.flow.destIP) sent a Modbus exception response with exception code \(code), which the specification does not define.",
               context, ["exception_code": .int(code)])
        return ["exception_code": .int(code), "exception": .string("unknown_\(code)")]
    }

    func decodeResponse(_ pdu: ModbusPDU, requestQuantity: Int?, context: ApplicationContext) -> JSONObject {
        var fields = JSONObject()
        guard let functionCode = pdu.u8(0) else { return fields }
        let server = context.flow.destIP
        switch functionCode {
        case 1, 2, 3, 4, 23:
            guard let byteCount = pdu.u8(1) else { break }
            fields.set("byte_count", .int(byteCount))
            let isCoils = functionCode <= 2
            if let quantity = requestQuantity {
                let expected = isCoils ? (quantity + 7) / 8 : quantity * 2
                if Int(byteCount) != expected {
                    report(ModbusCatalogue.byteCountMismatch,
                           "\(server) answered a Modbus \(ModbusFunctionCodes.name(functionCode)) request for \(quantity) \(isCoils ? "bits" : "registers") with byte count \(byteCount), expected \(expected).",
                           context, ["byte_count": .int(byteCount), "expected_byte_count": .int(expected)])
                }
            }
            let available = min(Int(byteCount), max(0, pdu.count - 2))
            if isCoils {
                fields.set("values", .array(bitValues(pdu, from: 2, count: min(requestQuantity ?? available * 8, available * 8))))
            } else {
                fields.set("values", .array(registerValues(pdu, from: 2, count: available / 2)))
            }
        case 5, 6:
            if let address = pdu.u16(1) { fields.set("address", .int(address)) }
            if let value = pdu.u16(3) { fields.set("value", .int(value)) }
        case 15, 16:
            if let address = pdu.u16(1) { fields.set("address", .int(address)) }
            if let quantity = pdu.u16(3) { fields.set("quantity", .int(quantity)) }
        case 22:
            if let address = pdu.u16(1) { fields.set("address", .int(address)) }
            if let andMask = pdu.u16(3) { fields.set("and_mask", .int(andMask)) }
            if let orMask = pdu.u16(5) { fields.set("or_mask", .int(orMask)) }
        case 7:
            if let status = pdu.u8(1) { fields.set("output_data", .int(status)) }
        case 8:
            if let subfunction = pdu.u16(1) { fields.set("subfunction", .int(subfunction)) }
            fields.set("data", .array(registerValues(pdu, from: 3, count: (pdu.count - 3) / 2)))
        case 11:
            if let status = pdu.u16(1) { fields.set("status", .int(status)) }
            if let eventCount = pdu.u16(3) { fields.set("event_count", .int(eventCount)) }
        case 12:
            decodeCommEventLog(pdu, into: &fields, context: context)
        case 17:
            guard let byteCount = pdu.u8(1) else { break }
            fields.set("byte_count", .int(byteCount))
            let available = min(Int(byteCount), max(0, pdu.count - 2))
            if let data = pdu.slice(2, available) {
                // The server id is device specific; the run indicator status is its last byte.
                fields.set("server_id", .wire(Array(data.dropLast())))
                if let run = data.last { fields.set("run_indicator_on", .bool(run == 0xff)) }
            }
        case 20:
            decodeFileRecordResponse(pdu, into: &fields, context: context)
        case 21:
            var echo = RequestSummary()
            decodeFileRecords(pdu, isWrite: true, into: &echo, context: context)
            fields = echo.fields
        case 24:
            decodeFIFOResponse(pdu, into: &fields, context: context)
        case 43:
            decodeEncapsulatedResponse(pdu, into: &fields, context: context)
        default:
            fields.set("pdu_length", .int(pdu.count))
        }
        return fields
    }

    // MARK: - Request layouts

    private func decodeAddressAndQuantity(_ pdu: ModbusPDU, at offset: Int, limits: ClosedRange<Int>,
                                          into summary: inout RequestSummary, context: ApplicationContext) {
        guard let address = pdu.u16(offset), let quantity = pdu.u16(offset + 2) else { return }
        summary.fields.set("address", .int(address))
        summary.fields.set("quantity", .int(quantity))
        summary.quantity = Int(quantity)
        summary.rangeStart = Int(address)
        summary.rangeEnd = Int(address) + max(Int(quantity), 1) - 1
        checkQuantity(Int(quantity), limits: limits, pdu: pdu, context: context)
    }

    private func decodeMultipleWrite(_ pdu: ModbusPDU, isCoils: Bool, into summary: inout RequestSummary,
                                     context: ApplicationContext) {
        guard let address = pdu.u16(1), let quantity = pdu.u16(3), let byteCount = pdu.u8(5) else { return }
        summary.fields.set("address", .int(address))
        summary.fields.set("quantity", .int(quantity))
        summary.fields.set("byte_count", .int(byteCount))
        summary.quantity = Int(quantity)
        summary.rangeStart = Int(address)
        summary.rangeEnd = Int(address) + max(Int(quantity), 1) - 1
        checkQuantity(Int(quantity), limits: isCoils ? ModbusParser.coilWriteQuantities : ModbusParser.registerWriteQuantities,
                      pdu: pdu, context: context)
        let expected = isCoils ? (Int(quantity) + 7) / 8 : Int(quantity) * 2
        if Int(byteCount) != expected {
            reportByteCount(pdu, byteCount: Int(byteCount), expected: expected, quantity: Int(quantity), context: context)
        }
        let available = min(Int(byteCount), max(0, pdu.count - 6))
        if isCoils {
            summary.fields.set("values", .array(bitValues(pdu, from: 6, count: min(Int(quantity), available * 8))))
        } else {
            summary.fields.set("values", .array(registerValues(pdu, from: 6, count: available / 2)))
        }
    }

    private func decodeReadWriteMultiple(_ pdu: ModbusPDU, into summary: inout RequestSummary, context: ApplicationContext) {
        guard let readAddress = pdu.u16(1), let readQuantity = pdu.u16(3), let writeAddress = pdu.u16(5),
              let writeQuantity = pdu.u16(7), let byteCount = pdu.u8(9) else { return }
        summary.fields.set("read_address", .int(readAddress))
        summary.fields.set("read_quantity", .int(readQuantity))
        summary.fields.set("write_address", .int(writeAddress))
        summary.fields.set("write_quantity", .int(writeQuantity))
        summary.fields.set("byte_count", .int(byteCount))
        summary.quantity = Int(readQuantity)
        // The operation is a write, so its range is the registers written.
        summary.rangeStart = Int(writeAddress)
        summary.rangeEnd = Int(writeAddress) + max(Int(writeQuantity), 1) - 1
        checkQuantity(Int(readQuantity), limits: ModbusParser.registerReadQuantities, pdu: pdu, context: context)
        checkQuantity(Int(writeQuantity), limits: ModbusParser.readWriteWriteQuantities, pdu: pdu, context: context)
        if Int(byteCount) != Int(writeQuantity) * 2 {
            reportByteCount(pdu, byteCount: Int(byteCount), expected: Int(writeQuantity) * 2, quantity: Int(writeQuantity),
                            context: context)
        }
        let available = min(Int(byteCount), max(0, pdu.count - 10))
        summary.fields.set("values", .array(registerValues(pdu, from: 10, count: available / 2)))
    }

    /// Sub-requests of read file record (7 bytes each) or write file record (7 bytes plus the
    /// record data), within the request's byte count.
    private func decodeFileRecords(_ pdu: ModbusPDU, isWrite: Bool, into summary: inout RequestSummary,
                                   context: ApplicationContext) {
        guard let byteCount = pdu.u8(1) else { return }
        summary.fields.set("byte_count", .int(byteCount))
        let end = 2 + Int(byteCount)
        var offset = 2
        var records: [JSONValue] = []
        while offset + 7 <= min(end, pdu.count) {
            guard let referenceType = pdu.u8(offset), let file = pdu.u16(offset + 1), let recordNumber = pdu.u16(offset + 3),
                  let recordLength = pdu.u16(offset + 5) else { break }
            if records.count < ModbusParser.maximumRecordedValues {
                records.append(.object(["reference_type": .int(referenceType), "file_number": .int(file),
                                        "record_number": .int(recordNumber), "record_length": .int(recordLength)]))
            }
            if summary.rangeStart == nil { summary.rangeStart = Int(file) }
            summary.rangeEnd = max(summary.rangeEnd ?? 0, Int(file))
            offset += 7 + (isWrite ? Int(recordLength) * 2 : 0)
        }
        summary.fields.set("records", .array(records))
        if offset != end {
            let functionName = isWrite ? "write_file_record" : "read_file_record"
            report(ModbusCatalogue.byteCountMismatch,
                   "\(context.flow.srcIP) sent a Modbus \(functionName) with byte count \(byteCount) that does not end on a sub-request boundary.",
                   context, ["byte_count": .int(byteCount)])
        }
    }

    private func checkQuantity(_ quantity: Int, limits: ClosedRange<Int>, pdu: ModbusPDU, context: ApplicationContext) {
        guard !limits.contains(quantity), let functionCode = pdu.u8(0) else { return }
        report(ModbusCatalogue.invalidQuantity,
               "\(context.flow.srcIP) sent a Modbus \(ModbusFunctionCodes.name(functionCode)) to \(context.flow.destIP) with quantity \(quantity), outside \(limits.lowerBound)-\(limits.upperBound).",
               context, ["function_code": .int(functionCode), "quantity": .int(quantity),
                         "minimum": .int(limits.lowerBound), "maximum": .int(limits.upperBound)])
    }

    private func reportByteCount(_ pdu: ModbusPDU, byteCount: Int, expected: Int, quantity: Int, context: ApplicationContext) {
        let name = ModbusFunctionCodes.name(pdu.u8(0) ?? 0)
        report(ModbusCatalogue.byteCountMismatch,
               "\(context.flow.srcIP) sent a Modbus \(name) for quantity \(quantity) with byte count \(byteCount), expected \(expected).",
               context, ["byte_count": .int(byteCount), "expected_byte_count": .int(expected)])
    }

    // MARK: - Response layouts

    private func decodeCommEventLog(_ pdu: ModbusPDU, into fields: inout JSONObject, context: ApplicationContext) {
        guard let byteCount = pdu.u8(1) else { return }
        fields.set("byte_count", .int(byteCount))
        if byteCount < 6 {
            report(ModbusCatalogue.byteCountMismatch,
                   "\(context.flow.destIP) sent a Modbus get_comm_event_log response with byte count \(byteCount), below the 6 bytes of status and counters.",
                   context, ["byte_count": .int(byteCount), "expected_byte_count": .int(6)])
        }
        if let status = pdu.u16(2) { fields.set("status", .int(status)) }
        if let eventCount = pdu.u16(4) { fields.set("event_count", .int(eventCount)) }
        if let messageCount = pdu.u16(6) { fields.set("message_count", .int(messageCount)) }
        let eventBytes = min(max(0, Int(byteCount) - 6), max(0, pdu.count - 8), ModbusParser.maximumRecordedValues)
        if let events = pdu.slice(8, eventBytes) { fields.set("events", .array(events.map { .int($0) })) }
    }

    private func decodeFileRecordResponse(_ pdu: ModbusPDU, into fields: inout JSONObject, context: ApplicationContext) {
        guard let dataLength = pdu.u8(1) else { return }
        fields.set("byte_count", .int(dataLength))
        let end = min(2 + Int(dataLength), pdu.count)
        var offset = 2
        var records: [JSONValue] = []
        while offset + 2 <= end, let length = pdu.u8(offset), let referenceType = pdu.u8(offset + 1) {
            if records.count < ModbusParser.maximumRecordedValues {
                records.append(.object(["reference_type": .int(referenceType), "data_length": .int(max(0, Int(length) - 1))]))
            }
            // The sub-response length counts the reference type byte and the record data.
            offset += 1 + max(Int(length), 1)
        }
        fields.set("records", .array(records))
        if offset != 2 + Int(dataLength) {
            report(ModbusCatalogue.byteCountMismatch,
                   "\(context.flow.destIP) sent a Modbus read_file_record response with data length \(dataLength) that does not end on a sub-response boundary.",
                   context, ["byte_count": .int(dataLength)])
        }
    }

    private func decodeFIFOResponse(_ pdu: ModbusPDU, into fields: inout JSONObject, context: ApplicationContext) {
        guard let byteCount = pdu.u16(1), let fifoCount = pdu.u16(3) else { return }
        fields.set("byte_count", .int(byteCount))
        fields.set("fifo_count", .int(fifoCount))
        let expected = 2 + Int(fifoCount) * 2
        if Int(byteCount) != expected {
            report(ModbusCatalogue.byteCountMismatch,
                   "\(context.flow.destIP) sent a Modbus read_fifo_queue response with byte count \(byteCount) for \(fifoCount) registers, expected \(expected).",
                   context, ["byte_count": .int(byteCount), "expected_byte_count": .int(expected)])
        }
        fields.set("values", .array(registerValues(pdu, from: 5, count: min(Int(fifoCount), (pdu.count - 5) / 2))))
    }

    /// Read device identification (MEI type 14) objects: id, length, value, repeated.
    private func decodeEncapsulatedResponse(_ pdu: ModbusPDU, into fields: inout JSONObject, context: ApplicationContext) {
        guard let meiType = pdu.u8(1) else { return }
        fields.set("mei_type", .int(meiType))
        guard meiType == ModbusFunctionCodes.meiReadDeviceIdentification else {
            fields.set("mei_data_length", .int(max(0, pdu.count - 2)))
            return
        }
        guard let code = pdu.u8(2), let conformity = pdu.u8(3), let moreFollows = pdu.u8(4), let nextObject = pdu.u8(5),
              let objectCount = pdu.u8(6) else { return }
        fields.set("read_device_id_code", .int(code))
        fields.set("conformity_level", .int(conformity))
        fields.set("more_follows", .bool(moreFollows == 0xff))
        fields.set("next_object_id", .int(nextObject))
        fields.set("number_of_objects", .int(objectCount))

        var objects = JSONObject()
        var offset = 7
        var parsed = 0
        while parsed < Int(objectCount), let objectID = pdu.u8(offset), let length = pdu.u8(offset + 1),
              let value = pdu.slice(offset + 2, Int(length)) {
            let name = ModbusFunctionCodes.deviceObjectNames[objectID] ?? "object_\(objectID)"
            objects.set(name, .wire(value))
            offset += 2 + Int(length)
            parsed += 1
        }
        fields.set("objects", .object(objects))
        if parsed != Int(objectCount) || offset != pdu.count {
            report(ModbusCatalogue.byteCountMismatch,
                   "\(context.flow.destIP) sent a Modbus read_device_identification response announcing \(objectCount) objects whose lengths do not fit the \(pdu.count)-byte PDU.",
                   context, ["number_of_objects": .int(objectCount), "objects_parsed": .int(parsed)])
        }
    }

    // MARK: - Values

    private func registerValues(_ pdu: ModbusPDU, from offset: Int, count: Int) -> [JSONValue] {
        var values: [JSONValue] = []
        for index in 0..<max(0, min(count, ModbusParser.maximumRecordedValues)) {
            guard let value = pdu.u16(offset + index * 2) else { break }
            values.append(.int(value))
        }
        return values
    }

    /// Coil or discrete input states, least significant bit of the first byte first (spec 6.1).
    private func bitValues(_ pdu: ModbusPDU, from offset: Int, count: Int) -> [JSONValue] {
        var values: [JSONValue] = []
        for index in 0..<max(0, min(count, ModbusParser.maximumRecordedValues)) {
            guard let byte = pdu.u8(offset + index / 8) else { break }
            values.append(.bool(byte >> UInt8(index % 8) & 1 == 1))
        }
        return values
    }

    private func hex(_ value: UInt16) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}
