import WirecheckCore

// Transaction records, operations and alerts of the S7comm parser.
extension S7commParser {
    /// Blocks named in one download sequence's alert. A project download can carry hundreds of
    /// blocks, so the list is cut to keep the alert readable.
    static let maxDownloadBlocks = 64

    func emitConnection(request: COTPConnection?, confirm: COTPConnection?, context: ApplicationContext) {
        connectionReported = true
        var record = (request ?? confirm)?.record() ?? JSONObject()
        if let size = confirm?.tpduSize { record.set("tpdu_size", .int(size)) }
        record.set("confirmed", .bool(confirm != nil))
        var packets: [PacketReference] = []
        if let connectionRequestPacket { packets.append(connectionRequestPacket) }
        if confirm != nil, !packets.contains(context.packet) { packets.append(context.packet) }
        var location = ""
        if case .int(let rack)? = record["rack"], case .int(let slot)? = record["slot"] { location = " (rack \(rack), slot \(slot))" }
        let outcome = confirm == nil ? "no confirm seen" : "confirmed"
        context.transaction(protocolName: protocolName, record: ["cotp": .object(record)],
                            operation: Operation(protocolName: protocolName, name: "cotp_connect", operationClass: .session, code: 0xE0),
                            packets: packets,
                            message: "\(context.flow.srcIP) opened a COTP connection to \(context.flow.destIP)\(location); \(outcome).")
    }

    func emit(job: PendingJob, reply: S7Message?, replyPacket: PacketReference?, context: ApplicationContext, alone: Bool = false) {
        let message = job.message
        var record: JSONObject = [
            "rosctr": .string(S7Names.rosctr(message.rosctr) ?? "unknown"),
            "pdu_ref": .int(message.pduReference),
        ]
        if let function = message.function {
            record.set("function", .int(function))
            record.set("function_name", .string(S7Names.functionName(function)))
        }
        if message.itemCount > 0 { record.set("item_count", .int(message.itemCount)) }
        if !message.items.isEmpty { record.set("items", .array(message.items.map { .object($0.record()) })) }
        if message.blocks.count == 1, let block = message.blocks.first {
            record.set("block", .object(["type": .string(block.type), "number": .int(block.number), "file_name": .string(block.fileName)]))
        } else if !message.blocks.isEmpty {
            record.set("blocks", .array(message.blocks.map { .string($0.name) }))
        }
        if let service = message.piService {
            record.set("pi_service", .string(service))
            if message.function == 0x28, let name = S7Names.piService(service) { record.set("pi_service_name", .string(name)) }
        }
        if let argument = message.piArgument { record.set("pi_argument", .string(argument)) }
        if let setup = reply?.setup ?? message.setup { record.set("setup", .object(setup)) }
        if let userdata = message.userdata { record.set("userdata", .object(userdataRecord(userdata, reply: reply?.userdata))) }
        let acknowledgement = message.isAcknowledgement ? message : reply
        if let reply { record.set("reply_rosctr", .string(S7Names.rosctr(reply.rosctr) ?? "unknown")) }
        if let acknowledgement {
            if let errorClass = acknowledgement.errorClass {
                record.set("error_class", .string(S7Names.errorClass(errorClass)))
                record.set("error_code", .int(acknowledgement.errorCode ?? 0))
            }
            if !acknowledgement.returnCodes.isEmpty {
                record.set("return_codes", .array(acknowledgement.returnCodes.map { .string(S7Names.returnCode($0)) }))
            }
        }
        if !alone, reply == nil { record.set("reply", false) }
        if alone, message.isAcknowledgement || message.userdata?.isResponse == true { record.set("request", false) }

        var packets = [job.packet]
        if let replyPacket, replyPacket != job.packet { packets.append(replyPacket) }
        let senderAddress = sender(job.direction, context)
        let receiverAddress = receiver(job.direction, context)
        let text: String
        if alone {
            text = "\(senderAddress) sent an S7comm \(describe(message)) to \(receiverAddress) with no matching request seen."
        } else {
            text = "\(senderAddress) sent S7comm \(describe(message)) to \(receiverAddress); \(outcome(reply))."
        }
        context.transaction(protocolName: S7commProtocol.name, record: record, operation: operation(message), packets: packets, message: text)
    }

    private func userdataRecord(_ userdata: S7Userdata, reply: S7Userdata?) -> JSONObject {
        var record: JSONObject = [
            "type": .string(Self.userdataType(userdata)),
            "group": .int(userdata.group),
            "group_name": .string(S7Names.userdataGroup(userdata.group)),
            "subfunction": .int(userdata.subfunction),
            "subfunction_name": .string(userdata.subfunctionName),
            "sequence": .int(userdata.sequence),
        ]
        if let id = userdata.szlID { record.set("szl_id", .string("0x" + S7Names.hex(UInt32(id), digits: 4))) }
        if let index = userdata.szlIndex { record.set("szl_index", .string("0x" + S7Names.hex(UInt32(index), digits: 4))) }
        if let code = reply?.errorCode ?? userdata.errorCode { record.set("error_code", .int(code)) }
        return record
    }

    static func userdataType(_ userdata: S7Userdata) -> String {
        if userdata.isRequest { return "request" }
        if userdata.isResponse { return "response" }
        return "push"
    }

    private func describe(_ message: S7Message) -> String {
        if let userdata = message.userdata {
            return "userdata \(S7Names.userdataGroup(userdata.group)) \(userdata.subfunctionName)"
        }
        var text = message.function.map { S7Names.functionName($0) } ?? (S7Names.rosctr(message.rosctr) ?? "PDU")
        if !message.items.isEmpty {
            text += " for " + message.items.prefix(4).map(\.address).joined(separator: ", ")
            if message.itemCount > 4 { text += " and \(message.itemCount - 4) more" }
        }
        if !message.blocks.isEmpty { text += " of " + message.blocks.prefix(8).map(\.name).joined(separator: ", ") }
        if let service = message.piService, message.blocks.isEmpty { text += " (\(service))" }
        return text
    }

    private func outcome(_ reply: S7Message?) -> String {
        guard let reply else { return "no acknowledgement seen" }
        if let errorClass = reply.errorClass, errorClass != 0 || reply.errorCode != 0 {
            return "error \(S7Names.errorClass(errorClass)) code \(reply.errorCode ?? 0)"
        }
        if let code = reply.userdata?.errorCode, code != 0 { return "error code 0x" + S7Names.hex(UInt32(code), digits: 4) }
        if let failed = reply.returnCodes.first(where: { $0 != 0xFF }) { return "item result " + S7Names.returnCode(failed) }
        return "acknowledged"
    }

    func operation(_ message: S7Message) -> Operation? {
        if let userdata = message.userdata {
            let operationClass: OperationClass
            switch (userdata.group, userdata.subfunction) {
            case (0x7, 0x02), (0x7, 0x04): operationClass = .write
            case (0x7, _), (0x4, _), (0x3, _), (0x1, _): operationClass = .diagnostic
            case (0x5, _): operationClass = .session
            case (0x2, _): operationClass = .read
            default: operationClass = .other
            }
            return Operation(protocolName: S7commProtocol.name, name: userdata.subfunctionName, operationClass: operationClass,
                             code: Int(userdata.group) << 8 | Int(userdata.subfunction))
        }
        guard let function = message.function else { return nil }
        var operation = Operation(protocolName: S7commProtocol.name, name: S7Names.functionName(function), operationClass: .other, code: Int(function))
        switch function {
        case 0xF0: operation.operationClass = .session
        case 0x04, 0x05:
            operation.operationClass = function == 0x04 ? .read : .write
            if let first = message.items.first, first.isS7Any {
                if first.area == 0x84 || first.area == 0x85 { operation.unit = Int(first.db) }
                operation.rangeStart = first.byteAddress
                if first.transportSize == 0x02 { operation.rangeEnd = first.byteAddress + max(0, Int(first.length) - 1) }
            }
        case 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F: operation.operationClass = .program
        case 0x28:
            switch message.piService {
            case "_INSE"?, "_DELE"?: operation.operationClass = .program
            case "P_PROGRAM"?: operation.operationClass = .control
            default: operation.operationClass = .other
            }
            if let service = message.piService { operation.name = S7Names.piService(service) ?? service }
        case 0x29: operation.operationClass = .control
        default: break
        }
        return operation
    }

    // MARK: - Alerts

    func raiseAlerts(job: S7Message, direction: StreamDirection, context: ApplicationContext) {
        let senderAddress = sender(direction, context)
        let receiverAddress = receiver(direction, context)
        guard let function = job.function else { return }
        if download?.ended == true, !(0x1A...0x1C).contains(function), function != 0x28 {
            finishDownload(context: context)
        }
        switch function {
        case 0x29:
            raise(S7Catalogue.plcStop, target: "cpu", message: "\(senderAddress) sent an S7comm PLC stop to \(receiverAddress).", context: context)
        case 0x1A, 0x1B, 0x1C:
            var sequence = download ?? DownloadSequence()
            for block in job.blocks where !sequence.blocks.contains(block) && sequence.blocks.count < Self.maxDownloadBlocks {
                sequence.blocks.append(block)
            }
            if sequence.packets.count < 8 { sequence.packets.append(context.packet) }
            if function == 0x1C { sequence.ended = true }
            download = sequence
        case 0x1D:
            let target = job.blocks.first?.name ?? "unknown block"
            raise(S7Catalogue.programUpload, target: target, message: "\(senderAddress) started uploading \(target) from \(receiverAddress) with S7comm start upload.", context: context)
        case 0x28:
            switch job.piService {
            case "P_PROGRAM"?:
                let argument = job.piArgument.map { " (argument \"\($0)\")" } ?? ""
                raise(S7Catalogue.plcStart, target: "cpu", message: "\(senderAddress) started the PLC program on \(receiverAddress) with the S7comm P_PROGRAM PI service\(argument).", context: context)
            case "_INSE"?:
                var sequence = download ?? DownloadSequence()
                for block in job.blocks where !sequence.blocks.contains(block) && sequence.blocks.count < Self.maxDownloadBlocks {
                    sequence.blocks.append(block)
                }
                if sequence.packets.count < 8 { sequence.packets.append(context.packet) }
                download = sequence
                finishDownload(context: context)
            case "_DELE"?:
                let names = job.blocks.map(\.name).joined(separator: ", ")
                raise(S7Catalogue.blockDelete, target: names, message: "\(senderAddress) deleted \(names.isEmpty ? "blocks" : names) on \(receiverAddress) with the S7comm _DELE PI service.", context: context)
            default:
                break
            }
        case 0x05:
            raiseWriteAlerts(job, senderAddress: senderAddress, receiverAddress: receiverAddress, context: context)
        default:
            break
        }
    }

    private func raiseWriteAlerts(_ job: S7Message, senderAddress: String, receiverAddress: String, context: ApplicationContext) {
        // One alert per operand (Q, M, DB5) so each writable area is reported once per flow.
        var operands: [(operand: String, area: UInt8)] = []
        var addresses: [String: [String]] = [:]
        for item in job.items where item.isS7Any {
            let operand = S7Names.operand(area: item.area, db: item.db)
            if addresses[operand] == nil { operands.append((operand, item.area)) }
            addresses[operand, default: []].append(item.address)
        }
        for (operand, area) in operands {
            let list = addresses[operand] ?? []
            let definition = area == 0x82 ? S7Catalogue.writeOutputs : S7Catalogue.writeVar
            raise(definition, target: operand,
                  message: "\(senderAddress) wrote \(S7Names.area(area)) \(list.prefix(8).joined(separator: ", ")) on \(receiverAddress) with S7comm write_var.",
                  context: context)
        }
    }

    func raiseAlerts(userdata: S7Userdata, direction: StreamDirection, context: ApplicationContext) {
        if download?.ended == true { finishDownload(context: context) }
        let senderAddress = sender(direction, context)
        let receiverAddress = receiver(direction, context)
        switch (userdata.group, userdata.subfunction) {
        case (0x7, 0x02), (0x7, 0x04):
            raise(S7Catalogue.setClock, target: "clock", message: "\(senderAddress) set the clock of \(receiverAddress) with S7comm userdata set_clock.", context: context)
        case (0x5, 0x01), (0x5, 0x02):
            raise(S7Catalogue.password, target: userdata.subfunctionName,
                  message: "\(senderAddress) sent S7comm userdata \(userdata.subfunctionName) to \(receiverAddress).", context: context)
        default:
            break
        }
    }

    /// Raises one program download alert naming the blocks of the sequence, then clears the sequence.
    func finishDownload(context: ApplicationContext) {
        guard let sequence = download else { return }
        download = nil
        let names = sequence.blocks.map(\.name)
        let target = names.isEmpty ? "unknown blocks" : names.joined(separator: ", ")
        raise(S7Catalogue.programDownload, target: target,
              message: "\(context.flow.srcIP) downloaded \(target) to \(context.flow.destIP) over S7comm.",
              packets: sequence.packets, context: context)
    }

    /// Raises `definition` the first time `target` is seen on this flow and counts later sightings.
    func raise(_ definition: AlertDefinition, target: String, message: @autoclosure () -> String, packets: [PacketReference]? = nil, context: ApplicationContext) {
        var key = definition.name + "|" + target
        if alertCounts[key] == nil, alertCounts.count >= Self.maxAlertTargets {
            key = definition.name + "|*"
        }
        let count = (alertCounts[key] ?? 0) + 1
        alertCounts[key] = count
        guard count == 1 else { return }
        context.alert(definition, message: message(), packets: packets, details: ["target": .string(target)])
    }
}
