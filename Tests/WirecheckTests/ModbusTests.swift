import Testing
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

/// One request/response pair run through the application layer, with the parts of its
/// transaction event.
private struct Exchange {
    let harness: ApplicationLayerHarness
    var event: Event? { harness.transactions.first }
    var record: JSONObject? { event?.modbusRecord }
    var request: JSONObject? { jsonObject(record?["request"]) }
    var response: JSONObject? { jsonObject(record?["response"]) }
    var operation: JSONObject? { event?.operationRecord }

    init(_ requestPDU: [UInt8], _ responsePDU: [UInt8]?, unit: UInt8 = 1, transactionID: UInt16 = 1) {
        harness = ApplicationLayerHarness()
        harness.send(modbusFrame(transactionID, unit: unit, requestPDU))
        if let responsePDU { harness.send(modbusFrame(transactionID, unit: unit, responsePDU), .toClient) }
        harness.end()
    }
}

private func ints(_ values: [Int]) -> JSONValue { .array(values.map { .int($0) }) }
private func bools(_ values: [Bool]) -> JSONValue { .array(values.map { .bool($0) }) }

/// Frames from the examples of the Modbus Application Protocol Specification V1.1b3, section 6.
@Suite struct ModbusFunctionCodeTests {
    @Test func readCoils() {
        let exchange = Exchange([0x01, 0x00, 0x13, 0x00, 0x13], [0x01, 0x03, 0xcd, 0x6b, 0x05])
        #expect(exchange.record?["function_code"] == .int(1))
        #expect(exchange.record?["function"] == .string("read_coils"))
        #expect(exchange.record?["unit_id"] == .int(1))
        #expect(exchange.request?["address"] == .int(19))
        #expect(exchange.request?["quantity"] == .int(19))
        #expect(exchange.response?["byte_count"] == .int(3))
        #expect(exchange.response?["values"] == bools([true, false, true, true, false, false, true, true,
                                                        true, true, false, true, false, true, true, false,
                                                        true, false, true]))
        #expect(exchange.operation?["class"] == .string("read"))
        #expect(exchange.operation?["range_start"] == .int(19))
        #expect(exchange.operation?["range_end"] == .int(37))
        #expect(exchange.harness.anomalies.isEmpty)
        #expect(exchange.harness.alerts.isEmpty)
    }

    @Test func readDiscreteInputs() {
        let exchange = Exchange([0x02, 0x00, 0xc4, 0x00, 0x16], [0x02, 0x03, 0xac, 0xdb, 0x35])
        #expect(exchange.record?["function"] == .string("read_discrete_inputs"))
        #expect(exchange.request?["address"] == .int(196))
        #expect(exchange.request?["quantity"] == .int(22))
        #expect(exchange.response?["byte_count"] == .int(3))
        #expect(jsonArray(exchange.response?["values"])?.count == 22)
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func readHoldingRegisters() {
        let exchange = Exchange([0x03, 0x00, 0x6b, 0x00, 0x03], [0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64])
        #expect(exchange.record?["function"] == .string("read_holding_registers"))
        #expect(exchange.request?["address"] == .int(107))
        #expect(exchange.request?["quantity"] == .int(3))
        #expect(exchange.response?["byte_count"] == .int(6))
        #expect(exchange.response?["values"] == ints([555, 0, 100]))
        #expect(exchange.operation?["name"] == .string("read_holding_registers"))
        #expect(exchange.operation?["unit"] == .int(1))
        #expect(exchange.operation?["range_start"] == .int(107))
        #expect(exchange.operation?["range_end"] == .int(109))
        #expect(exchange.event?.message == "10.0.0.5 sent a Modbus read_holding_registers (fc 3) to 10.0.0.20 unit 1, registers 107-109; the server answered.")
        #expect(exchange.event?.packets.count == 2)
    }

    @Test func readInputRegisters() {
        let exchange = Exchange([0x04, 0x00, 0x08, 0x00, 0x01], [0x04, 0x02, 0x00, 0x0a])
        #expect(exchange.record?["function"] == .string("read_input_registers"))
        #expect(exchange.request?["address"] == .int(8))
        #expect(exchange.request?["quantity"] == .int(1))
        #expect(exchange.response?["values"] == ints([10]))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func writeSingleCoil() {
        let exchange = Exchange([0x05, 0x00, 0xac, 0xff, 0x00], [0x05, 0x00, 0xac, 0xff, 0x00])
        #expect(exchange.record?["function"] == .string("write_single_coil"))
        #expect(exchange.request?["address"] == .int(172))
        #expect(exchange.request?["value"] == .int(0xff00))
        #expect(exchange.request?["coil_on"] == .bool(true))
        #expect(exchange.response?["address"] == .int(172))
        #expect(exchange.response?["value"] == .int(0xff00))
        #expect(exchange.operation?["class"] == .string("write"))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.write_request"])
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func writeSingleRegister() {
        let exchange = Exchange([0x06, 0x00, 0x01, 0x00, 0x03], [0x06, 0x00, 0x01, 0x00, 0x03])
        #expect(exchange.record?["function"] == .string("write_single_register"))
        #expect(exchange.request?["address"] == .int(1))
        #expect(exchange.request?["value"] == .int(3))
        #expect(exchange.response?["value"] == .int(3))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.register_write_request"])
        #expect(exchange.harness.alerts.first?.message?.contains("10.0.0.5 sent a Modbus write_single_register (fc 6) to 10.0.0.20 unit 1, register 1") == true)
    }

    @Test func readExceptionStatus() {
        let exchange = Exchange([0x07], [0x07, 0x6d])
        #expect(exchange.record?["function"] == .string("read_exception_status"))
        #expect(exchange.response?["output_data"] == .int(0x6d))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func diagnosticsReturnQueryData() {
        let exchange = Exchange([0x08, 0x00, 0x00, 0xa5, 0x37], [0x08, 0x00, 0x00, 0xa5, 0x37])
        #expect(exchange.record?["function"] == .string("diagnostics"))
        #expect(exchange.request?["subfunction"] == .int(0))
        #expect(exchange.request?["subfunction_name"] == .string("return_query_data"))
        #expect(exchange.request?["data"] == ints([0xa537]))
        #expect(exchange.response?["data"] == ints([0xa537]))
        #expect(exchange.operation?["name"] == .string("return_query_data"))
        #expect(exchange.operation?["class"] == .string("diagnostic"))
        #expect(exchange.harness.alerts.isEmpty)
    }

    @Test func diagnosticsRestartCommunications() {
        let exchange = Exchange([0x08, 0x00, 0x01, 0x00, 0x00], [0x08, 0x00, 0x01, 0x00, 0x00])
        #expect(exchange.operation?["class"] == .string("restart"))
        #expect(exchange.operation?["name"] == .string("restart_communications_option"))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.diagnostic_restart"])
    }

    @Test func diagnosticsForceListenOnly() {
        let exchange = Exchange([0x08, 0x00, 0x04, 0x00, 0x00], nil)
        #expect(exchange.operation?["class"] == .string("control"))
        #expect(exchange.record?["response"] == .null)
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.listen_only_mode"])
    }

    @Test func getCommEventCounter() {
        let exchange = Exchange([0x0b], [0x0b, 0xff, 0xff, 0x01, 0x08])
        #expect(exchange.record?["function"] == .string("get_comm_event_counter"))
        #expect(exchange.response?["status"] == .int(0xffff))
        #expect(exchange.response?["event_count"] == .int(264))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func getCommEventLog() {
        let exchange = Exchange([0x0c], [0x0c, 0x08, 0x00, 0x00, 0x01, 0x08, 0x01, 0x21, 0x20, 0x00])
        #expect(exchange.record?["function"] == .string("get_comm_event_log"))
        #expect(exchange.response?["byte_count"] == .int(8))
        #expect(exchange.response?["status"] == .int(0))
        #expect(exchange.response?["event_count"] == .int(264))
        #expect(exchange.response?["message_count"] == .int(289))
        #expect(exchange.response?["events"] == ints([0x20, 0x00]))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func writeMultipleCoils() {
        let exchange = Exchange([0x0f, 0x00, 0x13, 0x00, 0x0a, 0x02, 0xcd, 0x01], [0x0f, 0x00, 0x13, 0x00, 0x0a])
        #expect(exchange.record?["function"] == .string("write_multiple_coils"))
        #expect(exchange.request?["address"] == .int(19))
        #expect(exchange.request?["quantity"] == .int(10))
        #expect(exchange.request?["byte_count"] == .int(2))
        #expect(exchange.request?["values"] == bools([true, false, true, true, false, false, true, true, true, false]))
        #expect(exchange.response?["quantity"] == .int(10))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.write_request"])
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func writeMultipleRegisters() {
        let exchange = Exchange([0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0a, 0x01, 0x02], [0x10, 0x00, 0x01, 0x00, 0x02])
        #expect(exchange.record?["function"] == .string("write_multiple_registers"))
        #expect(exchange.request?["address"] == .int(1))
        #expect(exchange.request?["quantity"] == .int(2))
        #expect(exchange.request?["values"] == ints([10, 258]))
        #expect(exchange.response?["address"] == .int(1))
        #expect(exchange.response?["quantity"] == .int(2))
        #expect(exchange.operation?["range_end"] == .int(2))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.register_write_request"])
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func reportServerID() {
        let exchange = Exchange([0x11], [0x11, 0x04, 0x50, 0x4c, 0x43, 0xff])
        #expect(exchange.record?["function"] == .string("report_server_id"))
        #expect(exchange.response?["byte_count"] == .int(4))
        #expect(exchange.response?["server_id"] == .wire(Array("PLC".utf8)))
        #expect(exchange.response?["run_indicator_on"] == .bool(true))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.device_identification"])
    }

    @Test func readFileRecord() {
        let exchange = Exchange(
            [0x14, 0x0e, 0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, 0x06, 0x00, 0x03, 0x00, 0x09, 0x00, 0x02],
            [0x14, 0x0c, 0x05, 0x06, 0x0d, 0xfe, 0x00, 0x20, 0x05, 0x06, 0x33, 0xcd, 0x00, 0x40])
        #expect(exchange.record?["function"] == .string("read_file_record"))
        #expect(exchange.request?["byte_count"] == .int(14))
        let records = jsonArray(exchange.request?["records"]) ?? []
        #expect(records.count == 2)
        #expect(jsonObject(records.first)?["file_number"] == .int(4))
        #expect(jsonObject(records.first)?["record_number"] == .int(1))
        #expect(jsonObject(records.first)?["record_length"] == .int(2))
        #expect(jsonObject(records.last)?["file_number"] == .int(3))
        #expect(jsonArray(exchange.response?["records"])?.count == 2)
        #expect(exchange.operation?["class"] == .string("program"))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func writeFileRecord() {
        let pdu: [UInt8] = [0x15, 0x0d, 0x06, 0x00, 0x04, 0x00, 0x07, 0x00, 0x03, 0x06, 0xaf, 0x04, 0xbe, 0x10, 0x0d]
        let exchange = Exchange(pdu, pdu)
        #expect(exchange.record?["function"] == .string("write_file_record"))
        let record = jsonObject(jsonArray(exchange.request?["records"])?.first)
        #expect(record?["reference_type"] == .int(6))
        #expect(record?["file_number"] == .int(4))
        #expect(record?["record_number"] == .int(7))
        #expect(record?["record_length"] == .int(3))
        #expect(exchange.response?["byte_count"] == .int(13))
        #expect(exchange.operation?["class"] == .string("program"))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func maskWriteRegister() {
        let pdu: [UInt8] = [0x16, 0x00, 0x04, 0x00, 0xf2, 0x00, 0x25]
        let exchange = Exchange(pdu, pdu)
        #expect(exchange.record?["function"] == .string("mask_write_register"))
        #expect(exchange.request?["address"] == .int(4))
        #expect(exchange.request?["and_mask"] == .int(0xf2))
        #expect(exchange.request?["or_mask"] == .int(0x25))
        #expect(exchange.response?["or_mask"] == .int(0x25))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.register_write_request"])
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func readWriteMultipleRegisters() {
        let exchange = Exchange(
            [0x17, 0x00, 0x03, 0x00, 0x06, 0x00, 0x0e, 0x00, 0x03, 0x06, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff],
            [0x17, 0x0c, 0x00, 0xfe, 0x0a, 0xcd, 0x00, 0x01, 0x00, 0x03, 0x00, 0x0d, 0x00, 0xff])
        #expect(exchange.record?["function"] == .string("read_write_multiple_registers"))
        #expect(exchange.request?["read_address"] == .int(3))
        #expect(exchange.request?["read_quantity"] == .int(6))
        #expect(exchange.request?["write_address"] == .int(14))
        #expect(exchange.request?["write_quantity"] == .int(3))
        #expect(exchange.request?["values"] == ints([255, 255, 255]))
        #expect(exchange.response?["values"] == ints([0xfe, 0x0acd, 1, 3, 13, 255]))
        #expect(exchange.operation?["range_start"] == .int(14))
        #expect(exchange.operation?["range_end"] == .int(16))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func readFIFOQueue() {
        let exchange = Exchange([0x18, 0x04, 0xde], [0x18, 0x00, 0x06, 0x00, 0x02, 0x01, 0xb8, 0x12, 0x84])
        #expect(exchange.record?["function"] == .string("read_fifo_queue"))
        #expect(exchange.request?["fifo_pointer_address"] == .int(0x04de))
        #expect(exchange.response?["byte_count"] == .int(6))
        #expect(exchange.response?["fifo_count"] == .int(2))
        #expect(exchange.response?["values"] == ints([0x01b8, 0x1284]))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func readDeviceIdentification() {
        let vendor = Array("Company identification".utf8)
        let product = Array("Product code XX".utf8)
        let revision = Array("V2.11".utf8)
        var response: [UInt8] = [0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03]
        response += [0x00, UInt8(vendor.count)] + vendor
        response += [0x01, UInt8(product.count)] + product
        response += [0x02, UInt8(revision.count)] + revision
        let exchange = Exchange([0x2b, 0x0e, 0x01, 0x00], response)
        #expect(exchange.record?["function"] == .string("encapsulated_interface_transport"))
        #expect(exchange.request?["mei_type"] == .int(14))
        #expect(exchange.request?["read_device_id_code"] == .int(1))
        #expect(exchange.request?["object_id"] == .int(0))
        #expect(exchange.response?["conformity_level"] == .int(1))
        #expect(exchange.response?["number_of_objects"] == .int(3))
        let objects = jsonObject(exchange.response?["objects"])
        #expect(objects?["vendor_name"] == .wire(vendor))
        #expect(objects?["product_code"] == .wire(product))
        #expect(objects?["major_minor_revision"] == .wire(revision))
        #expect(exchange.operation?["name"] == .string("read_device_identification"))
        #expect(exchange.operation?["class"] == .string("diagnostic"))
        #expect(exchange.harness.alerts.compactMap(\.alertRule) == ["modbus.device_identification"])
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func canopenGeneralReference() {
        let exchange = Exchange([0x2b, 0x0d, 0x00, 0x01, 0x02], [0x2b, 0x0d, 0x00, 0x01, 0x02])
        #expect(exchange.request?["mei_name"] == .string("canopen_general_reference"))
        #expect(exchange.request?["mei_data_length"] == .int(3))
        #expect(exchange.operation?["class"] == .string("other"))
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func exceptionResponse() {
        let exchange = Exchange([0x01, 0x04, 0xa1, 0x00, 0x01], [0x81, 0x02])
        #expect(exchange.record?["function_code"] == .int(1))
        #expect(exchange.response?["exception_code"] == .int(2))
        #expect(exchange.response?["exception"] == .string("illegal_data_address"))
        #expect(exchange.event?.message?.hasSuffix("the server answered with exception illegal_data_address (2).") == true)
        #expect(exchange.harness.anomalies.isEmpty)
    }

    @Test func everyDefinedExceptionCodeIsAccepted() {
        for code: UInt8 in [1, 2, 3, 4, 5, 6, 8, 10, 11] {
            let exchange = Exchange([0x03, 0x00, 0x00, 0x00, 0x01], [0x83, code])
            #expect(exchange.harness.anomalies.isEmpty, "exception code \(code)")
        }
    }
}

@Suite struct ModbusAnomalyTests {
    /// Each case: a request PDU, a response PDU (or none), and the anomaly they must raise.
    private static let cases: [(name: String, request: [UInt8], response: [UInt8]?)] = [
        ("applayer.modbus.undefined_function_code", [0x29, 0x00], [0x29, 0x00]),
        ("applayer.modbus.invalid_quantity", [0x03, 0x00, 0x00, 0x00, 0x7e], nil),
        ("applayer.modbus.invalid_quantity", [0x01, 0x00, 0x00, 0x07, 0xd1], nil),
        ("applayer.modbus.invalid_quantity", [0x03, 0x00, 0x00, 0x00, 0x00], nil),
        ("applayer.modbus.invalid_quantity", [0x10, 0x00, 0x00, 0x00, 0x7c, 0x02, 0x00, 0x00], nil),
        ("applayer.modbus.byte_count_mismatch", [0x10, 0x00, 0x01, 0x00, 0x02, 0x02, 0x00, 0x0a], nil),
        ("applayer.modbus.byte_count_mismatch", [0x03, 0x00, 0x00, 0x00, 0x02], [0x03, 0x02, 0x00, 0x01]),
        ("applayer.modbus.invalid_exception_code", [0x03, 0x00, 0x00, 0x00, 0x01], [0x83, 0x07]),
        ("applayer.modbus.function_code_mismatch", [0x03, 0x00, 0x00, 0x00, 0x01], [0x04, 0x02, 0x00, 0x01]),
        ("applayer.modbus.invalid_subfunction", [0x08, 0x00, 0x63, 0x00, 0x00], nil),
        ("applayer.modbus.invalid_length", [0x03, 0x00, 0x00, 0x00, 0x01, 0x00], nil),
        ("applayer.modbus.invalid_coil_value", [0x05, 0x00, 0x01, 0x12, 0x34], nil),
    ]

    @Test func eachCaseRaisesItsAnomaly() {
        for testCase in ModbusAnomalyTests.cases {
            let harness = ApplicationLayerHarness()
            // A valid first request identifies the flow, so malformed frames reach the parser.
            harness.send(modbusFrame(100, [0x03, 0x00, 0x00, 0x00, 0x01]))
            harness.send(modbusFrame(100, [0x03, 0x02, 0x00, 0x00]), .toClient)
            harness.send(modbusFrame(1, testCase.request))
            if let response = testCase.response { harness.send(modbusFrame(1, response), .toClient) }
            #expect(harness.anomalyNames.contains(testCase.name), "\(testCase.name) from \(testCase.request)")
        }
    }

    @Test func cleanSessionRaisesNone() {
        let harness = ApplicationLayerHarness()
        let pairs: [([UInt8], [UInt8])] = [
            ([0x01, 0x00, 0x00, 0x07, 0xd0], [0x01, 0xfa] + [UInt8](repeating: 0, count: 250)),
            ([0x03, 0x00, 0x00, 0x00, 0x7d], [0x03, 0xfa] + [UInt8](repeating: 0, count: 250)),
            ([0x0f, 0x00, 0x00, 0x07, 0xb0, 0xf6] + [UInt8](repeating: 0, count: 0xf6), [0x0f, 0x00, 0x00, 0x07, 0xb0]),
            ([0x10, 0x00, 0x00, 0x00, 0x7b, 0xf6] + [UInt8](repeating: 0, count: 0xf6), [0x10, 0x00, 0x00, 0x00, 0x7b]),
            ([0x05, 0x00, 0x01, 0x00, 0x00], [0x05, 0x00, 0x01, 0x00, 0x00]),
            ([0x08, 0x00, 0x0a, 0x00, 0x00], [0x08, 0x00, 0x0a, 0x00, 0x00]),
            ([0x04, 0x00, 0x00, 0x00, 0x01], [0x84, 0x0b]),
        ]
        for (index, pair) in pairs.enumerated() {
            harness.send(modbusFrame(UInt16(index), pair.0))
            harness.send(modbusFrame(UInt16(index), pair.1), .toClient)
        }
        harness.end()
        #expect(harness.anomalies.isEmpty)
        #expect(harness.transactions.count == pairs.count)
    }

    @Test func invalidProtocolID() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.send(modbusFrame(2, [0x03, 0x00, 0x00, 0x00, 0x01], protocolID: 7))
        #expect(harness.anomalyNames == ["applayer.modbus.invalid_protocol_id"])
        #expect(harness.anomalies.first?.message?.contains("protocol id 7") == true)
    }

    @Test func pduTooLong() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.send([0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03])
        #expect(harness.anomalyNames == ["applayer.modbus.pdu_too_long"])
        // The parser drops the bad frame's bytes and reads the next frame normally.
        harness.send(modbusFrame(3, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.end()
        #expect(harness.transactions.count == 2)
    }

    @Test func lengthBelowMinimum() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.send([0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01])
        #expect(harness.anomalyNames == ["applayer.modbus.invalid_length"])
    }

    @Test func unsolicitedResponse() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(9, [0x03, 0x02, 0x00, 0x01]), .toClient)
        #expect(harness.flow.appProto == "modbus")
        #expect(harness.anomalyNames == ["applayer.modbus.unsolicited_response"])
        #expect(harness.transactions.first?.modbusRecord?["request"] == .null)
    }

    @Test func tooManyOutstandingRequests() {
        let harness = ApplicationLayerHarness()
        for transactionID in 0..<UInt16(ModbusParser.maximumOutstandingRequests) {
            harness.send(modbusFrame(transactionID, [0x03, 0x00, 0x00, 0x00, 0x01]))
        }
        #expect(harness.anomalies.isEmpty)
        harness.send(modbusFrame(1000, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.send(modbusFrame(1001, [0x03, 0x00, 0x00, 0x00, 0x01]))
        #expect(harness.anomalyNames == ["applayer.modbus.too_many_outstanding_requests"])
        // The two oldest requests were dropped and reported as unanswered.
        #expect(harness.transactions.map { $0.modbusRecord?["transaction_id"] } == [.int(0), .int(1)])
    }

    @Test func staleRequestReportedUnanswered() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        harness.timestamp = harness.timestamp.adding(seconds: 60)
        harness.send(modbusFrame(2, [0x03, 0x00, 0x00, 0x00, 0x01]))
        #expect(harness.transactions.count == 1)
        #expect(harness.transactions.first?.modbusRecord?["response"] == .null)
        #expect(harness.transactions.first?.message?.hasSuffix("no response was seen.") == true)
    }

    @Test func anomalyReportsAreCapped() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        for transactionID in 2..<40 {
            harness.send(modbusFrame(UInt16(transactionID), [0x08, 0x00, 0x63, 0x00, 0x00]))
        }
        #expect(harness.anomalyNames.count == ModbusParser.maximumReportsPerAnomaly)
    }
}

@Suite struct ModbusAlertTests {
    @Test func repeatedWritesAlertOncePerUnitAndCode() {
        let harness = ApplicationLayerHarness()
        for transactionID in 1...5 {
            harness.send(modbusFrame(UInt16(transactionID), unit: 1, [0x06, 0x00, 0x01, 0x00, 0x03]))
        }
        harness.send(modbusFrame(6, unit: 2, [0x06, 0x00, 0x01, 0x00, 0x03]))
        harness.send(modbusFrame(7, unit: 1, [0x10, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x01]))
        #expect(harness.alerts.count == 3)
        let parser = (harness.flow.application as? FlowApplicationState)?.parser as? ModbusParser
        let key = ModbusParser.AlertKey(rule: "modbus.register_write_request", unitID: 1, functionCode: 6)
        #expect(parser?.alertRepeats[key] == 4)
    }

    @Test func alertCarriesTechnique() {
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x08, 0x00, 0x01, 0x00, 0x00]))
        let alert = jsonObject(harness.alerts.first?.body["alert"])
        let metadata = jsonObject(alert?["metadata"])
        #expect(metadata?["mitre_technique_id"] == .array([.string("T0816")]))
        #expect(alert?["severity"] == .int(1))
        #expect(alert?["signature_id"] == .int(2102))
    }
}

@Suite struct ModbusProbeTests {
    private func probe(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) -> ProbeResult {
        bytes.withUnsafeBytes { ModbusProtocol.probe($0, direction: direction, transport: .tcp) }
    }

    @Test func matchesRequest() {
        #expect(probe(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01])) == .match)
    }

    @Test func matchesExceptionResponse() {
        #expect(probe(modbusFrame(1, [0x83, 0x02]), .toClient) == .match)
    }

    @Test func partialFrameNeedsMoreData() {
        #expect(probe(Array(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01])[0..<9])) == .needMoreData)
        #expect(probe([0x00, 0x01]) == .needMoreData)
    }

    @Test func rejectsHTTP() {
        #expect(probe(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == .noMatch)
    }

    @Test func rejectsTLSClientHello() {
        #expect(probe([0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x2a, 0x03, 0x03]) == .noMatch)
    }

    @Test func rejectsWrongPDULength() {
        #expect(probe(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01, 0x00])) == .noMatch)
    }

    @Test func undefinedFunctionCodeNeedsExactFraming() {
        // The MBAP header frames the bytes exactly, so the flow is Modbus and the parser
        // reports the function code; with bytes left over it is not taken as Modbus.
        #expect(probe(modbusFrame(1, [0x29, 0x00])) == .match)
        #expect(probe(modbusFrame(1, [0x29, 0x00]) + [0x41, 0x42, 0x43]) == .noMatch)
        #expect(probe(modbusFrame(1, [0x00, 0x00])) == .noMatch)
    }

    @Test func rejectsExceptionFromClient() {
        #expect(probe(modbusFrame(1, [0x83, 0x02])) == .noMatch)
    }

    @Test func randomBytesRarelyMatch() {
        var generator = SystemRandomNumberGenerator()
        var matches = 0
        for _ in 0..<10_000 {
            let bytes = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if probe(bytes) == .match { matches += 1 }
        }
        #expect(matches == 0)
    }

    @Test func hostileFramesDoNotCrash() {
        var generator = SystemRandomNumberGenerator()
        let harness = ApplicationLayerHarness()
        harness.send(modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x01]))
        for round in 0..<2000 {
            let functionCode = UInt8.random(in: 0...255, using: &generator)
            let body = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            harness.send(modbusFrame(UInt16(round), [functionCode] + body), round % 2 == 0 ? .toServer : .toClient)
        }
        harness.end()
        #expect(harness.transactions.count > 0)
    }
}
