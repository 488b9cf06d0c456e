import WirecheckCore

/// Classic S7comm (protocol id 0x32) over COTP and TPKT on TCP 102.
public enum S7commProtocol: ApplicationProtocol {
    public static let name = "s7comm"
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [102]]

    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .tcp else { return .noMatch }
        switch S7Probe.classify(bytes) {
        case .s7comm: return .match
        case .needMoreData: return .needMoreData
        case .s7commPlus, .other: return .noMatch
        }
    }

    public static func makeParser(transport: Transport) -> ApplicationParser { S7commParser() }
}

/// S7comm-plus (protocol id 0x72), used by S7-1200 and S7-1500 CPUs, on the same transport.
public enum S7commPlusProtocol: ApplicationProtocol {
    public static let name = "s7comm-plus"
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [102]]

    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .tcp else { return .noMatch }
        switch S7Probe.classify(bytes) {
        case .s7commPlus: return .match
        case .needMoreData: return .needMoreData
        case .s7comm, .other: return .noMatch
        }
    }

    public static func makeParser(transport: Transport) -> ApplicationParser { S7commParser() }
}

enum S7Probe {
    enum Kind { case s7comm, s7commPlus, other, needMoreData }

    /// TPKTs walked before giving up; a connection sends its first data unit right after the
    /// COTP connection request or confirm.
    static let maxTPKTs = 4

    /// Walks TPKT/COTP from the start of a direction to the first data unit and decides by its
    /// protocol id. Other ISO-on-TCP protocols on port 102 (MMS, for one) carry other ids.
    static func classify(_ bytes: UnsafeRawBufferPointer) -> Kind {
        var offset = 0
        for _ in 0 ..< maxTPKTs {
            guard bytes.count - offset >= 6 else { return .needMoreData }
            guard bytes[offset] == 3, bytes[offset + 1] == 0, let length = S7Bytes.u16(bytes, offset + 2), length >= 7 else { return .other }
            let indicator = Int(bytes[offset + 4])
            guard indicator >= 2, 5 + indicator <= Int(length) else { return .other }
            switch bytes[offset + 5] & 0xF0 {
            case 0xF0:
                let payload = offset + 5 + indicator
                guard payload < offset + Int(length) else { return .other }
                guard payload < bytes.count else { return .needMoreData }
                switch bytes[payload] {
                case 0x32: return .s7comm
                case 0x72: return .s7commPlus
                default: return .other
                }
            case 0xE0, 0xD0:
                guard bytes.count - offset >= Int(length) else { return .needMoreData }
                let tpdu = UnsafeRawBufferPointer(rebasing: bytes[offset + 4 ..< offset + Int(length)])
                if COTPConnection(tpdu, headerEnd: 1 + indicator).hasTextTSAP { return .s7commPlus }
                offset += Int(length)
            default:
                return .other
            }
        }
        return .other
    }
}

/// Per-flow S7comm and S7comm-plus parser: walks TPKT and COTP, reassembles COTP data units,
/// pairs jobs with their acknowledgements by PDU reference, and raises the catalogue's anomalies
/// and alerts.
public final class S7commParser: ApplicationParser {
    /// Bytes of one COTP data unit kept while waiting for its end-of-TSDU mark; S7 PDUs are at
    /// most 960 bytes and S7comm-plus ones a few kilobytes, so 64 KiB is generous.
    static let maxReassemblyBytes = 65_536
    /// Unanswered jobs kept for pairing; S7 allows a handful outstanding (max AmQ), and the cap
    /// stops a one-way stream from growing memory. The oldest is reported alone when full.
    static let maxPendingJobs = 32
    /// Distinct alert targets remembered per flow; beyond it one more alert per rule is raised
    /// for all further targets together.
    static let maxAlertTargets = 256

    struct PendingJob {
        var message: S7Message
        var direction: StreamDirection
        var packet: PacketReference
    }

    /// Blocks seen in one download, reported together when it ends.
    struct DownloadSequence {
        var blocks: [S7Block] = []
        var packets: [PacketReference] = []
        var ended = false
    }

    var desynchronised: [StreamDirection: Bool] = [:]
    var reassembly: [StreamDirection: [UInt8]] = [:]
    var connectionRequest: COTPConnection?
    var connectionRequestPacket: PacketReference?
    var connectionReported = false
    var pending: [PendingJob] = []
    var jobSeen = false
    var download: DownloadSequence?
    var isPlus = false
    /// How often each (rule, target) was seen on this flow; the first sighting raised the alert.
    public internal(set) var alertCounts: [String: Int] = [:]

    init() {}

    var protocolName: String { isPlus ? S7commPlusProtocol.name : S7commProtocol.name }

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        if desynchronised[direction] == true { return bytes.count }
        var offset = 0
        while bytes.count - offset >= 4 {
            let version = bytes[offset]
            guard version == 3 else {
                context.anomaly(S7Catalogue.tpktInvalidVersion,
                                message: "\(sender(direction, context)) sent a TPKT header with version \(version) instead of 3; parsing of this direction stops until a capture gap.",
                                details: ["version": .int(version)])
                desynchronised[direction] = true
                return bytes.count
            }
            let length = Int(S7Bytes.u16(bytes, offset + 2) ?? 0)
            guard length >= 7 else {
                context.anomaly(S7Catalogue.tpktInvalidLength,
                                message: "\(sender(direction, context)) sent a TPKT header with length \(length), below the 7-byte minimum; parsing of this direction stops until a capture gap.",
                                details: ["length": .int(length)])
                desynchronised[direction] = true
                return bytes.count
            }
            guard bytes.count - offset >= length else { break }
            handleTPDU(UnsafeRawBufferPointer(rebasing: bytes[offset + 4 ..< offset + length]), direction: direction, context: context)
            offset += length
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        desynchronised[direction] = false
        reassembly[direction] = nil
    }

    public func close(context: ApplicationContext) {
        if !connectionReported, let request = connectionRequest {
            emitConnection(request: request, confirm: nil, context: context)
        }
        finishDownload(context: context)
        for job in pending { emit(job: job, reply: nil, replyPacket: nil, context: context) }
        pending.removeAll()
    }

    // MARK: - COTP

    private func handleTPDU(_ tpdu: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        let indicator = Int(tpdu[0])
        guard indicator >= 1, tpdu.count >= 1 + indicator else {
            context.anomaly(S7Catalogue.tpktInvalidLength,
                            message: "\(sender(direction, context)) sent a COTP header of length \(indicator) that does not fit in its \(tpdu.count)-byte TPKT payload.",
                            details: ["length_indicator": .int(indicator)])
            return
        }
        let type = tpdu[1]
        switch type & 0xF0 {
        case 0xE0:
            connectionRequest = COTPConnection(tpdu, headerEnd: 1 + indicator)
            connectionRequestPacket = context.packet
            if connectionRequest?.hasTextTSAP == true { isPlus = true }
        case 0xD0:
            let confirm = COTPConnection(tpdu, headerEnd: 1 + indicator)
            if !connectionReported { emitConnection(request: connectionRequest, confirm: confirm, context: context) }
        case 0xF0:
            guard indicator >= 2 else {
                context.anomaly(S7Catalogue.tpktInvalidLength,
                                message: "\(sender(direction, context)) sent a COTP data unit with length indicator \(indicator); a data unit header needs 2 bytes.",
                                details: ["length_indicator": .int(indicator)])
                return
            }
            let endOfUnit = tpdu[2] & 0x80 != 0
            let payload = UnsafeRawBufferPointer(rebasing: tpdu[1 + indicator ..< tpdu.count])
            reassemble(payload, endOfUnit: endOfUnit, direction: direction, context: context)
        default:
            if S7Names.cotpType(type) == nil {
                context.anomaly(S7Catalogue.cotpUnknownType,
                                message: "\(sender(direction, context)) sent a COTP TPDU of type 0x\(S7Names.hex(UInt32(type), digits: 2)), which ISO 8073 does not define.",
                                details: ["type": .int(type)])
            }
        }
    }

    private func reassemble(_ payload: UnsafeRawBufferPointer, endOfUnit: Bool, direction: StreamDirection, context: ApplicationContext) {
        if endOfUnit, reassembly[direction]?.isEmpty ?? true {
            handlePDU(payload, direction: direction, context: context)
            return
        }
        var buffer = reassembly[direction] ?? []
        reassembly[direction] = nil
        guard buffer.count + payload.count <= Self.maxReassemblyBytes else {
            context.anomaly(S7Catalogue.cotpReassemblyOverflow,
                            message: "\(sender(direction, context)) sent COTP data fragments totalling more than \(Self.maxReassemblyBytes) bytes without an end-of-TSDU mark; they were dropped.",
                            details: ["bytes": .int(buffer.count + payload.count)])
            return
        }
        buffer.append(contentsOf: payload)
        if endOfUnit {
            buffer.withUnsafeBytes { handlePDU($0, direction: direction, context: context) }
        } else {
            reassembly[direction] = buffer
        }
    }

    // MARK: - S7 PDUs

    private func handlePDU(_ pdu: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        guard let protocolID = pdu.first else { return }
        switch protocolID {
        case 0x32:
            handleS7(pdu, direction: direction, context: context)
        case 0x72:
            isPlus = true
            handlePlus(pdu, direction: direction, context: context)
        default:
            context.anomaly(S7Catalogue.unknownProtocolID,
                            message: "\(sender(direction, context)) sent a COTP data unit with protocol id 0x\(S7Names.hex(UInt32(protocolID), digits: 2)); S7comm uses 0x32 and S7comm-plus 0x72.",
                            details: ["protocol_id": .int(protocolID)])
        }
    }

    private func handleS7(_ pdu: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        guard let message = S7PDUParser.parse(pdu) else {
            context.anomaly(S7Catalogue.lengthMismatch,
                            message: "\(sender(direction, context)) sent a \(pdu.count)-byte S7comm PDU, too short for its header.",
                            details: ["pdu_length": .int(pdu.count)])
            return
        }
        if let error = message.lengthError {
            context.anomaly(S7Catalogue.lengthMismatch,
                            message: "\(sender(direction, context)) sent an S7comm PDU whose lengths disagree: \(error).",
                            details: ["parameter_length": .int(message.parameterLength), "data_length": .int(message.dataLength),
                                      "pdu_length": .int(pdu.count)])
        }
        guard S7Names.rosctr(message.rosctr) != nil else {
            context.anomaly(S7Catalogue.unknownROSCTR,
                            message: "\(sender(direction, context)) sent an S7comm PDU with ROSCTR \(message.rosctr); only 1 (job), 2 (ack), 3 (ack_data) and 7 (userdata) are defined.",
                            details: ["rosctr": .int(message.rosctr)])
            return
        }
        switch message.rosctr {
        case 0x01:
            handleJob(message, direction: direction, context: context)
        case 0x07:
            handleUserdata(message, direction: direction, context: context)
        default:
            handleAcknowledgement(message, direction: direction, context: context)
        }
    }

    private func handleJob(_ message: S7Message, direction: StreamDirection, context: ApplicationContext) {
        jobSeen = true
        if let function = message.function, S7Names.function(function) == nil {
            context.anomaly(S7Catalogue.unknownFunction,
                            message: "\(sender(direction, context)) sent an S7comm job with function 0x\(S7Names.hex(UInt32(function), digits: 2)), which no known CPU implements.",
                            details: ["function": .int(function)])
        }
        raiseAlerts(job: message, direction: direction, context: context)
        addPending(PendingJob(message: message, direction: direction, packet: context.packet), context: context)
    }

    private func handleUserdata(_ message: S7Message, direction: StreamDirection, context: ApplicationContext) {
        guard let userdata = message.userdata else {
            emit(job: PendingJob(message: message, direction: direction, packet: context.packet), reply: nil, replyPacket: nil,
                 context: context, alone: true)
            return
        }
        if userdata.isResponse {
            if let index = pending.firstIndex(where: { $0.message.rosctr == 0x07 && $0.message.pduReference == message.pduReference
                && $0.direction == direction.reversed }) {
                let job = pending.remove(at: index)
                emit(job: job, reply: message, replyPacket: context.packet, context: context)
            } else {
                emit(job: PendingJob(message: message, direction: direction, packet: context.packet), reply: nil, replyPacket: nil,
                     context: context, alone: true)
            }
            return
        }
        if userdata.isRequest {
            raiseAlerts(userdata: userdata, direction: direction, context: context)
            addPending(PendingJob(message: message, direction: direction, packet: context.packet), context: context)
        } else {
            emit(job: PendingJob(message: message, direction: direction, packet: context.packet), reply: nil, replyPacket: nil,
                 context: context, alone: true)
        }
    }

    private func handleAcknowledgement(_ message: S7Message, direction: StreamDirection, context: ApplicationContext) {
        if let index = pending.firstIndex(where: { $0.message.isJob && $0.message.pduReference == message.pduReference
            && $0.direction == direction.reversed }) {
            let job = pending.remove(at: index)
            emit(job: job, reply: message, replyPacket: context.packet, context: context)
            return
        }
        if jobSeen {
            context.anomaly(S7Catalogue.ackWithoutJob,
                            message: "\(sender(direction, context)) sent an S7comm \(S7Names.rosctr(message.rosctr) ?? "ack") with PDU reference \(message.pduReference), which matches no job seen on this connection.",
                            details: ["pdu_ref": .int(message.pduReference)])
        }
        emit(job: PendingJob(message: message, direction: direction, packet: context.packet), reply: nil, replyPacket: nil,
             context: context, alone: true)
    }

    private func addPending(_ job: PendingJob, context: ApplicationContext) {
        if pending.count >= Self.maxPendingJobs {
            emit(job: pending.removeFirst(), reply: nil, replyPacket: nil, context: context)
        }
        pending.append(job)
    }

    private func handlePlus(_ pdu: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        guard let message = S7PlusMessage.parse(pdu) else { return }
        var operation: Operation?
        if let function = message.function, message.opcode == 0x31 {
            operation = Operation(protocolName: S7commPlusProtocol.name, name: S7Names.plusFunction(function) ?? "function_0x" + S7Names.hex(UInt32(function), digits: 4),
                                  operationClass: Self.plusOperationClass(function), code: Int(function))
        }
        let functionText = message.function.map { S7Names.plusFunction($0) ?? "function 0x" + S7Names.hex(UInt32($0), digits: 4) } ?? "a message"
        let kind = message.opcode.flatMap(S7Names.plusOpcode) ?? "PDU"
        // NOTE: S7comm-plus requests and responses are reported one event each, not paired.
        context.transaction(protocolName: S7commPlusProtocol.name, record: message.record(), operation: operation, packets: [context.packet],
                            message: "\(sender(direction, context)) sent an S7comm-plus \(kind) (\(functionText), protocol version \(message.version)) to \(receiver(direction, context)).")
    }

    static func plusOperationClass(_ function: UInt16) -> OperationClass {
        switch function {
        case 0x04F2, 0x0542, 0x057C: return .write
        case 0x04FC, 0x054C, 0x0586, 0x0590: return .read
        case 0x04BB: return .diagnostic
        case 0x04CA, 0x04D4, 0x05B3: return .session
        case 0x056B: return .control
        default: return .other
        }
    }

    func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }
}
