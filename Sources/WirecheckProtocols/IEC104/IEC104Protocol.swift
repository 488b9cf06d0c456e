import WirecheckCore

/// IEC 60870-5-104 over TCP port 2404: APCI framing (I, S and U frames) carrying
/// IEC 60870-5-101 ASDUs.
public enum IEC104Protocol: ApplicationProtocol {
    public static let name = "iec104"
    public static let port: UInt16 = 2404
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [port]]

    /// Matches a first APDU with start octet 0x68, a valid length and a well-formed control field:
    /// an S-frame or U-frame of length 4, or an I-frame whose type id and cause are defined.
    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .tcp else { return .noMatch }
        if bytes.count >= 1 && bytes[0] != IEC104APCI.startOctet { return .noMatch }
        guard let apci = IEC104APCI(bytes) else { return .needMoreData }
        guard apci.length >= IEC104APCI.minimumLength, apci.length <= IEC104APCI.maximumLength else { return .noMatch }
        switch apci.format {
        case .s:
            return apci.length == 4 && apci.control.0 == 0x01 && apci.control.1 == 0 ? .match : .noMatch
        case .u:
            let valid = apci.length == 4 && IEC104Names.uFunction(apci.control.0) != nil
                && apci.control.1 == 0 && apci.control.2 == 0 && apci.control.3 == 0
            return valid ? .match : .noMatch
        case .i:
            guard apci.length >= IEC104APCI.minimumLength + IEC104ASDU.headerSize else { return .noMatch }
            guard bytes.count >= IEC104APCI.headerSize + 3 else { return .needMoreData }
            let typeKnown = IEC104Names.type(bytes[6]) != nil
            let causeKnown = IEC104Names.cause(bytes[8] & 0x3F) != nil
            return typeKnown && causeKnown ? .match : .noMatch
        }
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        IEC104Parser()
    }
}

/// The per-flow IEC 104 parser: frames both directions, follows the send sequence numbers and the
/// data transfer state, and emits one `iec104` event per APDU.
///
/// `applayer.iec104.i_frame_before_startdt` is raised only once the parser has seen the data transfer
/// state: after it has seen a STARTDT act (data transfer pending until STARTDT con) or a STOPDT con
/// (stopped). A flow whose capture starts after STARTDT shows I-frames first, and the parser
/// cannot tell that from a peer that skipped STARTDT, so those I-frames raise nothing.
public final class IEC104Parser: ApplicationParser {
    /// Anomalies of one kind reported per flow. A broken or hostile peer can cause one per APDU,
    /// so past this many, further repeats are only counted.
    static let maxAnomaliesPerKind = 50
    /// Half of the 15-bit sequence space: an N(S) behind the expected one by less than this is a
    /// repeat, further ahead a gap.
    static let sequenceHalfSpace: UInt16 = 0x4000

    enum DataTransfer {
        case unknown
        case startPending
        case started
        case stopped
    }

    final class DirectionState {
        var expectedSend: UInt16?
        var resyncing = false
    }

    struct AlertKey: Hashable {
        var rule: String
        var typeID: UInt8
        var commonAddress: UInt16
    }

    private let toServerState = DirectionState()
    private let toClientState = DirectionState()
    private(set) var dataTransfer = DataTransfer.unknown
    /// How often each alert key matched; only the first match emits an alert.
    private(set) var alertCounts: [AlertKey: Int] = [:]
    private var anomalyCounts: [String: Int] = [:]

    public init() {}

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        let state = direction == .toServer ? toServerState : toClientState
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard rest[0] == IEC104APCI.startOctet else {
                let skipped = rest.firstIndex(of: IEC104APCI.startOctet) ?? rest.count
                if !state.resyncing {
                    state.resyncing = true
                    raise(IEC104Catalogue.invalidStartByte, context,
                          "\(sender(direction, context)) sent \(skipped) octets that do not start an IEC 104 APDU (first octet 0x\(DNP3Bytes.hex(rest[0]))); the parser skipped to the next 0x68.",
                          ["skipped_octets": .int(skipped), "first_octet": .int(rest[0])])
                }
                offset += skipped
                continue
            }
            guard let apci = IEC104APCI(rest) else { break }
            guard apci.length >= IEC104APCI.minimumLength, apci.length <= IEC104APCI.maximumLength else {
                raise(IEC104Catalogue.invalidLength, context,
                      "\(sender(direction, context)) sent an IEC 104 APDU with length \(apci.length), outside 4 to 253; the parser skipped to the next 0x68.",
                      ["length": .int(apci.length)])
                state.resyncing = true
                offset += 1
                continue
            }
            guard rest.count >= apci.frameSize else { break }
            state.resyncing = false
            handleAPDU(UnsafeRawBufferPointer(rebasing: rest[0..<apci.frameSize]), apci: apci, state: state,
                       direction: direction, context: context)
            offset += apci.frameSize
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        // I-frames in the lost bytes would show as a sequence gap that the peer never made.
        let state = direction == .toServer ? toServerState : toClientState
        state.expectedSend = nil
        state.resyncing = false
    }

    private func handleAPDU(_ frame: UnsafeRawBufferPointer, apci: IEC104APCI, state: DirectionState,
                            direction: StreamDirection, context: ApplicationContext) {
        let senderAddress = sender(direction, context)
        var apciRecord: JSONObject = ["type": .string(apci.format.rawValue), "length": .int(apci.length)]
        var record = JSONObject()
        switch apci.format {
        case .s:
            apciRecord.set("rx", .int(apci.receiveSequence))
            if apci.length != IEC104APCI.minimumLength {
                raise(IEC104Catalogue.invalidLength, context,
                      "\(senderAddress) sent an IEC 104 S-frame with length \(apci.length); S-frames are 4 octets long.",
                      ["length": .int(apci.length), "format": "S"])
            }
            record.set("type", "apci")
            record.set("apci", .object(apciRecord))
            context.transaction(protocolName: IEC104Protocol.name, record: record, operation: nil, packets: [context.packet],
                                message: "\(senderAddress) acknowledged IEC 104 I-frames up to N(R) \(apci.receiveSequence).")
        case .u:
            handleUFrame(apci, apciRecord: apciRecord, direction: direction, context: context)
        case .i:
            apciRecord.set("tx", .int(apci.sendSequence))
            apciRecord.set("rx", .int(apci.receiveSequence))
            checkSequence(apci.sendSequence, state: state, direction: direction, context: context)
            if dataTransfer == .startPending || dataTransfer == .stopped {
                let stateText = dataTransfer == .stopped ? "after STOPDT con" : "after STARTDT act but before STARTDT con"
                raise(IEC104Catalogue.iFrameBeforeStartDT, context,
                      "\(senderAddress) sent an IEC 104 I-frame N(S) \(apci.sendSequence) \(stateText), while data transfer was not started.",
                      ["tx": .int(apci.sendSequence)])
            }
            guard apci.length >= IEC104APCI.minimumLength + IEC104ASDU.headerSize,
                  let asdu = IEC104ASDU(UnsafeRawBufferPointer(rebasing: frame[IEC104APCI.headerSize...])) else {
                raise(IEC104Catalogue.invalidLength, context,
                      "\(senderAddress) sent an IEC 104 I-frame with length \(apci.length), too short for the 6-octet ASDU header.",
                      ["length": .int(apci.length), "format": "I"])
                return
            }
            handleASDU(asdu, apciRecord: apciRecord, direction: direction, context: context)
        }
    }

    private func handleUFrame(_ apci: IEC104APCI, apciRecord: JSONObject, direction: StreamDirection, context: ApplicationContext) {
        let senderAddress = sender(direction, context)
        let function = IEC104Names.uFunction(apci.control.0)
        if apci.length != IEC104APCI.minimumLength {
            raise(IEC104Catalogue.invalidLength, context,
                  "\(senderAddress) sent an IEC 104 U-frame with length \(apci.length); U-frames are 4 octets long.",
                  ["length": .int(apci.length), "format": "U"])
        }
        guard let function, apci.control.1 == 0, apci.control.2 == 0, apci.control.3 == 0 else {
            raise(IEC104Catalogue.invalidUFrame, context,
                  "\(senderAddress) sent an IEC 104 U-frame with control octets 0x\(DNP3Bytes.hex(apci.control.0)) \(DNP3Bytes.hex(apci.control.1)) \(DNP3Bytes.hex(apci.control.2)) \(DNP3Bytes.hex(apci.control.3)), which is not exactly one STARTDT, STOPDT or TESTFR function.",
                  ["control": .array([.int(apci.control.0), .int(apci.control.1), .int(apci.control.2), .int(apci.control.3)])])
            return
        }
        switch function {
        case "startdt_act": dataTransfer = .startPending
        case "startdt_con": dataTransfer = .started
        case "stopdt_con": dataTransfer = .stopped
        default: break
        }
        var apciRecord = apciRecord
        apciRecord.set("function", .string(function))
        let record: JSONObject = ["type": "apci", "apci": .object(apciRecord)]
        context.transaction(protocolName: IEC104Protocol.name, record: record, operation: nil, packets: [context.packet],
                            message: "\(senderAddress) sent IEC 104 \(function.uppercased()) to \(receiver(direction, context)).")
    }

    private func checkSequence(_ send: UInt16, state: DirectionState, direction: StreamDirection, context: ApplicationContext) {
        defer { if state.expectedSend == nil { state.expectedSend = (send &+ 1) & 0x7FFF } }
        guard let expected = state.expectedSend else { return }
        let ahead = (send &- expected) & 0x7FFF
        if ahead == 0 {
            state.expectedSend = (send &+ 1) & 0x7FFF
        } else if ahead >= 0x8000 - IEC104Parser.sequenceHalfSpace {
            // Behind the expected number: keep expecting the next new one.
            raise(IEC104Catalogue.sequenceRepeat, context,
                  "\(sender(direction, context)) sent an IEC 104 I-frame with N(S) \(send) again; \(expected) was expected next.",
                  ["expected": .int(expected), "received": .int(send)])
        } else {
            raise(IEC104Catalogue.sequenceGap, context,
                  "\(sender(direction, context)) sent an IEC 104 I-frame with N(S) \(send) where \(expected) was expected, so \(ahead) I-frames are missing.",
                  ["expected": .int(expected), "received": .int(send), "missing": .int(ahead)])
            state.expectedSend = (send &+ 1) & 0x7FFF
        }
    }

    private func handleASDU(_ asdu: IEC104ASDU, apciRecord: JSONObject, direction: StreamDirection, context: ApplicationContext) {
        let senderAddress = sender(direction, context)
        let info = IEC104Names.type(asdu.typeID)
        let typeName = info?.name ?? "undefined_\(asdu.typeID)"
        let causeName = IEC104Names.cause(asdu.cause)
        if info == nil {
            raise(IEC104Catalogue.undefinedTypeID, context,
                  "\(senderAddress) sent an ASDU with type id \(asdu.typeID), which IEC 60870-5-101/104 does not define.",
                  ["type_id": .int(asdu.typeID), "common_address": .int(asdu.commonAddress)])
        }
        if causeName == nil {
            raise(IEC104Catalogue.undefinedCause, context,
                  "\(senderAddress) sent a \(typeName) ASDU with cause of transmission \(asdu.cause), which IEC 60870-5-101 does not define.",
                  ["cause": .int(asdu.cause), "type_id": .int(asdu.typeID)])
        }
        if let expected = asdu.expectedSize, expected != asdu.actualSize {
            raise(IEC104Catalogue.asduLengthMismatch, context,
                  "\(senderAddress) sent a \(typeName) ASDU announcing \(asdu.objectCount) objects (\(expected) octets) in \(asdu.actualSize) octets of APDU.",
                  ["type_id": .int(asdu.typeID), "num_objects": .int(asdu.objectCount),
                   "expected_octets": .int(expected), "actual_octets": .int(asdu.actualSize)])
        }

        let operationClass = IEC104Names.operationClass(asdu.typeID)
        let isFile = (120...127).contains(asdu.typeID)
        // Commands travel with cause act, deact or req; the same type ids with actcon, deactcon,
        // actterm or a negative cause are the controlled station's confirmations.
        let isCommand = operationClass != nil && !asdu.negative && (isFile || [5, 6, 8].contains(asdu.cause))
        let kind = operationClass == nil ? "report" : (isCommand ? "command" : "confirmation")
        // The record is built only when the transaction is written.
        func makeRecord() -> JSONObject {
            var asduRecord: JSONObject = ["type_id": .int(asdu.typeID), "type": .string(typeName), "sq": .bool(asdu.isSequence),
                                          "num_objects": .int(asdu.objectCount), "cot": .int(asdu.cause)]
            if let causeName { asduRecord.set("cot_name", .string(causeName)) }
            asduRecord.set("negative", .bool(asdu.negative))
            asduRecord.set("test", .bool(asdu.test))
            asduRecord.set("originator", .int(asdu.originator))
            asduRecord.set("common_address", .int(asdu.commonAddress))
            asduRecord.set("ioas", .array(asdu.addresses.map { .int($0) }))

            var record: JSONObject = ["type": .string(kind)]
            record.set("apci", .object(apciRecord))
            record.set("asdu", .object(asduRecord))
            return record
        }

        var operation: Operation?
        if isCommand, let operationClass {
            operation = Operation(protocolName: IEC104Protocol.name, name: typeName, operationClass: operationClass,
                                  code: Int(asdu.typeID), unit: Int(asdu.commonAddress),
                                  rangeStart: asdu.lowestAddress.map(Int.init), rangeEnd: asdu.highestAddress.map(Int.init))
        }
        var addresses = ""
        if let low = asdu.lowestAddress, let high = asdu.highestAddress {
            addresses = low == high ? ", IOA \(low)" : ", IOA \(low)-\(high)"
        }
        let cause = causeName ?? "cause \(asdu.cause)"
        context.transaction(protocolName: IEC104Protocol.name, record: makeRecord(), operation: operation,
                            packets: [context.packet],
                            message: "\(senderAddress) sent IEC 104 \(typeName) (type \(asdu.typeID)) \(cause)\(asdu.negative ? " negative" : "") for common address \(asdu.commonAddress) to \(receiver(direction, context)), \(asdu.objectCount) objects\(addresses).")
        if isCommand {
            raiseAlert(asdu, typeName: typeName, addresses: addresses, direction: direction, context: context)
        }
    }

    private func raiseAlert(_ asdu: IEC104ASDU, typeName: String, addresses: String, direction: StreamDirection,
                            context: ApplicationContext) {
        let definition: AlertDefinition
        switch asdu.typeID {
        case 45...51, 58...64:
            guard asdu.cause == 6 else { return }
            definition = IEC104Catalogue.controlCommand
        case 103: definition = IEC104Catalogue.clockSync
        case 105: definition = IEC104Catalogue.resetProcess
        case 110...113: definition = IEC104Catalogue.parameterChange
        case 120...127: definition = IEC104Catalogue.fileTransfer
        default: return
        }
        // Control commands are counted per type id, the other rules per common address only.
        let typeKey = definition == IEC104Catalogue.controlCommand ? asdu.typeID : 0
        let key = AlertKey(rule: definition.name, typeID: typeKey, commonAddress: asdu.commonAddress)
        let count = (alertCounts[key] ?? 0) + 1
        alertCounts[key] = count
        guard count == 1 else { return }
        let details: JSONObject = ["type_id": .int(asdu.typeID), "type": .string(typeName),
                                   "common_address": .int(asdu.commonAddress),
                                   "ioas": .array(asdu.addresses.map { .int($0) })]
        context.alert(definition, message: "\(sender(direction, context)) sent IEC 104 \(typeName) (type \(asdu.typeID)) to common address \(asdu.commonAddress) at \(receiver(direction, context))\(addresses).",
                      details: details)
    }

    private func raise(_ definition: AnomalyDefinition, _ context: ApplicationContext, _ message: String, _ details: JSONObject) {
        let count = (anomalyCounts[definition.name] ?? 0) + 1
        anomalyCounts[definition.name] = count
        guard count <= IEC104Parser.maxAnomaliesPerKind else { return }
        context.anomaly(definition, message: message, details: details)
    }

    private func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    private func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }
}
