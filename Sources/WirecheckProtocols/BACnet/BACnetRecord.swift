import WirecheckCore

/// Builds the EVE `bacnet` record of a transaction. Runs only when an event is emitted, so it
/// may allocate.
extension BACnetParser {
    static func record(_ message: BACnetMessage) -> JSONObject {
        var record = JSONObject()
        record.set("bvlc_function", .string(BACnetNames.bvlcFunction(message.bvlcFunction) ?? "unknown"))

        if let npdu = message.npdu {
            var object: JSONObject = ["control": .int(npdu.control)]
            if let network = npdu.destinationNetwork { object.set("dnet", .int(network)) }
            if let network = npdu.sourceNetwork { object.set("snet", .int(network)) }
            if let hops = npdu.hopCount { object.set("hop", .int(hops)) }
            object.set("expecting_reply", .bool(npdu.expectingReply))
            object.set("priority", .int(npdu.priority))
            record.set("npdu", .object(object))
            if let type = npdu.messageType {
                record.set("network_message", .string(BACnetNames.networkMessage(type) ?? "unknown"))
                record.set("network_message_type", .int(type))
            }
        }

        guard let apdu = message.apdu else { return record }
        record.set("apdu_type", .string(BACnetNames.apduType(apdu.type) ?? "unknown"))
        if let invokeID = apdu.invokeID { record.set("invoke_id", .int(invokeID)) }
        if let sequence = apdu.sequenceNumber { record.set("sequence_number", .int(sequence)) }
        if let choice = apdu.serviceChoice {
            record.set("service", .int(choice))
            let service = apdu.type == 1 ? BACnetNames.unconfirmedService(choice) : BACnetNames.confirmedService(choice)
            record.set("service_name", .string(service?.name ?? "unknown"))
        }
        if apdu.type == 6, let reason = apdu.reason {
            record.set("reject_reason", .string(BACnetNames.rejectReason(reason) ?? "reason \(reason)"))
        }
        if apdu.type == 7, let reason = apdu.reason {
            record.set("abort_reason", .string(BACnetNames.abortReason(reason) ?? "reason \(reason)"))
        }
        addDetails(message.details, to: &record)
        return record
    }

    /// Adds the response to a confirmed request to the request's record and returns the phrase
    /// that names it in the operator sentence.
    static func addResponse(_ response: BACnetMessage, header: APDUHeader, to record: inout JSONObject) -> String {
        let type = BACnetNames.apduType(header.type) ?? "unknown"
        record.set("result", .string(type))
        switch header.type {
        case 5:
            addDetails(response.details, to: &record)
            if let errorClass = response.details.errorClass, let errorCode = response.details.errorCode {
                return "error \(BACnetNames.errorClass(errorClass) ?? "class \(errorClass)")/\(BACnetNames.errorCode(errorCode) ?? "code \(errorCode)")"
            }
            return "an error"
        case 6:
            let reason = header.reason.map { BACnetNames.rejectReason($0) ?? "reason \($0)" } ?? "unknown"
            record.set("reject_reason", .string(reason))
            return "reject (\(reason))"
        case 7:
            let reason = header.reason.map { BACnetNames.abortReason($0) ?? "reason \($0)" } ?? "unknown"
            record.set("abort_reason", .string(reason))
            return "abort (\(reason))"
        default:
            return type
        }
    }

    static func addDetails(_ details: BACnetServiceDetails, to record: inout JSONObject) {
        if let object = details.object { record.set("object", bacnetObjectJSON(object)) }
        if let property = details.property { record.set("property", bacnetPropertyJSON(property)) }
        if let index = details.arrayIndex { record.set("array_index", .int(index)) }
        if let vendor = details.vendorID { record.set("vendor_id", .int(vendor)) }
        if let state = details.reinitializedState {
            record.set("reinitialized_state", .string(BACnetNames.reinitializedState(state) ?? "state \(state)"))
        }
        if let value = details.enableDisable {
            record.set("enable_disable", .string(BACnetNames.enableDisable(value) ?? "value \(value)"))
        }
        if let minutes = details.durationMinutes { record.set("duration_minutes", .int(minutes)) }
        if let low = details.lowLimit { record.set("low_limit", .int(low)) }
        if let high = details.highLimit { record.set("high_limit", .int(high)) }
        if let errorClass = details.errorClass, let errorCode = details.errorCode {
            record.set("error", .object([
                "class": .string(BACnetNames.errorClass(errorClass) ?? "class \(errorClass)"),
                "code": .string(BACnetNames.errorCode(errorCode) ?? "code \(errorCode)"),
            ]))
        }
    }
}

func bacnetObjectJSON(_ object: BACnetObjectIdentifier) -> JSONValue {
    .object(["type": .string(object.typeName), "type_id": .int(object.type), "instance": .int(object.instance)])
}

func bacnetPropertyJSON(_ property: UInt32) -> JSONValue {
    .object(["id": .int(property), "name": .string(BACnetNames.propertyIdentifier(property) ?? "unknown")])
}
