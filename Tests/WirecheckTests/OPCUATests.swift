import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Feeds the TCP payload of one OPC UA connection (10.0.0.5:50000 -> 10.0.0.20:4840) to a
/// parser the way the stream layer does: unconsumed bytes are kept and offered again, extended.
private final class OPCUAHarness {
    let sink = EventCollector()
    let parser = OPCUAParser()
    let context: ApplicationContext
    private var pending: [[UInt8]] = [[], []]
    private var number: UInt64 = 0

    init() {
        let flow = FlowContext(flowID: 2, communityID: "1:test", srcIP: .v4(0x0A00_0005), srcPort: 50000,
                               destIP: .v4(0x0A00_0014), destPort: 4840, ipProtocol: IPProtocolNumber.tcp,
                               appProto: "opcua")
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: .tcp, sink: sink)
    }

    func send(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        number += 1
        context.packet = PacketReference(source: 0, number: number)
        let side = direction == .toServer ? 0 : 1
        pending[side] += bytes
        let consumed = pending[side].withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        pending[side].removeFirst(consumed)
    }

    var transactions: [Event] { sink.events.filter { $0.eventType == "opcua" } }
    var anomalies: [Event] { sink.events.filter { $0.eventType == "anomaly" } }
    var alerts: [Event] { sink.events.filter { $0.eventType == "alert" } }

    func record(_ index: Int) -> JSONObject? {
        guard index >= 0, index < transactions.count, case .object(let record)? = transactions[index].body["opcua"] else { return nil }
        return record
    }

    var lastRecord: JSONObject? { record(transactions.count - 1) }
}

private func value(_ record: JSONObject?, _ path: String...) -> JSONValue? {
    var current: JSONValue? = record.map { .object($0) }
    for key in path {
        guard case .object(let object)? = current else { return nil }
        current = object[key]
    }
    return current
}

/// Little-endian field writer for building OPC UA chunks field by field (IEC 62541-6).
private struct UAWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
    mutating func u32(_ value: UInt32) { bytes += (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
    mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
    mutating func string(_ text: String?) {
        guard let text else { return u32(0xFFFF_FFFF) }
        u32(UInt32(text.utf8.count))
        bytes += Array(text.utf8)
    }
    /// Four-byte NodeId form (namespace < 256, id < 65536).
    mutating func fourByteNode(_ namespace: UInt8, _ id: UInt16) {
        u8(0x01)
        u8(namespace)
        u16(id)
    }
    mutating func stringNode(_ namespace: UInt16, _ id: String) {
        u8(0x03)
        u16(namespace)
        string(id)
    }
    mutating func requestHeader(handle: UInt32) {
        bytes += [0x00, 0x00]                  // AuthenticationToken: two-byte NodeId i=0
        zeros(8)                               // Timestamp
        u32(handle)                            // RequestHandle
        u32(0)                                 // ReturnDiagnostics
        string(nil)                            // AuditEntryId
        u32(10000)                             // TimeoutHint
        bytes += [0x00, 0x00, 0x00]            // AdditionalHeader: null ExtensionObject
    }
    mutating func responseHeader(handle: UInt32, status: UInt32) {
        zeros(8)                               // Timestamp
        u32(handle)                            // RequestHandle
        u32(status)                            // ServiceResult
        u8(0x00)                               // ServiceDiagnostics: empty DiagnosticInfo
        u32(0)                                 // StringTable: empty array
        bytes += [0x00, 0x00, 0x00]            // AdditionalHeader
    }
}

private enum UABytes {
    static let nonePolicy = "http://opcfoundation.org/UA/SecurityPolicy#None"
    static let endpoint = "opc.tcp://localhost:4840"

    static func chunk(_ type: String, _ chunkType: Character = "F", _ body: [UInt8]) -> [UInt8] {
        var writer = UAWriter()
        writer.bytes = Array(type.utf8) + [UInt8(ascii: chunkType.unicodeScalars.first!)]
        writer.u32(UInt32(8 + body.count))
        return writer.bytes + body
    }

    // HEL F 56: version 0, buffers 65535, no message or chunk limits, opc.tcp://localhost:4840.
    static let hello: [UInt8] = [
        0x48, 0x45, 0x4C, 0x46, 0x38, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x18, 0x00, 0x00, 0x00,
    ] + Array("opc.tcp://localhost:4840".utf8)

    // ACK F 28: version 0, receive 65535, send 65535, no message or chunk limits.
    static let acknowledge: [UInt8] = [
        0x41, 0x43, 0x4B, 0x46, 0x1C, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    static func openRequest(policy: String = nonePolicy, mode: UInt32 = 1) -> [UInt8] {
        var body = UAWriter()
        body.u32(0)                            // SecureChannelId: 0 requests a new channel
        body.string(policy)
        body.string(nil)                       // SenderCertificate
        body.string(nil)                       // ReceiverCertificateThumbprint
        body.u32(1)                            // SequenceNumber
        body.u32(1)                            // RequestId
        body.fourByteNode(0, 446)              // OpenSecureChannelRequest
        body.requestHeader(handle: 0)
        body.u32(0)                            // ClientProtocolVersion
        body.u32(0)                            // RequestType Issue
        body.u32(mode)                         // SecurityMode
        body.string("")                        // ClientNonce
        body.u32(3_600_000)                    // RequestedLifetime
        return chunk("OPN", "F", body.bytes)
    }

    static let openResponse: [UInt8] = {
        var body = UAWriter()
        body.u32(5)
        body.string(nonePolicy)
        body.string(nil)
        body.string(nil)
        body.u32(1)
        body.u32(1)
        body.fourByteNode(0, 449)              // OpenSecureChannelResponse
        body.responseHeader(handle: 0, status: 0)
        body.u32(0)                            // ServerProtocolVersion
        body.u32(5)                            // SecurityToken.ChannelId
        body.u32(1)                            // SecurityToken.TokenId
        body.zeros(8)                          // SecurityToken.CreatedAt
        body.u32(3_600_000)                    // SecurityToken.RevisedLifetime
        body.string("")                        // ServerNonce
        return chunk("OPN", "F", body.bytes)
    }()

    /// Encrypted OPN: the asymmetric header is clear, the rest is ciphertext.
    static func encryptedOpen(policy: String) -> [UInt8] {
        var body = UAWriter()
        body.u32(0)
        body.string(policy)
        body.u32(10)
        body.bytes += [UInt8](repeating: 0x30, count: 10)
        body.u32(20)
        body.bytes += [UInt8](repeating: 0xAB, count: 20)
        body.bytes += [UInt8](repeating: 0x5A, count: 64)
        return chunk("OPN", "F", body.bytes)
    }

    static func symmetricHeader(_ writer: inout UAWriter, requestID: UInt32) {
        writer.u32(5)                          // SecureChannelId
        writer.u32(1)                          // TokenId
        writer.u32(requestID + 1)              // SequenceNumber
        writer.u32(requestID)                  // RequestId
    }

    static func request(_ typeID: UInt16, requestID: UInt32, chunkType: Character = "F",
                        parameters: (inout UAWriter) -> Void = { _ in }) -> [UInt8] {
        var body = UAWriter()
        symmetricHeader(&body, requestID: requestID)
        body.fourByteNode(0, typeID)
        body.requestHeader(handle: requestID)
        parameters(&body)
        return chunk("MSG", chunkType, body.bytes)
    }

    static func response(_ typeID: UInt16, requestID: UInt32, status: UInt32 = 0) -> [UInt8] {
        var body = UAWriter()
        symmetricHeader(&body, requestID: requestID)
        body.fourByteNode(0, typeID)
        body.responseHeader(handle: requestID, status: status)
        body.u32(0)
        return chunk("MSG", "F", body.bytes)
    }

    static func writeParameters(_ writer: inout UAWriter) {
        writer.u32(1)                          // NodesToWrite: one WriteValue
        writer.stringNode(2, "the.answer")
        writer.u32(13)                         // AttributeId Value
        writer.string(nil)                     // IndexRange
        writer.u8(0x01)                        // DataValue with a Variant
        writer.u8(6)                           // Int32
        writer.u32(42)
    }

    static func callParameters(_ writer: inout UAWriter) {
        writer.u32(1)                          // MethodsToCall: one CallMethodRequest
        writer.fourByteNode(2, 1)              // ObjectId ns=2;i=1
        writer.fourByteNode(2, 7)              // MethodId ns=2;i=7
        writer.u32(0)                          // InputArguments
    }

    static let write = request(673, requestID: 3, parameters: writeParameters)
    static let writeResponse = response(676, requestID: 3)
    static let read = request(631, requestID: 2) { writer in
        writer.zeros(8)                        // MaxAge
        writer.u32(3)                          // TimestampsToReturn Neither
        writer.u32(0)                          // NodesToRead
    }
    static let readResponse = response(634, requestID: 2)
    static let createSession = request(461, requestID: 1) { $0.zeros(16) }
    static let getEndpoints = request(428, requestID: 1) { writer in
        writer.string(endpoint)
        writer.u32(0)
        writer.u32(0)
    }
    static let close: [UInt8] = {
        var body = UAWriter()
        symmetricHeader(&body, requestID: 9)
        body.fourByteNode(0, 452)
        body.requestHeader(handle: 9)
        return chunk("CLO", "F", body.bytes)
    }()
    static let error: [UInt8] = {
        var body = UAWriter()
        body.u32(0x8082_0000)                  // BadTcpInternalError
        body.string("internal error")
        return chunk("ERR", "F", body.bytes)
    }()

    /// A clean session: handshake, open, create session, read, write, close.
    static var session: [([UInt8], StreamDirection)] {
        [(hello, .toServer), (acknowledge, .toClient), (openRequest(), .toServer), (openResponse, .toClient),
         (read, .toServer), (readResponse, .toClient), (write, .toServer), (writeResponse, .toClient),
         (close, .toServer)]
    }
}

@Suite struct OPCUAHeaderTests {
    @Test func helloHeaderFields() {
        UABytes.hello.withUnsafeBytes { bytes in
            let header = OPCUAChunkHeader(bytes)
            #expect(header?.messageType == .hello)
            #expect(header?.chunkType == UInt8(ascii: "F"))
            #expect(header?.size == 56)
            #expect(header?.size == bytes.count)
        }
    }

    @Test func headerCutShort() {
        let bytes: [UInt8] = [0x48, 0x45, 0x4C, 0x46, 0x38]
        bytes.withUnsafeBytes { #expect(OPCUAChunkHeader($0) == nil) }
    }

    @Test func nodeIDForms() {
        let twoByte: [UInt8] = [0x00, 0x55]
        let fourByte: [UInt8] = [0x01, 0x00, 0xA1, 0x02]
        let numeric: [UInt8] = [0x02, 0x03, 0x00, 0x10, 0x27, 0x00, 0x00]
        let string: [UInt8] = [0x03, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63]
        twoByte.withUnsafeBytes { bytes in
            var reader = OPCUAReader(bytes)
            #expect(reader.nodeID()?.numericValue == 0x55)
            #expect(reader.remaining == 0)
        }
        fourByte.withUnsafeBytes { bytes in
            var reader = OPCUAReader(bytes)
            #expect(reader.nodeID()?.numericValue == 673)
        }
        numeric.withUnsafeBytes { bytes in
            var reader = OPCUAReader(bytes)
            let node = reader.nodeID()
            #expect(node?.namespace == 3)
            #expect(node?.numericValue == 10000)
        }
        string.withUnsafeBytes { bytes in
            var reader = OPCUAReader(bytes)
            #expect(reader.nodeID(copyIdentifier: true)?.text == "ns=2;s=abc")
        }
    }

    @Test func nodeIDCutShort() {
        let bytes: [UInt8] = [0x03, 0x02, 0x00, 0x10, 0x00, 0x00, 0x00, 0x61]
        bytes.withUnsafeBytes { raw in
            var reader = OPCUAReader(raw)
            #expect(reader.nodeID() == nil)
            #expect(reader.offset == 0)
        }
    }

    @Test func serviceNames() {
        #expect(OPCUANames.service(461)?.name == "CreateSessionRequest")
        #expect(OPCUANames.service(464)?.name == "CreateSessionResponse")
        #expect(OPCUANames.service(673)?.operation == "write")
        #expect(OPCUANames.service(676)?.isRequest == false)
        #expect(OPCUANames.service(397)?.name == "ServiceFault")
        #expect(OPCUANames.service(1) == nil)
    }

    @Test func statusText() {
        #expect(OPCUANames.statusText(0) == "Good (0x00000000)")
        #expect(OPCUANames.statusText(0x8034_0000) == "BadNodeIdUnknown (0x80340000)")
        #expect(OPCUANames.statusText(0x8FFF_0000) == "0x8FFF0000")
    }
}

@Suite struct OPCUAProbeTests {
    @Test func matchesHello() {
        UABytes.hello.withUnsafeBytes { #expect(OPCUAProtocol.probe($0, direction: .toServer, transport: .tcp) == .match) }
    }

    @Test func waitsForHeader() {
        let bytes: [UInt8] = [0x48, 0x45, 0x4C]
        bytes.withUnsafeBytes { #expect(OPCUAProtocol.probe($0, direction: .toServer, transport: .tcp) == .needMoreData) }
    }

    @Test func rejectsHTTP() {
        let bytes = Array("GET / HTTP/1.1\r\n".utf8)
        bytes.withUnsafeBytes { #expect(OPCUAProtocol.probe($0, direction: .toServer, transport: .tcp) == .noMatch) }
        let start = Array("GE".utf8)
        start.withUnsafeBytes { #expect(OPCUAProtocol.probe($0, direction: .toServer, transport: .tcp) == .noMatch) }
    }

    @Test func rejectsUDP() {
        UABytes.hello.withUnsafeBytes { #expect(OPCUAProtocol.probe($0, direction: .toServer, transport: .udp) == .noMatch) }
    }
}

@Suite struct OPCUAParserTests {
    @Test func helloRecord() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        let record = harness.lastRecord
        #expect(value(record, "message_type") == .string("HEL"))
        #expect(value(record, "chunk") == .string("F"))
        #expect(value(record, "size") == .int(56))
        #expect(value(record, "protocol_version") == .int(0))
        #expect(value(record, "receive_buffer_size") == .int(65535))
        #expect(value(record, "send_buffer_size") == .int(65535))
        #expect(value(record, "max_message_size") == .int(0))
        #expect(value(record, "max_chunk_count") == .int(0))
        #expect(value(record, "endpoint_url") == .wire(Array(UABytes.endpoint.utf8)))
        #expect(harness.transactions.first?.message == "10.0.0.5 sent an OPC UA Hello for opc.tcp://localhost:4840 to 10.0.0.20.")
    }

    @Test func acknowledgeRecord() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.acknowledge, .toClient)
        let record = harness.lastRecord
        #expect(value(record, "message_type") == .string("ACK"))
        #expect(value(record, "receive_buffer_size") == .int(65535))
        #expect(value(record, "size") == .int(28))
    }

    @Test func errorRecord() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.error, .toClient)
        let record = harness.lastRecord
        #expect(value(record, "message_type") == .string("ERR"))
        #expect(value(record, "status") == .string("BadTcpInternalError (0x80820000)"))
        #expect(value(record, "reason") == .wire(Array("internal error".utf8)))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func openSecureChannelNone() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.acknowledge, .toClient)
        harness.send(UABytes.openRequest())
        let request = harness.lastRecord
        #expect(value(request, "message_type") == .string("OPN"))
        #expect(value(request, "secure_channel_id") == .int(0))
        #expect(value(request, "security_policy_uri") == .wire(Array(UABytes.nonePolicy.utf8)))
        #expect(value(request, "security_mode") == .string("None"))
        #expect(value(request, "request_type") == .string("Issue"))
        #expect(value(request, "requested_lifetime") == .int(3_600_000))
        #expect(value(request, "service", "name") == .string("OpenSecureChannelRequest"))
        #expect(value(request, "service", "type_id") == .int(446))
        #expect(value(request, "request_id") == .int(1))
        harness.send(UABytes.openResponse, .toClient)
        let response = harness.lastRecord
        #expect(value(response, "secure_channel_id") == .int(5))
        #expect(value(response, "token_id") == .int(1))
        #expect(value(response, "status") == .string("Good (0x00000000)"))
        #expect(value(response, "revised_lifetime") == .int(3_600_000))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func messageServiceRecord() {
        let harness = OPCUAHarness()
        for (bytes, direction) in UABytes.session.prefix(6) { harness.send(bytes, direction) }
        let request = harness.record(4)
        #expect(value(request, "message_type") == .string("MSG"))
        #expect(value(request, "service", "name") == .string("ReadRequest"))
        #expect(value(request, "service", "type_id") == .int(631))
        #expect(value(request, "request_id") == .int(2))
        #expect(value(request, "secure_channel_id") == .int(5))
        #expect(value(request, "encrypted") == .bool(false))
        #expect(value(request, "security_mode") == .string("None"))
        #expect(value(harness.transactions[4].body, "operation", "name") == .string("read"))
        let response = harness.record(5)
        #expect(value(response, "service", "name") == .string("ReadResponse"))
        #expect(value(response, "status") == .string("Good (0x00000000)"))
        #expect(harness.transactions[4].message == "10.0.0.5 sent an OPC UA ReadRequest (request id 2) to 10.0.0.20.")
    }

    @Test func closeSecureChannel() {
        let harness = OPCUAHarness()
        harness.send(UABytes.close)
        #expect(value(harness.lastRecord, "message_type") == .string("CLO"))
        #expect(value(harness.lastRecord, "service", "name") == .string("CloseSecureChannelRequest"))
    }

    @Test func threeChunksEqualOneChunk() {
        // The same WriteRequest body sent as one F chunk and as C, C, F chunks.
        var body = UAWriter()
        body.fourByteNode(0, 673)
        body.requestHeader(handle: 3)
        UABytes.writeParameters(&body)
        let parts = [Array(body.bytes[0..<10]), Array(body.bytes[10..<30]), Array(body.bytes[30...])]
        var chunks: [[UInt8]] = []
        for (index, part) in parts.enumerated() {
            var writer = UAWriter()
            UABytes.symmetricHeader(&writer, requestID: 3)
            chunks.append(UABytes.chunk("MSG", index == 2 ? "F" : "C", writer.bytes + part))
        }
        let chunked = OPCUAHarness()
        for chunk in chunks { chunked.send(chunk) }
        let single = OPCUAHarness()
        single.send(UABytes.write)

        #expect(chunked.transactions.count == 1)
        #expect(value(chunked.lastRecord, "chunks") == .int(3))
        #expect(value(chunked.lastRecord, "service", "name") == value(single.lastRecord, "service", "name"))
        #expect(value(chunked.lastRecord, "node_id") == .string("ns=2;s=the.answer"))
        #expect(value(chunked.lastRecord, "node_id") == value(single.lastRecord, "node_id"))
        #expect(chunked.transactions.first?.packets.count == 3)
        #expect(chunked.sink.alerts(named: "opcua.write_request").count == 1)
    }

    @Test func segmentSplitsEqualOneDelivery() {
        let stream = UABytes.session.filter { $0.1 == .toServer }.flatMap { $0.0 }
        let whole = OPCUAHarness()
        whole.send(stream)
        let split = OPCUAHarness()
        let cuts = [0, 7, 61, stream.count - 3, stream.count]
        for index in 0..<(cuts.count - 1) { split.send(Array(stream[cuts[index]..<cuts[index + 1]])) }

        #expect(split.transactions.count == whole.transactions.count)
        for index in 0..<whole.transactions.count {
            #expect(split.record(index) == whole.record(index))
        }
        #expect(split.anomalies.isEmpty)
    }

    @Test func cleanSessionHasNoAnomalies() {
        let harness = OPCUAHarness()
        for (bytes, direction) in UABytes.session { harness.send(bytes, direction) }
        harness.parser.close(context: harness.context)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.transactions.count == 9)
    }

    @Test func midStreamPickupParsesServices() {
        let harness = OPCUAHarness()
        harness.send(UABytes.read)
        #expect(harness.anomalies.isEmpty)
        #expect(value(harness.lastRecord, "service", "name") == .string("ReadRequest"))
        #expect(value(harness.lastRecord, "security_mode") == nil)
    }

    @Test func encryptedChannelHidesBody() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.encryptedOpen(policy: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"))
        #expect(value(harness.lastRecord, "security_mode") == .string("unknown (encrypted)"))
        #expect(value(harness.lastRecord, "sender_certificate_length") == .int(10))
        #expect(value(harness.lastRecord, "receiver_thumbprint_length") == .int(20))
        harness.send(UABytes.write)
        #expect(value(harness.lastRecord, "encrypted") == .bool(true))
        #expect(value(harness.lastRecord, "service") == nil)
        #expect(harness.alerts.isEmpty)
        #expect(harness.anomalies.isEmpty)
    }
}

@Suite struct OPCUAMessageKindTests {
    @Test func reverseHelloRecord() {
        var body = UAWriter()
        body.string("urn:wirecheck:server")
        body.string("opc.tcp://10.0.0.20:4840")
        let harness = OPCUAHarness()
        harness.send(UABytes.chunk("RHE", "F", body.bytes), .toClient)
        let record = harness.lastRecord
        #expect(value(record, "message_type") == .string("RHE"))
        #expect(value(record, "server_uri") == .wire(Array("urn:wirecheck:server".utf8)))
        #expect(value(record, "endpoint_url") == .wire(Array("opc.tcp://10.0.0.20:4840".utf8)))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func abortChunkEndsMessage() {
        let first = UABytes.request(673, requestID: 3, chunkType: "C") { writer in
            writer.u32(1)
        }
        var abort = UAWriter()
        UABytes.symmetricHeader(&abort, requestID: 3)
        abort.u32(0x80AB_0000)                 // BadInvalidArgument
        abort.string("cancelled")
        let harness = OPCUAHarness()
        harness.send(first)
        #expect(harness.transactions.isEmpty)
        harness.send(UABytes.chunk("MSG", "A", abort.bytes))
        let record = harness.lastRecord
        #expect(harness.transactions.count == 1)
        #expect(value(record, "chunk") == .string("A"))
        #expect(value(record, "chunks") == .int(2))
        #expect(value(record, "status") == .string("BadInvalidArgument (0x80AB0000)"))
        #expect(value(record, "service", "name") == .string("WriteRequest"))
    }

    @Test func serviceFaultStatus() {
        let harness = OPCUAHarness()
        harness.send(UABytes.response(397, requestID: 4, status: 0x800B_0000), .toClient)
        let record = harness.lastRecord
        #expect(value(record, "service", "name") == .string("ServiceFault"))
        #expect(value(record, "status") == .string("BadServiceUnsupported (0x800B0000)"))
    }

    @Test func responseWithBadStatus() {
        let harness = OPCUAHarness()
        harness.send(UABytes.response(676, requestID: 3, status: 0x803B_0000), .toClient)
        #expect(value(harness.lastRecord, "status") == .string("BadNotWritable (0x803B0000)"))
        #expect(harness.transactions.first?.message == "10.0.0.20 sent an OPC UA WriteResponse (request id 3) to 10.0.0.5 with status BadNotWritable (0x803B0000).")
    }

    @Test func deprecatedBasic256() {
        let harness = OPCUAHarness()
        harness.send(UABytes.encryptedOpen(policy: "http://opcfoundation.org/UA/SecurityPolicy#Basic256"))
        #expect(harness.sink.alerts(named: "opcua.deprecated_security_policy").count == 1)
    }
}

@Suite struct OPCUAAlertTests {
    @Test func securityModeNoneOnSession() {
        let harness = OPCUAHarness()
        for (bytes, direction) in UABytes.session.prefix(5) { harness.send(bytes, direction) }
        let alerts = harness.sink.alerts(named: "opcua.security_mode_none")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 sent an OPC UA ReadRequest to opc.tcp://localhost:4840 over a secure channel with security policy http://opcfoundation.org/UA/SecurityPolicy#None, so it is neither signed nor encrypted.")
        harness.send(UABytes.createSession)
        #expect(harness.sink.alerts(named: "opcua.security_mode_none").count == 1)
    }

    @Test func discoveryOnNoneChannelNoAlert() {
        let harness = OPCUAHarness()
        for (bytes, direction) in UABytes.session.prefix(4) { harness.send(bytes, direction) }
        harness.send(UABytes.getEndpoints)
        harness.send(UABytes.close)
        #expect(harness.alerts.isEmpty)
    }

    @Test func deprecatedPolicy() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.encryptedOpen(policy: "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15"))
        let alerts = harness.sink.alerts(named: "opcua.deprecated_security_policy")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 opened an OPC UA secure channel to opc.tcp://localhost:4840 with deprecated security policy http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15.")
    }

    @Test func currentPolicyNoAlert() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.encryptedOpen(policy: "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss"))
        #expect(harness.alerts.isEmpty)
    }

    @Test func writeAlertOncePerNode() {
        let harness = OPCUAHarness()
        harness.send(UABytes.write)
        harness.send(UABytes.write)
        let alerts = harness.sink.alerts(named: "opcua.write_request")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 wrote ns=2;s=the.answer on OPC UA server 10.0.0.20:4840.")
        #expect(alerts.first?.packets == [PacketReference(source: 0, number: 1)])
        #expect(value(harness.lastRecord, "attribute_id") == .int(13))
        #expect(value(harness.lastRecord, "node_count") == .int(1))
    }

    @Test func callAlert() {
        let harness = OPCUAHarness()
        harness.send(UABytes.request(712, requestID: 4, parameters: UABytes.callParameters))
        let alerts = harness.sink.alerts(named: "opcua.call_request")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 called method ns=2;i=7 on object ns=2;i=1 on OPC UA server 10.0.0.20:4840.")
        #expect(value(harness.lastRecord, "method_id") == .string("ns=2;i=7"))
    }

    @Test func addAndDeleteNodesAlert() {
        let harness = OPCUAHarness()
        harness.send(UABytes.request(488, requestID: 5) { $0.u32(2) })
        harness.send(UABytes.request(500, requestID: 6) { writer in
            writer.u32(1)
            writer.fourByteNode(2, 5)
            writer.u8(1)
        })
        let alerts = harness.sink.alerts(named: "opcua.add_delete_nodes")
        #expect(alerts.count == 2)
        #expect(alerts.first?.message == "10.0.0.5 sent OPC UA server 10.0.0.20:4840 a request to add 2 nodes.")
        #expect(alerts.last?.message == "10.0.0.5 sent OPC UA server 10.0.0.20:4840 a request to delete 1 node.")
    }

    @Test func readNoAlert() {
        let harness = OPCUAHarness()
        harness.send(UABytes.read)
        #expect(harness.alerts.isEmpty)
    }
}

@Suite struct OPCUAAnomalyTests {
    @Test func unknownMessageTypeThenResync() {
        let harness = OPCUAHarness()
        harness.send([0x58, 0x59, 0x5A, 0x46, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04] + UABytes.hello)
        let anomalies = harness.sink.anomalies(named: "applayer.opcua.unknown_message_type")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent an OPC UA chunk with unknown message type XYZ; skipping to the next valid header.")
        #expect(value(harness.lastRecord, "message_type") == .string("HEL"))
    }

    @Test func sizeBelowHeader() {
        let harness = OPCUAHarness()
        harness.send([0x4D, 0x53, 0x47, 0x46, 0x04, 0x00, 0x00, 0x00])
        #expect(harness.sink.anomalies(named: "applayer.opcua.invalid_size").count == 1)
    }

    @Test func sizeAboveLimit() {
        let harness = OPCUAHarness()
        harness.send([0x4D, 0x53, 0x47, 0x46, 0x00, 0x00, 0x00, 0x02])
        let anomalies = harness.sink.anomalies(named: "applayer.opcua.invalid_size")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent an OPC UA MSG chunk declaring 33554432 bytes, outside 8 bytes to 16 MiB; skipping to the next valid header.")
    }

    @Test func helloTooShortForFields() {
        let harness = OPCUAHarness()
        harness.send(UABytes.chunk("HEL", "F", [UInt8](repeating: 0, count: 12)))
        #expect(harness.sink.anomalies(named: "applayer.opcua.invalid_size").count == 1)
    }

    @Test func helloURLPastChunk() {
        var hello = UABytes.hello
        hello[28] = 0x40
        let harness = OPCUAHarness()
        harness.send(hello)
        #expect(harness.sink.anomalies(named: "applayer.opcua.invalid_size").count == 1)
    }

    @Test func chunkAboveNegotiatedBuffer() {
        let harness = OPCUAHarness()
        var acknowledge = UABytes.acknowledge
        acknowledge[12] = 0x40                  // receive buffer 64 bytes
        acknowledge[13] = 0x00
        harness.send(UABytes.hello)
        harness.send(acknowledge, .toClient)
        harness.send(UABytes.write)
        harness.send(UABytes.write)
        let anomalies = harness.sink.anomalies(named: "applayer.opcua.invalid_size")
        #expect(anomalies.count == 1)
        #expect(harness.transactions.count == 4)
    }

    @Test func normalSizesNoAnomaly() {
        let harness = OPCUAHarness()
        for (bytes, direction) in UABytes.session { harness.send(bytes, direction) }
        #expect(harness.sink.anomalies(named: "applayer.opcua.invalid_size").isEmpty)
    }

    @Test func helloWithIntermediateChunk() {
        var hello = UABytes.hello
        hello[3] = UInt8(ascii: "C")
        let harness = OPCUAHarness()
        harness.send(hello)
        #expect(harness.sink.anomalies(named: "applayer.opcua.invalid_chunk_type").count == 1)
    }

    @Test func unknownChunkType() {
        var read = UABytes.read
        read[3] = UInt8(ascii: "X")
        let harness = OPCUAHarness()
        harness.send(read)
        let anomalies = harness.sink.anomalies(named: "applayer.opcua.invalid_chunk_type")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent an OPC UA MSG chunk with invalid chunk type X; only F, C and A are defined.")
    }

    @Test func openBeforeHello() {
        let harness = OPCUAHarness()
        harness.send(UABytes.openRequest())
        #expect(harness.sink.anomalies(named: "applayer.opcua.message_before_hello").count == 1)
    }

    @Test func openAfterHelloIsNormal() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.send(UABytes.openRequest())
        #expect(harness.sink.anomalies(named: "applayer.opcua.message_before_hello").isEmpty)
    }

    @Test func malformedErrorMessage() {
        let harness = OPCUAHarness()
        harness.send(UABytes.chunk("ERR", "F", [0x00, 0x00]), .toClient)
        #expect(harness.sink.anomalies(named: "applayer.opcua.error_message").count == 1)
    }

    @Test func gapThenGarbageIsSilent() {
        let harness = OPCUAHarness()
        harness.send(UABytes.hello)
        harness.parser.gap(direction: .toServer, length: 100, context: harness.context)
        harness.send(Array(UABytes.read[20...]) + UABytes.read)
        #expect(harness.anomalies.isEmpty)
        #expect(value(harness.lastRecord, "service", "name") == .string("ReadRequest"))
    }

    @Test func hostileBytesDoNotCrash() {
        var generator = SeededGenerator(state: 4840)
        let harness = OPCUAHarness()
        let types = ["HEL", "ACK", "ERR", "RHE", "OPN", "MSG", "CLO"]
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<120, using: &generator)
            var body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator), body.count > 12 {
                // Make string lengths small so the parser reaches deeper fields.
                body[4] = UInt8.random(in: 0...8, using: &generator)
                body[5] = 0
                body[6] = 0
                body[7] = 0
            }
            let type = types.randomElement(using: &generator) ?? "MSG"
            let chunkType: Character = ["F", "C", "A"].randomElement(using: &generator) ?? "F"
            harness.send(UABytes.chunk(type, chunkType, body), Bool.random(using: &generator) ? .toServer : .toClient)
        }
        harness.parser.close(context: harness.context)
        #expect(harness.transactions.count > 0)
    }
}

/// SplitMix64, so the hostile-input tests replay the same bytes on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
