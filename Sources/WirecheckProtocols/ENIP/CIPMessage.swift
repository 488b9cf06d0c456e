import WirecheckCore

/// One CIP request or response, with the requests embedded in a Multiple Service Packet or an
/// Unconnected Send.
struct CIPMessage: Equatable {
    /// Service code with the response bit (0x80) cleared.
    var service: UInt8
    var isResponse: Bool
    var path = CIPPath()
    /// Reason the request path is malformed, or nil for a valid path.
    var pathError: String?
    var generalStatus: UInt8?
    var additionalStatus: [UInt16] = []
    /// Requests or responses inside a Multiple Service Packet, or the one request an Unconnected
    /// Send carries.
    var embedded: [CIPMessage] = []
    /// Connection parameters of a Forward Open or Forward Close request or reply.
    var connection: JSONObject?
    /// Reason the embedded list is incomplete, or nil when every embedded message was read.
    var embeddingError: String?

    var serviceName: String { CIPNames.serviceName(service, classID: path.classID) }
}

enum CIPParser {
    /// Nesting allowed for Multiple Service Packets and Unconnected Sends inside each other. Observed
    /// traffic nests at most twice, so the cap only bounds the recursion on hostile input.
    static let maxDepth = 4
    /// Services kept from one Multiple Service Packet; a larger count is recorded but not walked.
    static let maxEmbedded = 64

    /// Parses the CIP message in `start..<end`. Returns nil when not even the service byte fits.
    /// `requestClass` is the class of the paired request, for naming a reply's object-specific service.
    static func parse(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int, depth: Int = 0,
                      requestClass: UInt32? = nil) -> CIPMessage? {
        guard start < end, end <= bytes.count else { return nil }
        let code = bytes[start]
        var message = CIPMessage(service: code & 0x7F, isResponse: code & 0x80 != 0)
        if message.isResponse {
            parseResponse(&message, bytes, start: start, end: end, depth: depth, requestClass: requestClass)
        } else {
            parseRequest(&message, bytes, start: start, end: end, depth: depth)
        }
        return message
    }

    private static func parseRequest(_ message: inout CIPMessage, _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, depth: Int) {
        guard start + 2 <= end else {
            message.pathError = "the request ends before its path size"
            return
        }
        let pathLength = 2 * Int(bytes[start + 1])
        let pathStart = start + 2
        guard pathStart + pathLength <= end else {
            message.pathError = "path size \(pathLength / 2) words runs \(pathStart + pathLength - end) bytes past the end of the request"
            return
        }
        let parsed = EPATH.parse(bytes, start: pathStart, length: pathLength)
        message.path = parsed.path
        message.pathError = parsed.error
        let dataStart = pathStart + pathLength

        switch (message.service, message.path.classID) {
        case (0x0A, _):
            parseMultiple(&message, bytes, start: dataStart, end: end, depth: depth, requests: true)
        case (0x52, 0x06?):
            parseUnconnectedSend(&message, bytes, start: dataStart, end: end, depth: depth)
        case (0x54, 0x06?), (0x5B, 0x06?):
            message.connection = forwardOpenRequest(bytes, start: dataStart, end: end, large: message.service == 0x5B)
        case (0x4E, 0x06?):
            message.connection = forwardCloseRequest(bytes, start: dataStart, end: end)
        default:
            break
        }
    }

    private static func parseResponse(_ message: inout CIPMessage, _ bytes: UnsafeRawBufferPointer, start: Int, end: Int,
                                      depth: Int, requestClass: UInt32?) {
        message.path.classID = requestClass
        // Reply layout: service | 0x80, reserved byte, general status, additional status size (words).
        guard start + 4 <= end else { return }
        message.generalStatus = bytes[start + 2]
        let extraWords = Int(bytes[start + 3])
        var offset = start + 4
        for _ in 0 ..< extraWords {
            guard offset + 2 <= end, let word = ENIPBytes.u16(bytes, offset) else { break }
            message.additionalStatus.append(word)
            offset += 2
        }
        let dataStart = start + 4 + 2 * extraWords
        guard dataStart <= end else { return }
        if message.service == 0x0A {
            parseMultiple(&message, bytes, start: dataStart, end: end, depth: depth, requests: false)
        } else if requestClass == 0x06, message.generalStatus == 0, message.service == 0x54 || message.service == 0x5B {
            message.connection = forwardOpenReply(bytes, start: dataStart, end: end)
        }
    }

    /// Multiple Service Packet data: a service count, one offset per service (from the count
    /// field), then the embedded messages back to back.
    private static func parseMultiple(_ message: inout CIPMessage, _ bytes: UnsafeRawBufferPointer, start: Int, end: Int,
                                      depth: Int, requests: Bool) {
        guard depth < maxDepth else {
            message.embeddingError = "nesting deeper than \(maxDepth) levels is not walked"
            return
        }
        guard start + 2 <= end, let count = ENIPBytes.u16(bytes, start) else {
            if requests || message.generalStatus == 0 { message.embeddingError = "the service count is missing" }
            return
        }
        let walked = min(Int(count), maxEmbedded)
        for index in 0 ..< walked {
            guard let relative = ENIPBytes.u16(bytes, start + 2 + 2 * index), start + 4 + 2 * index <= end else {
                message.embeddingError = "the offset of service \(index + 1) of \(count) is missing"
                return
            }
            let itemStart = start + Int(relative)
            var itemEnd = end
            if index + 1 < Int(count), let next = ENIPBytes.u16(bytes, start + 4 + 2 * index) {
                itemEnd = min(end, start + Int(next))
            }
            guard itemStart >= start + 2 + 2 * Int(count), itemStart < itemEnd,
                  let inner = parse(bytes, start: itemStart, end: itemEnd, depth: depth + 1) else {
                message.embeddingError = "service \(index + 1) of \(count) has offset \(relative), outside the packet"
                return
            }
            message.embedded.append(inner)
        }
        if walked < Int(count) {
            message.embeddingError = "only the first \(maxEmbedded) of \(count) services are walked"
        }
    }

    /// Unconnected Send data: priority/time tick, timeout ticks, embedded message size, the
    /// message, a pad byte when its size is odd, then the route path.
    private static func parseUnconnectedSend(_ message: inout CIPMessage, _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, depth: Int) {
        guard depth < maxDepth else {
            message.embeddingError = "nesting deeper than \(maxDepth) levels is not walked"
            return
        }
        guard let size = ENIPBytes.u16(bytes, start + 2), start + 4 <= end else {
            message.embeddingError = "the embedded message size is missing"
            return
        }
        let innerStart = start + 4
        let innerEnd = innerStart + Int(size)
        guard innerEnd <= end, let inner = parse(bytes, start: innerStart, end: innerEnd, depth: depth + 1) else {
            message.embeddingError = "embedded message size \(size) runs past the end of the request"
            return
        }
        message.embedded = [inner]
    }

    private static func forwardOpenRequest(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int, large: Bool) -> JSONObject? {
        // Fixed part: tick(1) timeout(1) O->T id(4) T->O id(4) serial(2) vendor(2) originator serial(4)
        // multiplier(1) reserved(3) O->T RPI(4) O->T parameters(2 or 4) T->O RPI(4) T->O parameters(2 or 4) trigger(1).
        let parameterSize = large ? 4 : 2
        let fixed = 22 + 2 * (4 + parameterSize) + 1
        guard start + fixed + 1 <= end,
              let originatorToTarget = ENIPBytes.u32(bytes, start + 2), let targetToOriginator = ENIPBytes.u32(bytes, start + 6),
              let serial = ENIPBytes.u16(bytes, start + 10), let vendor = ENIPBytes.u16(bytes, start + 12),
              let originatorSerial = ENIPBytes.u32(bytes, start + 14),
              let originatorRPI = ENIPBytes.u32(bytes, start + 22),
              let targetRPI = ENIPBytes.u32(bytes, start + 26 + parameterSize)
        else { return nil }
        var record: JSONObject = [
            "o_t_connection_id": .int(originatorToTarget),
            "t_o_connection_id": .int(targetToOriginator),
            "connection_serial": .int(serial),
            "vendor_id": .int(vendor),
            "originator_serial": .int(originatorSerial),
            "o_t_rpi_us": .int(originatorRPI),
            "t_o_rpi_us": .int(targetRPI),
        ]
        let pathWords = Int(bytes[start + fixed])
        let path = EPATH.parse(bytes, start: start + fixed + 1, length: min(2 * pathWords, max(0, end - start - fixed - 1)))
        if !path.path.isEmpty { record.set("connection_path", .string(path.path.summary)) }
        return record
    }

    private static func forwardCloseRequest(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> JSONObject? {
        guard start + 10 <= end, let serial = ENIPBytes.u16(bytes, start + 2), let vendor = ENIPBytes.u16(bytes, start + 4),
              let originatorSerial = ENIPBytes.u32(bytes, start + 6) else { return nil }
        return ["connection_serial": .int(serial), "vendor_id": .int(vendor), "originator_serial": .int(originatorSerial)]
    }

    private static func forwardOpenReply(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> JSONObject? {
        guard start + 26 <= end, let originatorToTarget = ENIPBytes.u32(bytes, start), let targetToOriginator = ENIPBytes.u32(bytes, start + 4),
              let serial = ENIPBytes.u16(bytes, start + 8), let originatorAPI = ENIPBytes.u32(bytes, start + 16),
              let targetAPI = ENIPBytes.u32(bytes, start + 20) else { return nil }
        return [
            "o_t_connection_id": .int(originatorToTarget),
            "t_o_connection_id": .int(targetToOriginator),
            "connection_serial": .int(serial),
            "o_t_api_us": .int(originatorAPI),
            "t_o_api_us": .int(targetAPI),
        ]
    }
}

extension CIPMessage {
    /// Builds the EVE `cip` record of a request, completed with the reply's status when there is one.
    func record(reply: CIPMessage? = nil) -> JSONObject {
        var record: JSONObject = [
            "service": .int(service),
            "service_name": .string(serviceName),
        ]
        if let classID = path.classID {
            record.set("class", .int(classID))
            record.set("class_name", .string(CIPNames.objectClassName(classID)))
        }
        if let instance = path.instance { record.set("instance", .int(instance)) }
        if let attribute = path.attribute { record.set("attribute", .int(attribute)) }
        if let member = path.member { record.set("member", .int(member)) }
        if let symbol = path.symbol { record.set("symbol", .wire(symbol)) }
        if let port = path.port { record.set("port", .int(port)) }
        if let connection { record.set("connection", .object(connection)) }
        let status = isResponse ? self : reply
        if let status, let general = status.generalStatus {
            record.set("status", .int(general))
            record.set("status_name", .string(CIPNames.generalStatus(general)))
            if !status.additionalStatus.isEmpty {
                record.set("additional_status", .array(status.additionalStatus.map { .int($0) }))
            }
            if !isResponse, let connection = status.connection { record.set("reply_connection", .object(connection)) }
        }
        if !embedded.isEmpty {
            var replies = reply?.embedded ?? []
            if service == 0x52, path.classID == 0x06, let reply, reply.service != 0x52 {
                // The reply to a successful Unconnected Send is the target's reply to the embedded request.
                replies = [reply]
            }
            let items: [JSONValue] = embedded.enumerated().map { index, inner in
                .object(inner.record(reply: index < replies.count ? replies[index] : nil))
            }
            record.set(service == 0x0A ? "multiple" : "embedded", .array(items))
        }
        return record
    }

    /// Every request this message carries, itself first, then embedded ones depth-first.
    var allRequests: [CIPMessage] {
        var list = [self]
        for inner in embedded { list.append(contentsOf: inner.allRequests) }
        return list
    }
}
