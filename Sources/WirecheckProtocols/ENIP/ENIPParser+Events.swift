import WirecheckCore

// Transaction records, operations and alerts of the EtherNet/IP parser.
extension ENIPParser {
    func emit(request: PendingRequest, reply: Reply?, replyPacket: PacketReference?, context: ApplicationContext) {
        let header = request.header
        let commandName = ENIPNames.commandName(header.command)
        var record: JSONObject = [
            "command": .string(commandName),
            "length": .int(header.length),
            // RegisterSession requests carry 0; the handle arrives in the reply.
            "session": .int(header.session == 0 ? reply?.header.session ?? 0 : header.session),
        ]
        if let reply { record.set("status", .string(ENIPNames.encapsulationStatus(reply.header.status))) }
        record.set("sender_context", .string("0x" + ENIPNames.hex(UInt32(truncatingIfNeeded: header.senderContext >> 32), digits: 8)
            + ENIPNames.hex(UInt32(truncatingIfNeeded: header.senderContext), digits: 8)))
        if let cip = request.cip { record.set("cip", .object(cip.record(reply: reply?.cip))) }
        if let identity = reply?.identity { record.set("identity", .object(identity)) }
        if reply == nil { record.set("reply", false) }

        var packets = [request.packet]
        if let replyPacket, replyPacket != request.packet { packets.append(replyPacket) }
        let client = context.flow.srcIP.description
        let server = context.flow.destIP.description
        let outcome = replyOutcome(reply)
        let message: String
        if let cip = request.cip {
            let target = primaryRequest(cip)
            message = "\(client) sent CIP \(target.serviceName) to \(server) for \(target.path.summary) in EtherNet/IP \(commandName); \(outcome)."
        } else {
            message = "\(client) sent EtherNet/IP \(commandName) to \(server); \(outcome)."
        }
        context.transaction(protocolName: ENIPProtocol.name, record: record, operation: operation(header: header, cip: request.cip),
                            packets: packets, message: message)
    }

    func emitUnpairedReply(_ reply: Reply, context: ApplicationContext) {
        let header = reply.header
        let commandName = ENIPNames.commandName(header.command)
        var record: JSONObject = [
            "command": .string(commandName),
            "length": .int(header.length),
            "session": .int(header.session),
            "status": .string(ENIPNames.encapsulationStatus(header.status)),
        ]
        if let cip = reply.cip { record.set("cip", .object(cip.record())) }
        if let identity = reply.identity { record.set("identity", .object(identity)) }
        record.set("request", false)
        let message = "\(context.flow.destIP) sent an EtherNet/IP \(commandName) reply to \(context.flow.srcIP) with no request seen; \(replyOutcome(reply))."
        context.transaction(protocolName: ENIPProtocol.name, record: record, operation: nil, packets: [context.packet], message: message)
    }

    private func replyOutcome(_ reply: Reply?) -> String {
        guard let reply else { return "no reply seen" }
        if reply.header.status != 0 { return "reply status " + ENIPNames.encapsulationStatus(reply.header.status) }
        if let status = reply.cip?.generalStatus { return "reply status " + CIPNames.generalStatus(status) }
        if let identity = reply.identity, case .wire(let name)? = identity["product_name"] {
            return "the device identified itself as " + String(wireBytes: name)
        }
        return "reply status success"
    }

    /// Returns the request that best describes the exchange. A container (Multiple Service Packet,
    /// Unconnected Send) is described by its highest-impact embedded request.
    func primaryRequest(_ cip: CIPMessage) -> CIPMessage {
        let candidates = cip.allRequests.filter { !Self.isContainer($0) }
        return candidates.min { Self.impactRank(Self.operationClass($0)) < Self.impactRank(Self.operationClass($1)) } ?? cip
    }

    static func isContainer(_ cip: CIPMessage) -> Bool {
        cip.service == 0x0A || (cip.service == 0x52 && cip.path.classID == 0x06 && !cip.embedded.isEmpty)
    }

    func operation(header: ENIPHeader, cip: CIPMessage?) -> Operation {
        guard let cip else {
            return Operation(protocolName: ENIPProtocol.name, name: ENIPNames.commandName(header.command),
                             operationClass: .session, code: Int(header.command))
        }
        let target = primaryRequest(cip)
        return Operation(protocolName: ENIPProtocol.name, name: target.serviceName, operationClass: Self.operationClass(target),
                         code: Int(target.service), rangeStart: target.path.attribute.map { Int($0) },
                         rangeEnd: target.path.attribute.map { Int($0) })
    }

    static func operationClass(_ cip: CIPMessage) -> OperationClass {
        if cip.path.classID == 0x37 { return .program }
        switch cip.service {
        case 0x01, 0x03, 0x0E, 0x11, 0x18: return .read
        case 0x02, 0x04, 0x08, 0x09, 0x0D, 0x10, 0x19, 0x1A, 0x1B: return .write
        case 0x05: return .restart
        case 0x06, 0x07: return .control
        case 0x15, 0x16, 0x1C: return .other
        case 0x17: return .session
        default: break
        }
        if cip.path.classID == 0x06 { return .session }
        switch CIPNames.tagService(cip.service).flatMap({ cip.path.classID == nil || cip.path.classID == 0x6B ? $0 : nil }) {
        case "read_tag"?, "read_tag_fragmented"?, "get_instance_attribute_list"?: return .read
        case "write_tag"?, "write_tag_fragmented"?, "read_modify_write"?: return .write
        default: return .other
        }
    }

    /// Returns the importance of an operation class to an analyst; lower is more important.
    static func impactRank(_ operationClass: OperationClass) -> Int {
        switch operationClass {
        case .program: return 0
        case .restart: return 1
        case .control: return 2
        case .write: return 3
        case .session: return 4
        case .read: return 5
        case .diagnostic: return 6
        case .other: return 7
        }
    }

    // MARK: - Alerts

    func raiseAlerts(for cip: CIPMessage, header: ENIPHeader, direction: StreamDirection, context: ApplicationContext) {
        for request in cip.allRequests where !request.isResponse {
            let senderAddress = sender(direction, context)
            let receiverAddress = receiver(direction, context)
            let target = request.path.summary
            let classID = request.path.classID
            switch request.service {
            case 0x02, 0x04, 0x10, 0x19:
                raise(ENIPCatalogue.setAttribute, target: request.serviceName + " " + target,
                      message: "\(senderAddress) sent CIP \(request.serviceName) to \(receiverAddress) for \(target).", context: context)
            case 0x05 where classID == 0x01:
                raise(ENIPCatalogue.reset, target: target,
                      message: "\(senderAddress) sent a CIP reset to the identity object of \(receiverAddress) (\(target)), which restarts the device.", context: context)
            case 0x06 where Self.isModeTarget(classID), 0x07 where Self.isModeTarget(classID):
                raise(ENIPCatalogue.startStop, target: request.serviceName + " " + target,
                      message: "\(senderAddress) sent CIP \(request.serviceName) to \(receiverAddress) for \(target).", context: context)
            default:
                break
            }
            if classID == 0x37, let name = CIPNames.fileService(request.service) {
                let isUpload = request.service == 0x4B || request.service == 0x4D || request.service == 0x4F
                raise(isUpload ? ENIPCatalogue.programFileUpload : ENIPCatalogue.programFileAccess, target: name + " " + target,
                      message: "\(senderAddress) sent CIP file object \(name) to \(receiverAddress) for \(target).", context: context)
            }
            if classID == nil || classID == 0x6B, let name = CIPNames.tagService(request.service),
               name == "write_tag" || name == "write_tag_fragmented" || name == "read_modify_write" {
                raise(ENIPCatalogue.writeTag, target: target,
                      message: "\(senderAddress) sent CIP \(name) to \(receiverAddress) for \(target).", context: context)
            }
        }
    }

    /// Start and stop change the operating mode when aimed at the identity object, a vendor class
    /// (where Logix program and task objects live) or a tag named by symbol.
    static func isModeTarget(_ classID: UInt32?) -> Bool {
        guard let classID else { return true }
        return classID == 0x01 || CIPNames.vendorClasses.contains(classID)
    }

    /// Raises `definition` the first time `target` is seen on this flow and counts later sightings.
    func raise(_ definition: AlertDefinition, target: String, message: @autoclosure () -> String, context: ApplicationContext) {
        var key = definition.name + "|" + target
        if alertCounts[key] == nil, alertCounts.count >= Self.maxAlertTargets {
            key = definition.name + "|*"
        }
        let count = (alertCounts[key] ?? 0) + 1
        alertCounts[key] = count
        guard count == 1 else { return }
        context.alert(definition, message: message(), details: ["target": .string(target)])
    }

    func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }
}
