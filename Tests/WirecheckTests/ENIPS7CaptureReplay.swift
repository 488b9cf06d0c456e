import CPcap
import Foundation
import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// A test-only stand-in for the engine: reads a pcap or pcapng file with libpcap, follows
/// Ethernet/IPv4 TCP and UDP flows to one server port set, and hands each direction's in-order
/// payload to a parser. It handles retransmitted and overlapping segments and reports holes as
/// gaps, which is enough for small captures; it is not the product's flow tracker.
final class ENIPS7CaptureReplay {
    struct FlowKey: Hashable {
        var client: UInt32
        var clientPort: UInt16
        var server: UInt32
        var serverPort: UInt16
        var ipProtocol: UInt8
    }

    final class FlowState {
        let parser: ApplicationParser
        let context: ApplicationContext
        var nextSequence: [StreamDirection: UInt32] = [:]
        var buffered: [StreamDirection: [UInt8]] = [:]

        init(parser: ApplicationParser, context: ApplicationContext) {
            self.parser = parser
            self.context = context
        }
    }

    let sink = EventCollector()
    let serverPorts: Set<UInt16>
    let makeParser: (Transport) -> ApplicationParser
    var flows: [FlowKey: FlowState] = [:]
    var flowOrder: [FlowKey] = []

    init(serverPorts: Set<UInt16>, makeParser: @escaping (Transport) -> ApplicationParser) {
        self.serverPorts = serverPorts
        self.makeParser = makeParser
    }

    /// Replays the file; returns nil when libpcap cannot open it.
    func replay(path: String) -> Int? {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline(path, &errorBuffer) else { return nil }
        defer { pcap_close(handle) }
        let linkType = pcap_datalink(handle)
        var number: UInt64 = 0
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while pcap_next_ex(handle, &header, &data) == 1 {
            number += 1
            guard let header, let data else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen))
            let time = Timestamp(seconds: Int64(header.pointee.ts.tv_sec), nanoseconds: Int64(header.pointee.ts.tv_usec) * 1000)
            handleFrame(bytes, linkType: linkType, number: number, time: time)
        }
        for key in flowOrder {
            guard let state = flows[key] else { continue }
            state.parser.close(context: state.context)
        }
        return Int(number)
    }

    private func handleFrame(_ frame: UnsafeRawBufferPointer, linkType: Int32, number: UInt64, time: Timestamp) {
        var offset: Int
        var etherType: UInt16
        switch linkType {
        case DLT_EN10MB:
            guard frame.count >= 14 else { return }
            etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
            offset = 14
            while etherType == 0x8100 || etherType == 0x88A8, frame.count >= offset + 4 {
                etherType = UInt16(frame[offset + 2]) << 8 | UInt16(frame[offset + 3])
                offset += 4
            }
        case 113: // Linux cooked capture (SLL).
            guard frame.count >= 16 else { return }
            etherType = UInt16(frame[14]) << 8 | UInt16(frame[15])
            offset = 16
        default:
            return
        }

        guard etherType == 0x0800, frame.count >= offset + 20, frame[offset] >> 4 == 4 else { return }
        let headerLength = Int(frame[offset] & 0x0F) * 4
        let totalLength = Int(frame[offset + 2]) << 8 | Int(frame[offset + 3])
        let fragment = (Int(frame[offset + 6]) << 8 | Int(frame[offset + 7])) & 0x3FFF
        guard fragment == 0, headerLength >= 20, totalLength >= headerLength, frame.count >= offset + headerLength else { return }
        let end = min(frame.count, offset + totalLength)
        let ipProtocol = frame[offset + 9]
        let source = read32(frame, offset + 12)
        let destination = read32(frame, offset + 16)
        let transport = offset + headerLength

        switch ipProtocol {
        case 6:
            guard end >= transport + 20 else { return }
            let sourcePort = read16(frame, transport)
            let destinationPort = read16(frame, transport + 2)
            let sequence = read32(frame, transport + 4)
            let dataOffset = Int(frame[transport + 12] >> 4) * 4
            let flags = frame[transport + 13]
            guard dataOffset >= 20, transport + dataOffset <= end else { return }
            let payload = UnsafeRawBufferPointer(rebasing: frame[transport + dataOffset ..< end])
            handleTCP(source, sourcePort, destination, destinationPort, sequence: sequence, syn: flags & 0x02 != 0,
                      payload: payload, number: number, time: time)
        case 17:
            guard end >= transport + 8 else { return }
            let sourcePort = read16(frame, transport)
            let destinationPort = read16(frame, transport + 2)
            let payload = UnsafeRawBufferPointer(rebasing: frame[transport + 8 ..< end])
            handleUDP(source, sourcePort, destination, destinationPort, payload: payload, number: number, time: time)
        default:
            return
        }
    }

    private func state(for key: FlowKey, transport: Transport) -> FlowState {
        if let state = flows[key] { return state }
        let flow = FlowContext(flowID: UInt64(flows.count + 1), communityID: "", srcIP: .v4(key.client), srcPort: key.clientPort,
                               destIP: .v4(key.server), destPort: key.serverPort, ipProtocol: key.ipProtocol)
        let context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                         transport: transport, sink: sink)
        let state = FlowState(parser: makeParser(transport), context: context)
        flows[key] = state
        flowOrder.append(key)
        return state
    }

    /// Orients a packet by the server port; packets between two non-server ports are skipped.
    private func orient(_ source: UInt32, _ sourcePort: UInt16, _ destination: UInt32, _ destinationPort: UInt16,
                        ipProtocol: UInt8) -> (FlowKey, StreamDirection)? {
        if serverPorts.contains(destinationPort) {
            return (FlowKey(client: source, clientPort: sourcePort, server: destination, serverPort: destinationPort, ipProtocol: ipProtocol), .toServer)
        }
        if serverPorts.contains(sourcePort) {
            return (FlowKey(client: destination, clientPort: destinationPort, server: source, serverPort: sourcePort, ipProtocol: ipProtocol), .toClient)
        }
        return nil
    }

    private func handleTCP(_ source: UInt32, _ sourcePort: UInt16, _ destination: UInt32, _ destinationPort: UInt16,
                           sequence: UInt32, syn: Bool, payload: UnsafeRawBufferPointer, number: UInt64, time: Timestamp) {
        guard let (key, direction) = orient(source, sourcePort, destination, destinationPort, ipProtocol: 6) else { return }
        let state = state(for: key, transport: .tcp)
        if syn {
            state.nextSequence[direction] = sequence &+ 1
            return
        }
        guard !payload.isEmpty else { return }
        state.context.packet = PacketReference(source: 0, number: number)
        state.context.timestamp = time
        var data = Array(payload)
        if let expected = state.nextSequence[direction] {
            let distance = Int32(bitPattern: sequence &- expected)
            if distance < 0 {
                // Retransmission or overlap: keep only the bytes past what was already delivered.
                let overlap = Int(-distance)
                guard overlap < data.count else { return }
                data.removeFirst(overlap)
            } else if distance > 0 {
                state.parser.gap(direction: direction, length: Int(distance), context: state.context)
                state.buffered[direction] = nil
            }
        }
        state.nextSequence[direction] = sequence &+ UInt32(truncatingIfNeeded: payload.count)
        var pending = (state.buffered[direction] ?? []) + data
        let used = pending.withUnsafeBytes { state.parser.parse($0, direction: direction, context: state.context) }
        pending.removeFirst(min(used, pending.count))
        state.buffered[direction] = pending
    }

    private func handleUDP(_ source: UInt32, _ sourcePort: UInt16, _ destination: UInt32, _ destinationPort: UInt16,
                           payload: UnsafeRawBufferPointer, number: UInt64, time: Timestamp) {
        guard let (key, direction) = orient(source, sourcePort, destination, destinationPort, ipProtocol: 17) else { return }
        let state = state(for: key, transport: .udp)
        state.context.packet = PacketReference(source: 0, number: number)
        state.context.timestamp = time
        _ = state.parser.parse(payload, direction: direction, context: state.context)
    }

    private func read16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    private func read32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(read16(bytes, offset)) << 16 | UInt32(read16(bytes, offset + 2))
    }
}

/// The package root, found from this file's path, for fixtures and the optional shared captures.
enum ReplayPaths {
    static var packageRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    static func fixture(_ relative: String) -> String { packageRoot + "/Tests/Fixtures/" + relative }

    /// `../shared/captures` beside the package root, or the folder named by the environment
    /// variable WIRECHECK_SHARED_CAPTURES for a checkout that lives elsewhere.
    static var sharedCaptures: String {
        if let path = getenv("WIRECHECK_SHARED_CAPTURES") { return String(cString: path) }
        return packageRoot + "/../shared/captures"
    }
}
