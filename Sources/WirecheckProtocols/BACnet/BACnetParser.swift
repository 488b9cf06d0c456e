import WirecheckCore

/// BACnet/IP (ASHRAE 135 Annex J) over UDP: identification and the per-flow parser factory.
public enum BACnetProtocol: ApplicationProtocol {
    public static let name = "bacnet"
    /// 47808 (0xBAC0) is the port Annex J registers for BACnet/IP.
    public static let registeredPorts: [Transport: Set<UInt16>] = [.udp: [47808]]

    /// Matches a datagram whose BVLC header has type 0x81, a defined function and a length of at
    /// least the header. When the function carries an NPDU, its version must be 1.
    /// The length need not equal the datagram's, because some devices and test generators get it
    /// wrong. The parser reports that as an anomaly instead of losing the flow.
    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .udp else { return .noMatch }
        guard let header = BVLCHeader(bytes) else { return .noMatch }
        guard BACnetNames.bvlcFunction(header.function) != nil, header.declaredLength >= BVLCHeader.length else { return .noMatch }
        if let npduOffset = header.npduOffset, bytes.bacnetByte(npduOffset) != NPDUHeader.version { return .noMatch }
        return .match
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        BACnetParser()
    }
}

/// Everything read from one BACnet/IP datagram.
struct BACnetMessage {
    var bvlcFunction: UInt8
    var npdu: NPDUHeader?
    var apdu: APDUHeader?
    var details = BACnetServiceDetails()
}

/// Parses BACnet/IP datagrams of one UDP flow and pairs confirmed requests with their responses
/// by invoke id.
public final class BACnetParser: ApplicationParser {
    /// A confirmed request waiting for its response.
    struct PendingRequest {
        let message: BACnetMessage
        let packet: PacketReference
        let direction: StreamDirection
    }

    /// An (object, property) pair already reported as written on this flow.
    struct WrittenProperty: Hashable {
        let object: BACnetObjectIdentifier
        let property: UInt32
    }

    /// Limits the per-flow memory of write alerts; past it, repeats may alert again. A device
    /// rarely exposes more writable properties to one client than this.
    static let maxRememberedWrites = 1024

    /// Outstanding confirmed requests keyed by direction and invoke id. The key space (2 x 256)
    /// bounds the table: a reused invoke id replaces the unanswered request it shadows.
    private var pending: [UInt16: PendingRequest] = [:]
    private var seenToServer = false
    private var seenToClient = false
    private var writtenProperties: Set<WrittenProperty> = []
    private var invalidLengthReported = false

    public init() {}

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        defer { markSeen(direction) }
        guard bytes.count >= BVLCHeader.length else {
            context.anomaly(BACnetCatalogue.truncated,
                            message: "\(sender(direction, context)) sent a \(bytes.count)-byte BACnet/IP datagram, shorter than the 4-byte BVLC header.",
                            details: ["length": .int(bytes.count)])
            return bytes.count
        }
        guard let bvlc = BVLCHeader(bytes) else { return bytes.count }

        guard let functionName = BACnetNames.bvlcFunction(bvlc.function) else {
            context.anomaly(BACnetCatalogue.bvlcUnknownFunction,
                            message: "\(sender(direction, context)) sent a BVLC header with unknown function 0x\(hex(bvlc.function)).",
                            details: ["bvlc_function": .int(bvlc.function)])
            return bytes.count
        }

        var length = bytes.count
        if bvlc.declaredLength != bytes.count {
            // A sender that gets the length wrong does so in every datagram, so one report per flow.
            if !invalidLengthReported {
                invalidLengthReported = true
                context.anomaly(BACnetCatalogue.bvlcInvalidLength,
                                message: "\(sender(direction, context)) sent a BVLC \(functionName) declaring \(bvlc.declaredLength) bytes in a \(bytes.count)-byte datagram.",
                                details: ["bvlc_length": .int(bvlc.declaredLength), "datagram_length": .int(bytes.count)])
            }
            // Trust the shorter of the two so no read passes the end of either.
            length = max(BVLCHeader.length, min(bvlc.declaredLength, bytes.count))
        }
        let datagram = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
        var message = BACnetMessage(bvlcFunction: bvlc.function)

        guard let npduOffset = bvlc.npduOffset else {
            emitLinkControl(message, datagram: datagram, direction: direction, context: context)
            return bytes.count
        }
        guard npduOffset < datagram.count else {
            reportTruncated("\(functionName) without an NPDU", direction, context)
            return bytes.count
        }
        parseNPDU(UnsafeRawBufferPointer(rebasing: datagram[npduOffset...]), message: &message,
                  direction: direction, context: context)
        return bytes.count
    }

    public func close(context: ApplicationContext) {
        let unanswered = pending.values.sorted { $0.packet < $1.packet }
        pending.removeAll()
        for request in unanswered {
            emitTransaction(request: request, response: nil, responsePacket: nil, context: context)
        }
    }

    // MARK: - Network layer

    private func parseNPDU(_ npdu: UnsafeRawBufferPointer, message: inout BACnetMessage, direction: StreamDirection,
                           context: ApplicationContext) {
        guard let header = NPDUHeader(npdu) else {
            reportTruncated("NPDU header", direction, context)
            return
        }
        message.npdu = header
        guard header.version == NPDUHeader.version else {
            context.anomaly(BACnetCatalogue.npduInvalidVersion,
                            message: "\(sender(direction, context)) sent a BACnet NPDU with version \(header.version); the standard defines only version 1.",
                            details: ["npdu_version": .int(header.version)])
            return
        }
        if header.isNetworkMessage {
            emitNetworkMessage(message, direction: direction, context: context)
            return
        }
        guard header.payloadOffset < npdu.count else {
            reportTruncated("NPDU without an APDU", direction, context)
            return
        }
        parseAPDU(UnsafeRawBufferPointer(rebasing: npdu[header.payloadOffset...]), message: &message,
                  direction: direction, context: context)
    }

    // MARK: - Application layer

    private func parseAPDU(_ apdu: UnsafeRawBufferPointer, message: inout BACnetMessage, direction: StreamDirection,
                           context: ApplicationContext) {
        guard let header = APDUHeader(apdu) else {
            let type = apdu.bacnetByte(0).map { BACnetNames.apduType($0 >> 4) ?? "APDU" } ?? "APDU"
            reportTruncated("\(type) header", direction, context)
            return
        }
        message.apdu = header
        guard BACnetNames.apduType(header.type) != nil else {
            context.anomaly(BACnetCatalogue.apduUnknownType,
                            message: "\(sender(direction, context)) sent a BACnet APDU of unknown PDU type \(header.type).",
                            details: ["apdu_type": .int(header.type)])
            return
        }

        switch header.type {
        case 0:
            handleConfirmedRequest(apdu, header: header, message: &message, direction: direction, context: context)
        case 1:
            handleUnconfirmedRequest(apdu, header: header, message: &message, direction: direction, context: context)
        case 4:
            emitStandalone(message, direction: direction, context: context)
        case 7 where header.flags & 0x01 == 0:
            // An Abort sent by the client (SRV bit clear) ends its own request.
            handleResponse(apdu, header: header, message: &message, requestDirection: direction, context: context)
        default:
            handleResponse(apdu, header: header, message: &message, requestDirection: direction.reversed, context: context)
        }
    }

    private func handleConfirmedRequest(_ apdu: UnsafeRawBufferPointer, header: APDUHeader, message: inout BACnetMessage,
                                        direction: StreamDirection, context: ApplicationContext) {
        guard let choice = header.serviceChoice, let invokeID = header.invokeID else { return }
        if BACnetNames.confirmedService(choice) == nil {
            context.anomaly(BACnetCatalogue.unknownService,
                            message: "\(sender(direction, context)) sent a BACnet confirmed request with unknown service choice \(choice).",
                            details: ["service": .int(choice), "apdu_type": "confirmed-request"])
        }
        // Only the first segment of a segmented request carries the start of the parameters.
        if header.sequenceNumber ?? 0 == 0 {
            message.details = BACnetServiceDetails.confirmedRequest(choice, apdu, at: header.parametersOffset)
            if message.details.truncated {
                reportTruncated("\(serviceName(confirmed: true, choice)) request", direction, context)
            }
            raiseAlerts(message, choice: choice, direction: direction, context: context)
        }

        let key = pendingKey(direction, invokeID)
        if let previous = pending[key], previous.message.apdu?.serviceChoice != choice || header.sequenceNumber ?? 0 == 0 {
            // The invoke id is reused, so the earlier request went unanswered.
            pending[key] = nil
            emitTransaction(request: previous, response: nil, responsePacket: nil, context: context)
        }
        if pending[key] == nil {
            pending[key] = PendingRequest(message: message, packet: context.packet, direction: direction)
        }
    }

    private func handleUnconfirmedRequest(_ apdu: UnsafeRawBufferPointer, header: APDUHeader, message: inout BACnetMessage,
                                          direction: StreamDirection, context: ApplicationContext) {
        guard let choice = header.serviceChoice else { return }
        if BACnetNames.unconfirmedService(choice) == nil {
            context.anomaly(BACnetCatalogue.unknownService,
                            message: "\(sender(direction, context)) sent a BACnet unconfirmed request with unknown service choice \(choice).",
                            details: ["service": .int(choice), "apdu_type": "unconfirmed-request"])
        }
        message.details = BACnetServiceDetails.unconfirmedRequest(choice, apdu, at: header.parametersOffset)
        if message.details.truncated {
            reportTruncated("\(serviceName(confirmed: false, choice)) request", direction, context)
        }
        emitStandalone(message, direction: direction, context: context)
    }

    /// Pairs a Simple-ACK, Complex-ACK, Error, Reject or Abort with the request it responds to.
    private func handleResponse(_ apdu: UnsafeRawBufferPointer, header: APDUHeader, message: inout BACnetMessage,
                                requestDirection: StreamDirection, context: ApplicationContext) {
        guard let invokeID = header.invokeID else { return }
        let responseDirection = header.type == 7 && header.flags & 0x01 == 0 ? requestDirection : requestDirection.reversed
        if header.type == 3, header.sequenceNumber ?? 0 == 0, let choice = header.serviceChoice {
            message.details = BACnetServiceDetails.complexAck(choice, apdu, at: header.parametersOffset)
        }
        if header.type == 5 {
            message.details = BACnetServiceDetails.error(apdu, at: header.parametersOffset)
            if message.details.truncated { reportTruncated("Error PDU", responseDirection, context) }
        }

        let key = pendingKey(requestDirection, invokeID)
        guard let request = pending[key] else {
            // Only a flow that already carried traffic the request's way could have shown the request.
            // NOTE: a capture that starts between a request and its response still raises this
            // when the requester sent another datagram first.
            if hasSeen(requestDirection) {
                let type = BACnetNames.apduType(header.type) ?? "response"
                context.anomaly(BACnetCatalogue.ackWithoutRequest,
                                message: "\(sender(responseDirection, context)) sent a BACnet \(type) for invoke id \(invokeID), but \(receiver(responseDirection, context)) sent no request with that invoke id on this flow.",
                                details: ["invoke_id": .int(invokeID), "apdu_type": .string(type)])
            }
            emitStandalone(message, direction: responseDirection, context: context)
            return
        }
        // A segmented Complex-ACK completes with its last segment.
        if header.type == 3 && header.moreFollows { return }
        pending[key] = nil
        emitTransaction(request: request, response: message, responsePacket: context.packet, context: context)
    }

    // MARK: - Alerts

    private func raiseAlerts(_ message: BACnetMessage, choice: UInt8, direction: StreamDirection, context: ApplicationContext) {
        let details = message.details
        let from = sender(direction, context)
        let to = receiver(direction, context)

        switch choice {
        case BACnetServiceDetails.confirmedReinitializeDevice:
            let state = details.reinitializedState.map { BACnetNames.reinitializedState($0) ?? "state \($0)" } ?? "unknown state"
            context.alert(BACnetCatalogue.reinitializeDevice,
                          message: "\(from) sent BACnet device \(to) a reinitializeDevice request (\(state)).",
                          details: ["state": .string(state)])
        case BACnetServiceDetails.confirmedDeviceCommunicationControl:
            guard let value = details.enableDisable, value != 0 else { return }
            let state = BACnetNames.enableDisable(value) ?? "value \(value)"
            let duration = details.durationMinutes.map { "for \($0) minutes" } ?? "with no time limit"
            context.alert(BACnetCatalogue.deviceCommunicationControl,
                          message: "\(from) sent BACnet device \(to) a deviceCommunicationControl request to \(state) communication \(duration).",
                          details: ["enable_disable": .string(state)])
        case BACnetServiceDetails.confirmedWriteProperty, BACnetServiceDetails.confirmedWritePropertyMultiple:
            guard let object = details.object, let property = details.property else { return }
            let written = WrittenProperty(object: object, property: property)
            guard !writtenProperties.contains(written) else { return }
            if writtenProperties.count < BACnetParser.maxRememberedWrites { writtenProperties.insert(written) }
            let service = serviceName(confirmed: true, choice)
            context.alert(BACnetCatalogue.writeProperty,
                          message: "\(from) wrote \(propertyName(property)) of \(object.description) on BACnet device \(to) (\(service)).",
                          details: ["object": bacnetObjectJSON(object), "property": bacnetPropertyJSON(property)])
        case BACnetServiceDetails.confirmedAtomicWriteFile:
            let file = details.object?.description ?? "a file object"
            context.alert(BACnetCatalogue.atomicWriteFile,
                          message: "\(from) wrote \(file) on BACnet device \(to) (atomicWriteFile).",
                          details: details.object.map { ["object": bacnetObjectJSON($0)] } ?? JSONObject())
        default:
            break
        }
    }

    // MARK: - Events

    private func emitTransaction(request: PendingRequest, response: BACnetMessage?, responsePacket: PacketReference?,
                                 context: ApplicationContext) {
        var record = BACnetParser.record(request.message)
        var packets = [request.packet]
        let choice = request.message.apdu?.serviceChoice ?? 0
        let service = serviceName(confirmed: true, choice)
        let from = sender(request.direction, context)
        let to = receiver(request.direction, context)
        var sentence = "\(from) sent a BACnet \(service)\(targetPhrase(request.message.details)) to \(to)"

        if let response, let header = response.apdu {
            if let packet = responsePacket, packet != request.packet { packets.append(packet) }
            let result = BACnetParser.addResponse(response, header: header, to: &record)
            sentence += "; the device responded with \(result)."
        } else {
            record.set("result", "no response seen")
            sentence += "; no response was seen."
        }
        context.transaction(protocolName: BACnetProtocol.name, record: record,
                            operation: operation(request.message, confirmed: true), packets: packets, message: sentence)
    }

    private func emitStandalone(_ message: BACnetMessage, direction: StreamDirection, context: ApplicationContext) {
        let record = BACnetParser.record(message)
        var sentence = "\(sender(direction, context)) sent a BACnet "
        var operation: Operation?
        if let header = message.apdu {
            switch header.type {
            case 1:
                let choice = header.serviceChoice ?? 0
                sentence += serviceName(confirmed: false, choice) + targetPhrase(message.details)
                operation = self.operation(message, confirmed: false)
            default:
                sentence += BACnetNames.apduType(header.type) ?? "APDU"
                if let invokeID = header.invokeID { sentence += " for invoke id \(invokeID)" }
            }
        }
        sentence += " to \(receiver(direction, context))."
        context.transaction(protocolName: BACnetProtocol.name, record: record, operation: operation,
                            packets: [context.packet], message: sentence)
    }

    private func emitNetworkMessage(_ message: BACnetMessage, direction: StreamDirection, context: ApplicationContext) {
        let record = BACnetParser.record(message)
        let type = message.npdu?.messageType ?? 0
        let name = BACnetNames.networkMessage(type) ?? "network message 0x\(hex(type))"
        context.transaction(protocolName: BACnetProtocol.name, record: record, operation: nil, packets: [context.packet],
                            message: "\(sender(direction, context)) sent a BACnet \(name) to \(receiver(direction, context)).")
    }

    private func emitLinkControl(_ message: BACnetMessage, datagram: UnsafeRawBufferPointer, direction: StreamDirection,
                                 context: ApplicationContext) {
        var record = BACnetParser.record(message)
        // BVLC-Result carries a 2-byte result code and Register-Foreign-Device a 2-byte
        // time-to-live in seconds, both right after the header.
        if let value = datagram.bacnetUInt16(BVLCHeader.length) {
            if message.bvlcFunction == 0x00 {
                record.set("bvlc_result", .string(BACnetNames.bvlcResult(value) ?? "result 0x\(String(value, radix: 16))"))
            } else if message.bvlcFunction == 0x05 {
                record.set("time_to_live", .int(value))
            }
        }
        let name = BACnetNames.bvlcFunction(message.bvlcFunction) ?? "BVLC function"
        context.transaction(protocolName: BACnetProtocol.name, record: record, operation: nil, packets: [context.packet],
                            message: "\(sender(direction, context)) sent a BVLC \(name) to \(receiver(direction, context)).")
    }

    // MARK: - Helpers

    private func operation(_ message: BACnetMessage, confirmed: Bool) -> Operation? {
        guard let choice = message.apdu?.serviceChoice else { return nil }
        let service = confirmed ? BACnetNames.confirmedService(choice) : BACnetNames.unconfirmedService(choice)
        guard let service else { return nil }
        let details = message.details
        var start = details.object.map { Int($0.instance) }
        var end = start
        if let low = details.lowLimit, let high = details.highLimit {
            start = Int(low)
            end = Int(high)
        }
        return Operation(protocolName: BACnetProtocol.name, name: service.operation, operationClass: service.operationClass,
                         code: Int(choice), rangeStart: start, rangeEnd: end)
    }

    private func targetPhrase(_ details: BACnetServiceDetails) -> String {
        var phrase = ""
        if let property = details.property { phrase += " of \(propertyName(property))" }
        if let object = details.object { phrase += (phrase.isEmpty ? " for " : " of ") + object.description }
        if let vendor = details.vendorID { phrase += " (vendor id \(vendor))" }
        if let state = details.reinitializedState { phrase += " (\(BACnetNames.reinitializedState(state) ?? "state \(state)"))" }
        if let value = details.enableDisable { phrase += " (\(BACnetNames.enableDisable(value) ?? "value \(value)"))" }
        if let low = details.lowLimit, let high = details.highLimit { phrase += " for device instances \(low)-\(high)" }
        return phrase
    }

    private func serviceName(confirmed: Bool, _ choice: UInt8) -> String {
        let service = confirmed ? BACnetNames.confirmedService(choice) : BACnetNames.unconfirmedService(choice)
        return service?.name ?? "service \(choice)"
    }

    private func propertyName(_ property: UInt32) -> String {
        BACnetNames.propertyIdentifier(property) ?? "property \(property)"
    }

    private func reportTruncated(_ part: String, _ direction: StreamDirection, _ context: ApplicationContext) {
        context.anomaly(BACnetCatalogue.truncated,
                        message: "\(sender(direction, context)) sent a BACnet \(part) that ends before its fields do.",
                        details: ["part": .string(part)])
    }

    private func pendingKey(_ direction: StreamDirection, _ invokeID: UInt8) -> UInt16 {
        (direction == .toServer ? 0 : 0x100) | UInt16(invokeID)
    }

    private func markSeen(_ direction: StreamDirection) {
        if direction == .toServer { seenToServer = true } else { seenToClient = true }
    }

    private func hasSeen(_ direction: StreamDirection) -> Bool {
        direction == .toServer ? seenToServer : seenToClient
    }

    private func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.srcIP.description : context.flow.destIP.description
    }

    private func receiver(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? context.flow.destIP.description : context.flow.srcIP.description
    }

    private func hex(_ value: UInt8) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return value < 0x10 ? "0" + digits : digits
    }
}
