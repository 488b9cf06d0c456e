import WirecheckCore

/// OPC UA binary over TCP (UA Connection Protocol and UA Secure Conversation, IEC 62541-6):
/// identification and the per-flow parser factory.
public enum OPCUAProtocol: ApplicationProtocol {
    public static let name = "opcua"
    /// 4840 is the IANA port for OPC UA Connection Protocol over TCP.
    public static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [4840]]

    /// Matches a chunk header with a known message type, a known chunk type and a plausible size.
    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .tcp else { return .noMatch }
        guard bytes.count >= OPCUAChunkHeader.length else {
            // Every message type starts with one of H, A, E, R, O, M or C.
            if let first = bytes.first, !Array("HAEROMC".utf8).contains(first) { return .noMatch }
            guard bytes.count >= 3 else { return .needMoreData }
            return OPCUAMessageType(bytes[0], bytes[1], bytes[2]) == nil ? .noMatch : .needMoreData
        }
        guard let header = OPCUAChunkHeader(bytes), header.messageType != nil, header.isKnownChunkType,
              header.size >= OPCUAParser.minHelloSize || header.messageType != .hello,
              header.size >= OPCUAChunkHeader.length, header.size <= OPCUAParser.maxChunkSize else { return .noMatch }
        return .match
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        OPCUAParser()
    }
}

/// Parses the OPC UA chunks of one TCP connection, follows the secure channel's policy and
/// mode, and reports each message once its final chunk arrives.
public final class OPCUAParser: ApplicationParser {
    /// Largest chunk accepted at any time. A larger declared size is taken as corruption, because
    /// 16 MiB is far above the buffer sizes that asyncua and open62541 offered in the test
    /// captures (64 KiB).
    static let maxChunkSize = 16 * 1024 * 1024
    /// The Hello's fixed fields (8-byte header, five UInt32, a String length) take 32 bytes.
    static let minHelloSize = 32
    /// IEC 62541-6 limits the Hello's EndpointUrl to 4096 bytes.
    static let maxEndpointURL = 4096
    /// Limits the per-flow memory of write and call alerts; past it, repeats may alert again.
    static let maxRememberedNodes = 1024
    /// A MSG or CLO chunk's header is followed by the secure channel id, token id, sequence
    /// number and request id, so its body starts at byte 24.
    static let symmetricHeaderEnd = 24
    /// Limits how much of a multi-chunk message body is kept. The request header and the first
    /// node of Write or Call fit well within it, so the rest is not parsed.
    static let maxBufferedBody = 4096
    /// Requests that a client sends on a None channel only to find a secure endpoint and leave:
    /// FindServers, GetEndpoints, RegisterServer and CloseSecureChannel.
    static let discoveryServices: Set<UInt32> = [422, 428, 437, 452]

    /// A message whose chunks are still arriving, or one being finished.
    struct MessageInProgress {
        var type: OPCUAMessageType
        var requestID: UInt32
        var chunks = 0
        var size = 0
        var lastChunkType: UInt8 = UInt8(ascii: "F")
        var packets: [PacketReference] = []
        var record = JSONObject()
        var details = OPCUAServiceDetails()
        /// The first bytes of a multi-chunk body, up to `maxBufferedBody`.
        var bodyPrefix: [UInt8] = []
    }

    private var endpointURL: [UInt8]?
    private var policyURI: [UInt8]?
    private var policy: OPCUASecurityPolicy?
    private var securityMode: UInt32?
    private var secureChannelID: UInt32?
    private var helloSeen = false
    /// Largest chunk each way, from the server's Acknowledge.
    private var toServerLimit: Int?
    private var toClientLimit: Int?
    private var oversizeReported = false
    private var resyncing: [Bool] = [false, false]
    /// Set after a capture gap, so the bytes that follow it are skipped silently up to a header.
    private var afterGap: [Bool] = [false, false]
    private var inProgress: [MessageInProgress?] = [nil, nil]
    private var securityNoneAlerted = false
    private var deprecatedPolicyAlerted = false
    private var writtenNodes: Set<OPCUANodeID> = []
    private var calledMethods: Set<OPCUANodeID> = []

    public init() {}

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        let side = index(direction)
        var offset = 0

        while bytes.count - offset >= OPCUAChunkHeader.length {
            let view = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let header = OPCUAChunkHeader(view) else { break }

            guard let type = header.messageType else {
                if !resyncing[side] && !afterGap[side] {
                    context.anomaly(OPCUACatalogue.unknownMessageType,
                                    message: "\(sender(direction, context)) sent an OPC UA chunk with unknown message type \(header.rawTypeText); skipping to the next valid header.",
                                    details: ["message_type": .string(header.rawTypeText)])
                }
                resyncing[side] = true
                offset += OPCUAParser.distanceToNextHeader(view)
                continue
            }
            guard header.size >= OPCUAChunkHeader.length, header.size <= OPCUAParser.maxChunkSize else {
                if !resyncing[side] && !afterGap[side] {
                    context.anomaly(OPCUACatalogue.invalidSize,
                                    message: "\(sender(direction, context)) sent an OPC UA \(type.rawValue) chunk declaring \(header.size) bytes, outside 8 bytes to 16 MiB; skipping to the next valid header.",
                                    details: ["message_type": .string(type.rawValue), "size": .int(header.size)])
                }
                resyncing[side] = true
                offset += OPCUAParser.distanceToNextHeader(view)
                continue
            }
            // Wait for the rest of the chunk; the caller offers these bytes again, extended.
            guard header.size <= view.count else { break }

            resyncing[side] = false
            afterGap[side] = false
            handleChunk(UnsafeRawBufferPointer(rebasing: view[0..<header.size]), header: header, type: type,
                        direction: direction, context: context)
            offset += header.size
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        inProgress[index(direction)] = nil
        afterGap[index(direction)] = true
    }

    public func close(context: ApplicationContext) {
        for side in 0..<2 {
            guard var message = inProgress[side] else { continue }
            inProgress[side] = nil
            message.record.set("complete", false)
            emit(message, direction: side == 0 ? .toServer : .toClient, context: context)
        }
    }

    /// Returns how many bytes to skip to reach the next plausible chunk header, keeping the last
    /// 7 bytes when none is found because a header may start there.
    static func distanceToNextHeader(_ view: UnsafeRawBufferPointer) -> Int {
        var candidate = 1
        while candidate + OPCUAChunkHeader.length <= view.count {
            let rest = UnsafeRawBufferPointer(rebasing: view[candidate...])
            if let header = OPCUAChunkHeader(rest), header.messageType != nil, header.isKnownChunkType,
               header.size >= OPCUAChunkHeader.length, header.size <= maxChunkSize {
                return candidate
            }
            candidate += 1
        }
        return max(1, view.count - (OPCUAChunkHeader.length - 1))
    }

    // MARK: - Chunks

    private func handleChunk(_ chunk: UnsafeRawBufferPointer, header: OPCUAChunkHeader, type: OPCUAMessageType,
                             direction: StreamDirection, context: ApplicationContext) {
        checkChunkType(header, type: type, direction: direction, context: context)
        checkNegotiatedSize(header, type: type, direction: direction, context: context)

        var message = MessageInProgress(type: type, requestID: 0)
        message.record.set("message_type", .string(type.rawValue))

        switch type {
        case .hello:
            parseHello(chunk, into: &message, direction: direction, context: context)
        case .acknowledge:
            parseAcknowledge(chunk, into: &message, direction: direction, context: context)
        case .error:
            parseError(chunk, into: &message, direction: direction, context: context)
        case .reverseHello:
            parseReverseHello(chunk, into: &message, direction: direction, context: context)
        case .openSecureChannel:
            parseOpenSecureChannel(chunk, into: &message, direction: direction, context: context)
        case .message, .closeSecureChannel:
            handleSymmetricChunk(chunk, header: header, type: type, direction: direction, context: context)
            return
        }
        message.chunks = 1
        message.size = header.size
        message.lastChunkType = header.chunkType
        message.packets = [context.packet]
        emit(message, direction: direction, context: context)
    }

    private func checkChunkType(_ header: OPCUAChunkHeader, type: OPCUAMessageType, direction: StreamDirection,
                                context: ApplicationContext) {
        let chunkText = chunkTypeText(header.chunkType)
        if !header.isKnownChunkType {
            context.anomaly(OPCUACatalogue.invalidChunkType,
                            message: "\(sender(direction, context)) sent an OPC UA \(type.rawValue) chunk with invalid chunk type \(chunkText); only F, C and A are defined.",
                            details: ["message_type": .string(type.rawValue), "chunk": .string(chunkText)])
        } else if !type.isSecureConversation && header.chunkType != UInt8(ascii: "F") {
            context.anomaly(OPCUACatalogue.invalidChunkType,
                            message: "\(sender(direction, context)) sent an OPC UA \(type.rawValue) with chunk type \(chunkText); \(type.rawValue) messages are always a single F chunk.",
                            details: ["message_type": .string(type.rawValue), "chunk": .string(chunkText)])
        }
    }

    private func checkNegotiatedSize(_ header: OPCUAChunkHeader, type: OPCUAMessageType, direction: StreamDirection,
                                     context: ApplicationContext) {
        guard !oversizeReported, let limit = direction == .toServer ? toServerLimit : toClientLimit,
              limit > 0, header.size > limit else { return }
        oversizeReported = true
        context.anomaly(OPCUACatalogue.invalidSize,
                        message: "\(sender(direction, context)) sent an OPC UA \(type.rawValue) chunk of \(header.size) bytes, above the \(limit)-byte buffer size negotiated in the Acknowledge.",
                        details: ["message_type": .string(type.rawValue), "size": .int(header.size), "negotiated_limit": .int(limit)])
    }

    // MARK: - Connection Protocol

    private func parseHello(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress,
                            direction: StreamDirection, context: ApplicationContext) {
        helloSeen = true
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let version = reader.uint32(), let receiveBuffer = reader.uint32(), let sendBuffer = reader.uint32(),
              let maxMessage = reader.uint32(), let maxChunks = reader.uint32(), let url = reader.byteStringRange() else {
            reportShort("Hello", chunk.count, direction, context)
            return
        }
        message.record.set("protocol_version", .int(version))
        message.record.set("receive_buffer_size", .int(receiveBuffer))
        message.record.set("send_buffer_size", .int(sendBuffer))
        message.record.set("max_message_size", .int(maxMessage))
        message.record.set("max_chunk_count", .int(maxChunks))
        endpointURL = reader.copy(url, limit: OPCUAParser.maxEndpointURL)
    }

    private func parseAcknowledge(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress,
                                  direction: StreamDirection, context: ApplicationContext) {
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let version = reader.uint32(), let receiveBuffer = reader.uint32(), let sendBuffer = reader.uint32(),
              let maxMessage = reader.uint32(), let maxChunks = reader.uint32() else {
            reportShort("Acknowledge", chunk.count, direction, context)
            return
        }
        message.record.set("protocol_version", .int(version))
        message.record.set("receive_buffer_size", .int(receiveBuffer))
        message.record.set("send_buffer_size", .int(sendBuffer))
        message.record.set("max_message_size", .int(maxMessage))
        message.record.set("max_chunk_count", .int(maxChunks))
        // The server sends the Acknowledge: its receive buffer bounds the client's chunks and
        // its send buffer bounds its own.
        let serverReceives = direction == .toClient ? receiveBuffer : sendBuffer
        let serverSends = direction == .toClient ? sendBuffer : receiveBuffer
        toServerLimit = Int(serverReceives)
        toClientLimit = Int(serverSends)
    }

    private func parseError(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress,
                            direction: StreamDirection, context: ApplicationContext) {
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let status = reader.uint32(), let reason = reader.byteStringRange() else {
            context.anomaly(OPCUACatalogue.errorMessage,
                            message: "\(sender(direction, context)) sent an OPC UA Error of \(chunk.count) bytes, too short for its status code and reason.",
                            details: ["size": .int(chunk.count)])
            return
        }
        message.record.set("status", .string(OPCUANames.statusText(status)))
        message.record.set("reason", .wire(reader.copy(reason, limit: OPCUAParser.maxEndpointURL)))
    }

    private func parseReverseHello(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress,
                                   direction: StreamDirection, context: ApplicationContext) {
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let serverURI = reader.byteStringRange(), let url = reader.byteStringRange() else {
            reportShort("ReverseHello", chunk.count, direction, context)
            return
        }
        message.record.set("server_uri", .wire(reader.copy(serverURI, limit: OPCUAParser.maxEndpointURL)))
        endpointURL = reader.copy(url, limit: OPCUAParser.maxEndpointURL)
    }

    // MARK: - Secure Conversation

    private func parseOpenSecureChannel(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress,
                                        direction: StreamDirection, context: ApplicationContext) {
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let channelID = reader.uint32(), let uri = reader.byteStringRange(),
              let certificateLength = reader.byteStringLength(), let thumbprintLength = reader.byteStringLength() else {
            reportShort("OpenSecureChannel", chunk.count, direction, context)
            return
        }
        message.record.set("secure_channel_id", .int(channelID))
        message.record.set("sender_certificate_length", .int(max(certificateLength, 0)))
        message.record.set("receiver_thumbprint_length", .int(max(thumbprintLength, 0)))

        let uriBytes = reader.copy(uri, limit: OPCUAParser.maxEndpointURL)
        let openedPolicy = OPCUASecurityPolicy(uri: uriBytes)
        policyURI = uriBytes
        policy = openedPolicy
        if channelID != 0 { secureChannelID = channelID }

        // NOTE: a capture that starts between a Hello and its OPN raises this too, because the
        // parser cannot tell that it missed the Hello.
        if direction == .toServer && channelID == 0 && !helloSeen {
            context.anomaly(OPCUACatalogue.messageBeforeHello,
                            message: "\(sender(direction, context)) opened a new OPC UA secure channel to \(receiver(direction, context)) without a Hello on this connection.")
        }

        guard openedPolicy == .none else {
            // The sequence header and body are encrypted with the receiver's key.
            securityMode = nil
            message.record.set("encrypted", true)
            if direction == .toServer && openedPolicy.isDeprecated && !deprecatedPolicyAlerted {
                deprecatedPolicyAlerted = true
                context.alert(OPCUACatalogue.deprecatedSecurityPolicy,
                              message: "\(sender(direction, context)) opened an OPC UA secure channel to \(endpointText(direction, context)) with deprecated security policy \(String(wireBytes: uriBytes)).",
                              details: ["security_policy_uri": .wire(uriBytes)])
            }
            return
        }
        securityMode = 1

        guard let _ = reader.uint32(), let requestID = reader.uint32(), let typeID = reader.nodeID()?.numericValue else { return }
        message.requestID = requestID
        message.record.set("request_id", .int(requestID))
        if let service = OPCUANames.service(typeID) {
            message.details.typeID = typeID
            message.details.service = service
            message.record.set("service", .object(["name": .string(service.name), "type_id": .int(typeID)]))
        }
        if typeID == OPCUANames.openSecureChannelRequest {
            guard reader.skipRequestHeader(), let _ = reader.uint32(), let requestType = reader.uint32(),
                  let mode = reader.uint32(), reader.byteStringLength() != nil, let lifetime = reader.uint32() else { return }
            message.record.set("request_type", .string(OPCUANames.requestType(requestType)))
            message.record.set("requested_lifetime", .int(lifetime))
            // The request states the mode; with policy None anything but None is inconsistent,
            // and the record shows the value as sent.
            securityMode = mode
        } else if typeID == OPCUANames.openSecureChannelResponse {
            guard let status = reader.responseHeader() else { return }
            message.record.set("status", .string(OPCUANames.statusText(status)))
            guard let _ = reader.uint32(), let issuedChannel = reader.uint32(), let token = reader.uint32(),
                  reader.skip(8), let lifetime = reader.uint32() else { return }
            secureChannelID = issuedChannel
            message.record.set("secure_channel_id", .int(issuedChannel))
            message.record.set("token_id", .int(token))
            message.record.set("revised_lifetime", .int(lifetime))
        }
    }

    private func handleSymmetricChunk(_ chunk: UnsafeRawBufferPointer, header: OPCUAChunkHeader, type: OPCUAMessageType,
                                      direction: StreamDirection, context: ApplicationContext) {
        let side = index(direction)
        var reader = OPCUAReader(chunk, offset: OPCUAChunkHeader.length)
        guard let channelID = reader.uint32(), let tokenID = reader.uint32(), let _ = reader.uint32(),
              let requestID = reader.uint32() else {
            reportShort(type.rawValue, chunk.count, direction, context)
            return
        }

        var message: MessageInProgress
        if let open = inProgress[side], open.requestID == requestID, open.type == type {
            message = open
        } else {
            if let stale = inProgress[side] {
                // A new request id means the earlier message's last chunk never came.
                var incomplete = stale
                incomplete.record.set("complete", false)
                emit(incomplete, direction: direction, context: context)
            }
            message = MessageInProgress(type: type, requestID: requestID)
            message.record.set("message_type", .string(type.rawValue))
            message.record.set("secure_channel_id", .int(channelID))
            message.record.set("token_id", .int(tokenID))
            message.record.set("request_id", .int(requestID))
        }
        message.chunks += 1
        message.size += header.size
        message.lastChunkType = header.chunkType
        if message.packets.last != context.packet { message.packets.append(context.packet) }

        switch header.chunkType {
        case UInt8(ascii: "C"):
            bufferBody(chunk, into: &message)
            inProgress[side] = message
            return
        case UInt8(ascii: "A"):
            // An abort chunk carries an error and a reason instead of the rest of the body, so
            // the service comes from the chunks before it.
            if message.chunks > 1 {
                let buffered = message.bodyPrefix
                buffered.withUnsafeBytes { buffered in
                    var bufferedReader = OPCUAReader(buffered)
                    parseBody(&bufferedReader, into: &message)
                }
            }
            if !isEncrypted, let status = reader.uint32() {
                message.record.set("status", .string(OPCUANames.statusText(status)))
            }
        default:
            if message.chunks == 1 {
                parseBody(&reader, into: &message)
            } else {
                bufferBody(chunk, into: &message)
                let buffered = message.bodyPrefix
                buffered.withUnsafeBytes { buffered in
                    var bufferedReader = OPCUAReader(buffered)
                    parseBody(&bufferedReader, into: &message)
                }
            }
        }
        inProgress[side] = nil
        emit(message, direction: direction, context: context)
        raiseServiceAlerts(message, direction: direction, context: context)
    }

    /// Keeps the start of a multi-chunk message's body, so the service type and first node can
    /// be read once the final chunk arrives.
    private func bufferBody(_ chunk: UnsafeRawBufferPointer, into message: inout MessageInProgress) {
        guard !isEncrypted, message.bodyPrefix.count < OPCUAParser.maxBufferedBody,
              chunk.count > OPCUAParser.symmetricHeaderEnd else { return }
        let take = min(chunk.count - OPCUAParser.symmetricHeaderEnd, OPCUAParser.maxBufferedBody - message.bodyPrefix.count)
        let start = OPCUAParser.symmetricHeaderEnd
        message.bodyPrefix += UnsafeRawBufferPointer(rebasing: chunk[start..<(start + take)])
    }

    private var isEncrypted: Bool { policy.map { $0 != .none } ?? false }

    /// Reads the service type and the fields the events need, unless the channel's policy
    /// signs or encrypts the body. On a flow picked up mid-stream the policy is unknown, so
    /// the type id must name a known service before the body is trusted.
    private func parseBody(_ reader: inout OPCUAReader, into message: inout MessageInProgress) {
        if isEncrypted {
            message.record.set("encrypted", true)
            return
        }
        guard let typeID = reader.nodeID()?.numericValue, let service = OPCUANames.service(typeID) else { return }
        if policy != nil { message.record.set("encrypted", false) }
        message.details.typeID = typeID
        message.details.service = service
        message.record.set("service", .object(["name": .string(service.name), "type_id": .int(typeID)]))
        message.details.read(&reader)
        message.details.addFields(to: &message.record)
    }

    // MARK: - Alerts

    private func raiseServiceAlerts(_ message: MessageInProgress, direction: StreamDirection, context: ApplicationContext) {
        guard let service = message.details.service, service.isRequest, let typeID = message.details.typeID else { return }
        let from = sender(direction, context)
        let endpoint = endpointText(direction, context)

        if policy == OPCUASecurityPolicy.none && !securityNoneAlerted && !OPCUAParser.discoveryServices.contains(typeID) {
            securityNoneAlerted = true
            let policyText = policyURI.map { String(wireBytes: $0) } ?? "None"
            context.alert(OPCUACatalogue.securityModeNone,
                          message: "\(from) sent an OPC UA \(service.name) to \(endpoint) over a secure channel with security policy \(policyText), so it is neither signed nor encrypted.",
                          packets: message.packets, details: ["security_policy_uri": .string(policyText)])
        }

        switch typeID {
        case OPCUANames.writeRequest:
            guard let node = message.details.firstNode else { return }
            guard !writtenNodes.contains(node) else { return }
            if writtenNodes.count < OPCUAParser.maxRememberedNodes { writtenNodes.insert(node) }
            context.alert(OPCUACatalogue.writeRequest,
                          message: "\(from) wrote \(node.text)\(countPhrase(message.details.nodeCount)) on OPC UA server \(endpoint).",
                          packets: message.packets, details: ["node_id": .string(node.text)])
        case OPCUANames.callRequest:
            guard let method = message.details.method else { return }
            guard !calledMethods.contains(method) else { return }
            if calledMethods.count < OPCUAParser.maxRememberedNodes { calledMethods.insert(method) }
            let object = message.details.firstNode.map { " on object \($0.text)" } ?? ""
            context.alert(OPCUACatalogue.callRequest,
                          message: "\(from) called method \(method.text)\(object) on OPC UA server \(endpoint).",
                          packets: message.packets, details: ["method_id": .string(method.text)])
        case OPCUANames.addNodesRequest, OPCUANames.deleteNodesRequest:
            let verb = typeID == OPCUANames.addNodesRequest ? "add" : "delete"
            let count = message.details.nodeCount.map { "\($0) node\($0 == 1 ? "" : "s")" } ?? "nodes"
            context.alert(OPCUACatalogue.addDeleteNodes,
                          message: "\(from) sent OPC UA server \(endpoint) a request to \(verb) \(count).",
                          packets: message.packets, details: ["service": .string(service.name)])
        default:
            break
        }
    }

    // MARK: - Events

    private func emit(_ message: MessageInProgress, direction: StreamDirection, context: ApplicationContext) {
        var record = message.record
        record.set("chunk", .string(chunkTypeText(message.lastChunkType)))
        if message.chunks > 1 { record.set("chunks", .int(message.chunks)) }
        record.set("size", .int(message.size))
        if record["secure_channel_id"] == nil, let channel = secureChannelID {
            record.set("secure_channel_id", .int(channel))
        }
        if let url = endpointURL { record.set("endpoint_url", .wire(url)) }
        if let uri = policyURI { record.set("security_policy_uri", .wire(uri)) }
        if message.type.isSecureConversation, policy != nil {
            record.set("security_mode", .string(securityMode.map(OPCUANames.securityMode) ?? "unknown (encrypted)"))
        }

        var operation: Operation?
        var subject = OPCUAParser.messageName(message.type)
        if let service = message.details.service {
            subject = service.name
            if let name = service.operation, let typeID = message.details.typeID {
                operation = Operation(protocolName: OPCUAProtocol.name, name: name,
                                      operationClass: service.operationClass, code: Int(typeID))
            }
        }
        var sentence = "\(sender(direction, context)) sent an OPC UA \(subject)"
        if message.type == .hello, let url = endpointURL { sentence += " for \(String(wireBytes: url))" }
        if message.type.isSecureConversation && message.requestID != 0 { sentence += " (request id \(message.requestID))" }
        sentence += " to \(receiver(direction, context))"
        if case .string(let status)? = record["status"] { sentence += " with status \(status)" }
        sentence += "."

        context.transaction(protocolName: OPCUAProtocol.name, record: record, operation: operation,
                            packets: message.packets.isEmpty ? [context.packet] : message.packets, message: sentence)
    }

    static func messageName(_ type: OPCUAMessageType) -> String {
        switch type {
        case .hello: return "Hello"
        case .acknowledge: return "Acknowledge"
        case .error: return "Error"
        case .reverseHello: return "ReverseHello"
        case .openSecureChannel: return "OpenSecureChannel"
        case .message: return "message"
        case .closeSecureChannel: return "CloseSecureChannel"
        }
    }

    // MARK: - Helpers

    private func reportShort(_ messageName: String, _ size: Int, _ direction: StreamDirection, _ context: ApplicationContext) {
        context.anomaly(OPCUACatalogue.invalidSize,
                        message: "\(sender(direction, context)) sent an OPC UA \(messageName) chunk of \(size) bytes, too small for the fields it contains.",
                        details: ["message_type": .string(messageName), "size": .int(size)])
    }

    /// Names the server a client message goes to: the Hello's endpoint URL, or the receiver's
    /// address and port when the Hello was not seen.
    private func endpointText(_ clientDirection: StreamDirection, _ context: ApplicationContext) -> String {
        if let url = endpointURL, !url.isEmpty { return String(wireBytes: url) }
        let port = clientDirection == .toServer ? context.flow.destPort : context.flow.srcPort
        return "\(receiver(clientDirection, context)):\(port)"
    }

    private func countPhrase(_ count: Int?) -> String {
        guard let count, count > 1 else { return "" }
        return " and \(count - 1) other node\(count == 2 ? "" : "s")"
    }

    private func chunkTypeText(_ chunkType: UInt8) -> String {
        chunkType >= 0x20 && chunkType < 0x7F ? String(UnicodeScalar(chunkType)) : "0x" + String(chunkType, radix: 16, uppercase: true)
    }

    private func index(_ direction: StreamDirection) -> Int { direction == .toServer ? 0 : 1 }

    private func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    private func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }
}
