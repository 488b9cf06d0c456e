import WirecheckCore

/// EtherNet/IP encapsulation with CIP inside, on TCP and UDP 44818 and class 1 I/O on UDP 2222.
public enum ENIPProtocol: ApplicationProtocol {
    public static let name = "enip"
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [44818], .udp: [44818, 2222]]

    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        if transport == .udp, isClassOneIO(bytes) { return .match }
        guard bytes.count >= ENIPHeader.size else {
            // A class 1 I/O datagram is whole on arrival; only TCP can still be short, and only
            // while the command read so far is a known one.
            guard transport == .tcp else { return .noMatch }
            if let command = ENIPBytes.u16(bytes, 0), ENIPNames.command(command) == nil { return .noMatch }
            return .needMoreData
        }
        guard let header = ENIPHeader(bytes), ENIPNames.command(header.command) != nil, header.options == 0 else { return .noMatch }
        if direction == .toServer, header.status != 0 { return .noMatch }
        if header.command == 0x0065, header.length != 4 { return .noMatch }
        if transport == .udp, bytes.count != ENIPHeader.size + Int(header.length) { return .noMatch }
        return .match
    }

    /// True for a class 1 (implicit) I/O datagram: a CPF list whose first item is a sequenced
    /// address and whose second is connected data, filling the datagram exactly.
    static func isClassOneIO(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let count = ENIPBytes.u16(bytes, 0), (2...4).contains(count),
              ENIPBytes.u16(bytes, 2) == 0x8002, ENIPBytes.u16(bytes, 4) == 8 else { return false }
        let walk = CommonPacketFormat.parse(bytes, start: 0, end: bytes.count)
        return walk.error == nil && walk.items.count >= 2 && walk.items[1].type == 0x00B1
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        ENIPParser(transport: transport)
    }
}

/// Per-flow EtherNet/IP parser: walks encapsulation messages, their CPF items and the CIP
/// messages inside, pairs requests with replies, and raises the catalogue's anomalies and alerts.
public final class ENIPParser: ApplicationParser {
    /// Unanswered requests kept for pairing; a client rarely has more than a few outstanding, and
    /// the cap stops a one-way stream from growing memory. The oldest is reported alone when full.
    static let maxPendingRequests = 32
    /// Session handles remembered per flow; a client registers one session per connection.
    static let maxSessions = 16
    /// Distinct alert targets remembered per flow; beyond it one more alert per rule is raised
    /// for all further targets together.
    static let maxAlertTargets = 256

    struct PendingRequest {
        var header: ENIPHeader
        var cip: CIPMessage?
        var connectedSequence: UInt16?
        var packet: PacketReference
    }

    private let transport: Transport
    private var pending: [PendingRequest] = []
    private var sessions: Set<UInt32> = []
    /// False until the first request shows whether the capture contains the session's start.
    private var sessionTrackingStarted = false
    private var desynchronised: [StreamDirection: Bool] = [:]
    /// How often each (rule, target) was seen on this flow; the first sighting raised the alert.
    public internal(set) var alertCounts: [String: Int] = [:]

    init(transport: Transport) {
        self.transport = transport
    }

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        if transport == .udp {
            parseDatagram(bytes, direction: direction, context: context)
            return bytes.count
        }
        if desynchronised[direction] == true { return bytes.count }
        var offset = 0
        while bytes.count - offset >= ENIPHeader.size {
            guard let header = ENIPHeader(bytes, at: offset) else { break }
            if ENIPNames.command(header.command) == nil, header.options != 0 {
                // An unknown command with non-zero options is not a header at all: the stream lost
                // its message boundary, and every length from here on would be garbage.
                context.anomaly(ENIPCatalogue.unknownCommand,
                                message: "\(sender(direction, context)) sent bytes that are not an EtherNet/IP header (command 0x\(ENIPNames.hex(UInt32(header.command), digits: 4)), options 0x\(ENIPNames.hex(header.options, digits: 8))); parsing of this direction stops.",
                                details: ["command": .int(header.command)])
                desynchronised[direction] = true
                return bytes.count
            }
            let total = ENIPHeader.size + Int(header.length)
            guard bytes.count - offset >= total else { break }
            let message = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + total])
            handleMessage(header, message, direction: direction, context: context)
            offset += total
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        desynchronised[direction] = false
    }

    public func close(context: ApplicationContext) {
        for request in pending { emit(request: request, reply: nil, replyPacket: nil, context: context) }
        pending.removeAll()
    }

    // MARK: - Datagrams

    func parseDatagram(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        if ENIPProtocol.isClassOneIO(bytes) {
            // Cyclic I/O repeats every few milliseconds; it is validated but not logged per datagram.
            return
        }
        guard let header = ENIPHeader(bytes) else {
            let walk = CommonPacketFormat.parse(bytes, start: 0, end: bytes.count)
            if let error = walk.error {
                context.anomaly(ENIPCatalogue.cpfInvalid, message: "\(sender(direction, context)) sent a \(bytes.count)-byte EtherNet/IP datagram whose CPF list is invalid: \(error).")
            }
            return
        }
        let total = ENIPHeader.size + Int(header.length)
        if total != bytes.count {
            context.anomaly(ENIPCatalogue.invalidLength,
                            message: "\(sender(direction, context)) sent a \(bytes.count)-byte EtherNet/IP datagram whose header declares \(header.length) data bytes (\(total) in all).",
                            details: ["length": .int(header.length), "datagram_length": .int(bytes.count)])
            guard total < bytes.count else { return }
        }
        handleMessage(header, UnsafeRawBufferPointer(rebasing: bytes[0 ..< total]), direction: direction, context: context)
    }

    // MARK: - Messages

    private func handleMessage(_ header: ENIPHeader, _ message: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        let isRequest = direction == .toServer
        guard let commandName = ENIPNames.command(header.command) else {
            // A device rejects an unknown command by echoing it with a non-zero status; only the
            // request itself is the anomaly.
            guard isRequest || header.status == 0 else { return }
            context.anomaly(ENIPCatalogue.unknownCommand,
                            message: "\(sender(direction, context)) sent EtherNet/IP command 0x\(ENIPNames.hex(UInt32(header.command), digits: 4)), which the encapsulation protocol does not define.",
                            details: ["command": .int(header.command)])
            return
        }
        if isRequest, header.status != 0 {
            context.anomaly(ENIPCatalogue.statusInRequest,
                            message: "\(sender(direction, context)) sent an EtherNet/IP \(commandName) request with status 0x\(ENIPNames.hex(header.status, digits: 8)); requests must carry status 0.",
                            details: ["command": .int(header.command), "status": .int(header.status)])
        }
        checkFixedLength(header, commandName: commandName, isRequest: isRequest, direction: direction, context: context)
        if isRequest { trackSession(header, commandName: commandName, direction: direction, context: context) }

        var cip: CIPMessage?
        var sequence: UInt16?
        var identity: JSONObject?
        switch header.command {
        case 0x006F, 0x0070:
            (cip, sequence) = parseEncapsulatedCIP(header, message, direction: direction, context: context)
        case 0x0063 where !isRequest && header.length > 0:
            identity = parseListIdentity(message, direction: direction, context: context)
        case 0x0004 where !isRequest && header.length > 0, 0x0064 where !isRequest && header.length > 0:
            let walk = CommonPacketFormat.parse(message, start: ENIPHeader.size, end: message.count)
            if let error = walk.error { reportCPF(error, commandName: commandName, direction: direction, context: context) }
        case 0x0065 where !isRequest && header.status == 0 && header.session != 0:
            if sessions.count < Self.maxSessions { sessions.insert(header.session) }
        case 0x0066 where isRequest:
            sessions.remove(header.session)
        default:
            break
        }

        if isRequest {
            if let cip { raiseAlerts(for: cip, header: header, direction: direction, context: context) }
            if header.command == 0x0063 {
                raise(ENIPCatalogue.listIdentity, target: "list_identity",
                      message: "\(sender(direction, context)) asked \(receiver(direction, context)) for its identity with an EtherNet/IP ListIdentity request.",
                      context: context)
            }
            if pending.count >= Self.maxPendingRequests {
                emit(request: pending.removeFirst(), reply: nil, replyPacket: nil, context: context)
            }
            pending.append(PendingRequest(header: header, cip: cip, connectedSequence: sequence, packet: context.packet))
            return
        }

        let replyPacket = context.packet
        if let index = pending.firstIndex(where: { $0.header.command == header.command && $0.header.senderContext == header.senderContext
            && ($0.connectedSequence == nil || sequence == nil || $0.connectedSequence == sequence) }) {
            let request = pending.remove(at: index)
            var reply = Reply(header: header, cip: cip, identity: identity)
            if let requestCIP = request.cip, let replyCIP = cip {
                reply.cip = renamed(replyCIP, after: requestCIP)
            }
            emit(request: request, reply: reply, replyPacket: replyPacket, context: context)
        } else {
            emitUnpairedReply(Reply(header: header, cip: cip, identity: identity), context: context)
        }
    }

    struct Reply {
        var header: ENIPHeader
        var cip: CIPMessage?
        var identity: JSONObject?
    }

    /// Gives a reply the class of its request, so object-specific services get the right name.
    private func renamed(_ reply: CIPMessage, after request: CIPMessage) -> CIPMessage {
        var copy = reply
        copy.path.classID = request.path.classID
        if request.service == 0x52, request.path.classID == 0x06, let inner = request.embedded.first, reply.service != 0x52 {
            // The reply to a successful Unconnected Send is the target's own reply to the embedded request.
            copy.path.classID = inner.path.classID
        }
        return copy
    }

    private func checkFixedLength(_ header: ENIPHeader, commandName: String, isRequest: Bool, direction: StreamDirection, context: ApplicationContext) {
        var expected: Int?
        switch header.command {
        case 0x0065: expected = 4
        case 0x0066: expected = 0
        case 0x0004, 0x0063, 0x0064: expected = isRequest ? 0 : nil
        default: expected = nil
        }
        if let expected, Int(header.length) != expected {
            context.anomaly(ENIPCatalogue.invalidLength,
                            message: "\(sender(direction, context)) sent an EtherNet/IP \(commandName) with length \(header.length); the command takes exactly \(expected) data bytes.",
                            details: ["command": .int(header.command), "length": .int(header.length)])
        }
    }

    private func trackSession(_ header: ENIPHeader, commandName: String, direction: StreamDirection, context: ApplicationContext) {
        let usesSession = header.command == 0x006F || header.command == 0x0070
        if !sessionTrackingStarted {
            sessionTrackingStarted = true
            if usesSession, header.session != 0 {
                // The capture starts mid-session: the registration predates it, so adopt the handle.
                sessions.insert(header.session)
                return
            }
        }
        guard usesSession, !sessions.contains(header.session) else { return }
        context.anomaly(ENIPCatalogue.sessionNotRegistered,
                        message: "\(sender(direction, context)) sent EtherNet/IP \(commandName) with session handle 0x\(ENIPNames.hex(header.session, digits: 8)), which was never registered on this connection.",
                        details: ["command": .int(header.command), "session": .int(header.session)])
    }

    /// SendRRData and SendUnitData data: interface handle (4), timeout (2), then a CPF list whose
    /// data item carries the CIP message (after a 2-byte sequence count in connected data).
    private func parseEncapsulatedCIP(_ header: ENIPHeader, _ message: UnsafeRawBufferPointer, direction: StreamDirection,
                                      context: ApplicationContext) -> (CIPMessage?, UInt16?) {
        let commandName = ENIPNames.commandName(header.command)
        // An error reply (non-zero status) may carry no command data at all.
        if header.status != 0, header.length == 0 { return (nil, nil) }
        guard header.length >= 8 else {
            context.anomaly(ENIPCatalogue.invalidLength,
                            message: "\(sender(direction, context)) sent EtherNet/IP \(commandName) with length \(header.length), too short for the interface handle, timeout and item count (8 bytes).",
                            details: ["command": .int(header.command), "length": .int(header.length)])
            return (nil, nil)
        }
        let walk = CommonPacketFormat.parse(message, start: ENIPHeader.size + 6, end: message.count)
        if let error = walk.error {
            reportCPF(error, commandName: commandName, direction: direction, context: context)
        }
        guard let data = walk.items.first(where: { $0.type == 0x00B2 || $0.type == 0x00B1 }) else { return (nil, nil) }
        var start = data.offset
        var sequence: UInt16?
        if data.type == 0x00B1 {
            guard data.length >= 2 else { return (nil, nil) }
            sequence = ENIPBytes.u16(message, start)
            start += 2
        }
        let cip = CIPParser.parse(message, start: start, end: data.offset + data.length)
        if let cip, !cip.isResponse { checkRequest(cip, direction: direction, context: context) }
        return (cip, sequence)
    }

    private func reportCPF(_ error: String, commandName: String, direction: StreamDirection, context: ApplicationContext) {
        context.anomaly(ENIPCatalogue.cpfInvalid,
                        message: "\(sender(direction, context)) sent EtherNet/IP \(commandName) with an invalid CPF list: \(error).")
    }

    /// Raises the CIP conformance anomalies for a request and the requests it embeds.
    private func checkRequest(_ cip: CIPMessage, direction: StreamDirection, context: ApplicationContext) {
        for request in cip.allRequests where !request.isResponse {
            if let error = request.pathError {
                context.anomaly(ENIPCatalogue.pathInvalid,
                                message: "\(sender(direction, context)) sent CIP \(request.serviceName) with an invalid request path: \(error).",
                                details: ["service": .int(request.service)])
            }
            if CIPNames.isReservedService(request.service) {
                context.anomaly(ENIPCatalogue.unknownService,
                                message: "\(sender(direction, context)) sent CIP service 0x\(ENIPNames.hex(UInt32(request.service), digits: 2)) to \(request.path.summary); the code is reserved.",
                                details: ["service": .int(request.service)])
            }
            if let error = request.embeddingError {
                context.anomaly(ENIPCatalogue.cpfInvalid,
                                message: "\(sender(direction, context)) sent CIP \(request.serviceName) whose embedded requests are invalid: \(error).",
                                details: ["service": .int(request.service)])
            }
        }
    }

    /// Parses a ListIdentity reply, a CPF list of identity items, and returns the first identity.
    private func parseListIdentity(_ message: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> JSONObject? {
        let walk = CommonPacketFormat.parse(message, start: ENIPHeader.size, end: message.count)
        if let error = walk.error { reportCPF(error, commandName: "list_identity", direction: direction, context: context) }
        guard let item = walk.items.first(where: { $0.type == 0x000C }) else { return nil }
        return ListIdentityItem.record(message, start: item.offset, end: item.offset + item.length)
    }
}

enum ListIdentityItem {
    /// Builds the record of an identity item: protocol version (2, LE), socket address (16, big-endian), vendor id,
    /// device type, product code (2 each), revision (major, minor), status (2), serial number (4),
    /// product name (length byte then bytes), state (1).
    static func record(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> JSONObject? {
        guard start + 33 <= end, let version = ENIPBytes.u16(bytes, start),
              let vendor = ENIPBytes.u16(bytes, start + 18), let deviceType = ENIPBytes.u16(bytes, start + 20),
              let productCode = ENIPBytes.u16(bytes, start + 22), let status = ENIPBytes.u16(bytes, start + 26),
              let serial = ENIPBytes.u32(bytes, start + 28) else { return nil }
        let major = bytes[start + 24]
        let minor = bytes[start + 25]
        let nameLength = Int(bytes[start + 32])
        var record: JSONObject = [
            "protocol_version": .int(version),
            "vendor_id": .int(vendor),
            "device_type": .int(deviceType),
            "product_code": .int(productCode),
            "revision": .string("\(major).\(minor)"),
            "status": .int(status),
            "serial_number": .string("0x" + ENIPNames.hex(serial, digits: 8)),
        ]
        let port = UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5])
        let address = "\(bytes[start + 6]).\(bytes[start + 7]).\(bytes[start + 8]).\(bytes[start + 9])"
        record.set("socket_address", .string(address))
        record.set("socket_port", .int(port))
        if let name = ENIPBytes.slice(bytes, start + 33, min(nameLength, end - start - 33)) {
            record.set("product_name", .wire(name))
        }
        if start + 33 + nameLength < end {
            record.set("state", .int(bytes[start + 33 + nameLength]))
        }
        return record
    }
}
