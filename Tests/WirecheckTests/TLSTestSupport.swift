import CPcap
import Foundation
import WirecheckCore
import WirecheckProtocols

/// One TCP payload of a capture, with the direction it travelled in its flow.
struct TLSTestSegment {
    var direction: StreamDirection
    var payload: [UInt8]
    var packet: PacketReference
    var timestamp: Timestamp
    /// Bytes missing from the capture just before this segment (0 when none).
    var gapBefore: Int = 0
}

/// One TCP connection read from a capture: its client-to-server flow and its payloads in
/// capture order, retransmitted bytes removed.
struct TLSTestConnection {
    var flow: FlowContext
    var segments: [TLSTestSegment]
}

/// A test-only reader that pulls TCP payloads out of a capture, so the TLS tests can run the
/// parser on real handshakes without the engine. It reads Ethernet, BSD loopback and raw IP
/// captures with IPv4 or IPv6, and trims retransmissions by sequence number.
enum TLSTestCapture {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/tls")
    static let sharedDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/captures/tls")

    static func fixture(_ name: String) -> [TLSTestConnection] {
        connections(path: fixtureDirectory.appendingPathComponent(name + ".pcap").path)
    }

    static func connections(path: String) -> [TLSTestConnection] {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline(path, &errorBuffer) else { return [] }
        defer { pcap_close(handle) }
        let linkType = pcap_datalink(handle)

        var connections: [TLSTestConnection] = []
        var indexByKey: [String: Int] = [:]
        var nextSequence: [String: UInt32] = [:]
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var number: UInt64 = 0
        while pcap_next_ex(handle, &header, &data) == 1 {
            number += 1
            guard let header, let data else { continue }
            let bytes = Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
            guard let segment = tcpSegment(bytes, linkType: linkType) else { continue }
            let timestamp = Timestamp(seconds: Int64(header.pointee.ts.tv_sec), nanoseconds: Int64(header.pointee.ts.tv_usec) * 1000)
            let forward = "\(segment.source):\(segment.sourcePort)>\(segment.destination):\(segment.destinationPort)"
            let backward = "\(segment.destination):\(segment.destinationPort)>\(segment.source):\(segment.sourcePort)"

            var direction = StreamDirection.toServer
            var index: Int
            if let existing = indexByKey[forward] {
                index = existing
            } else if let existing = indexByKey[backward] {
                index = existing
                direction = .toClient
            } else if segment.isSYN && !segment.isACK || !segment.payload.isEmpty {
                // A SYN starts a connection; without one, the first sender with data is the client.
                let flow = FlowContext(flowID: UInt64(connections.count + 1), communityID: "", srcIP: segment.source,
                                       srcPort: segment.sourcePort, destIP: segment.destination,
                                       destPort: segment.destinationPort, ipProtocol: 6, appProto: "tls")
                connections.append(TLSTestConnection(flow: flow, segments: []))
                index = connections.count - 1
                indexByKey[forward] = index
            } else {
                continue
            }

            let key = "\(index)-\(direction == .toServer ? "c" : "s")"
            if segment.isSYN {
                nextSequence[key] = segment.sequence &+ 1
                continue
            }
            guard !segment.payload.isEmpty else { continue }
            var payload = segment.payload
            var gap = 0
            // A jump of more than a window means a SYN this reader missed or a reused port
            // pair, not lost bytes, so the stream restarts there.
            if let expected = nextSequence[key], abs(Int(Int32(bitPattern: expected &- segment.sequence))) < 1 << 20 {
                let behind = Int32(bitPattern: expected &- segment.sequence)
                if behind >= Int32(payload.count) { continue }
                if behind > 0 { payload.removeFirst(Int(behind)) }
                if behind < 0 { gap = Int(-behind) }
            }
            nextSequence[key] = segment.sequence &+ UInt32(segment.payload.count)
            connections[index].segments.append(TLSTestSegment(direction: direction, payload: payload,
                                                             packet: PacketReference(source: 0, number: number),
                                                             timestamp: timestamp, gapBefore: gap))
        }
        return connections
    }

    struct TCPSegment {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
        var sequence: UInt32
        var isSYN: Bool
        var isACK: Bool
        var payload: [UInt8]
    }

    static func tcpSegment(_ bytes: [UInt8], linkType: Int32) -> TCPSegment? {
        var offset: Int
        switch linkType {
        case 1:
            offset = 14
            guard bytes.count >= 14 else { return nil }
            var etherType = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
            while etherType == 0x8100, bytes.count >= offset + 4 {
                etherType = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
                offset += 4
            }
        case 0, 108: offset = 4
        case 113: offset = 16
        default: offset = 0
        }
        guard bytes.count > offset else { return nil }

        let version = bytes[offset] >> 4
        let source: IPAddress
        let destination: IPAddress
        var tcpOffset: Int
        var end = bytes.count
        if version == 4 {
            guard bytes.count >= offset + 20, bytes[offset + 9] == 6 else { return nil }
            tcpOffset = offset + Int(bytes[offset] & 0x0f) * 4
            end = min(bytes.count, offset + (Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])))
            source = .v4(readU32(bytes, offset + 12))
            destination = .v4(readU32(bytes, offset + 16))
        } else if version == 6 {
            guard bytes.count >= offset + 40, bytes[offset + 6] == 6 else { return nil }
            tcpOffset = offset + 40
            end = min(bytes.count, tcpOffset + (Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5])))
            source = .v6(UInt64(readU32(bytes, offset + 8)) << 32 | UInt64(readU32(bytes, offset + 12)),
                         UInt64(readU32(bytes, offset + 16)) << 32 | UInt64(readU32(bytes, offset + 20)))
            destination = .v6(UInt64(readU32(bytes, offset + 24)) << 32 | UInt64(readU32(bytes, offset + 28)),
                              UInt64(readU32(bytes, offset + 32)) << 32 | UInt64(readU32(bytes, offset + 36)))
        } else {
            return nil
        }

        guard bytes.count >= tcpOffset + 20 else { return nil }
        let dataOffset = tcpOffset + Int(bytes[tcpOffset + 12] >> 4) * 4
        guard dataOffset <= end else { return nil }
        let flags = bytes[tcpOffset + 13]
        return TCPSegment(source: source, destination: destination,
                          sourcePort: UInt16(bytes[tcpOffset]) << 8 | UInt16(bytes[tcpOffset + 1]),
                          destinationPort: UInt16(bytes[tcpOffset + 2]) << 8 | UInt16(bytes[tcpOffset + 3]),
                          sequence: readU32(bytes, tcpOffset + 4), isSYN: flags & 0x02 != 0, isACK: flags & 0x10 != 0,
                          payload: Array(bytes[dataOffset..<end]))
    }

    private static func readU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

/// Runs a TLS parser the way the dispatcher does: in-order bytes per direction, the
/// unconsumed tail offered again with the next data, `close` at the end.
final class TLSTestHarness {
    let sink = EventCollector()
    let parser = TLSParser()
    private var pending: [StreamDirection: [UInt8]] = [.toServer: [], .toClient: []]
    private let context: ApplicationContext

    init(flow: FlowContext) {
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: .tcp, sink: sink)
    }

    /// Feeds one chunk; `chunkSize` splits it further to imitate small segments.
    func feed(_ bytes: [UInt8], direction: StreamDirection, packet: PacketReference, timestamp: Timestamp,
              chunkSize: Int? = nil) {
        context.packet = packet
        context.timestamp = timestamp
        let size = max(1, chunkSize ?? bytes.count)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            pending[direction, default: []].append(contentsOf: bytes[start..<end])
            let buffer = pending[direction] ?? []
            let consumed = buffer.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
            precondition(consumed >= 0 && consumed <= buffer.count, "parse consumed \(consumed) of \(buffer.count) bytes")
            pending[direction] = Array(buffer[consumed...])
            start = end
        }
    }

    /// Reports lost bytes the way the dispatcher does: the partial message is dropped.
    func gap(direction: StreamDirection, length: Int) {
        pending[direction] = []
        parser.gap(direction: direction, length: length, context: context)
    }

    func close() {
        parser.close(context: context)
    }

    /// Parses a whole connection and closes it.
    static func run(_ connection: TLSTestConnection, chunkSize: Int? = nil) -> TLSTestHarness {
        let harness = TLSTestHarness(flow: connection.flow)
        for segment in connection.segments {
            if segment.gapBefore > 0 { harness.gap(direction: segment.direction, length: segment.gapBefore) }
            harness.feed(segment.payload, direction: segment.direction, packet: segment.packet,
                         timestamp: segment.timestamp, chunkSize: chunkSize)
        }
        harness.close()
        return harness
    }

    var tlsEvents: [Event] { sink.events.filter { $0.eventType == "tls" } }

    var record: JSONObject? {
        guard case .object(let record)? = tlsEvents.first?.body["tls"] else { return nil }
        return record
    }

    var alertRules: [String] { sink.events.compactMap(\.alertRule) }
    var anomalyNames: [String] { sink.events.compactMap(\.anomalyName) }

    func string(_ key: String) -> String? {
        switch record?[key] {
        case .string(let text)?: return text
        case .wire(let bytes)?: return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    func object(_ key: String) -> JSONObject? {
        guard case .object(let object)? = record?[key] else { return nil }
        return object
    }
}
