import CPcap
import Foundation
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

/// A test-only replay of a capture's IPv4 TCP payloads through `ApplicationLayer`.
///
/// It parses Ethernet, Linux cooked, IPv4 and TCP by fixed offsets, orders each direction by
/// sequence number only as far as dropping retransmitted bytes and reporting holes as gaps, and
/// ends every flow at the end of the file. It replaces the flow table in tests until the engine
/// wires the full pipeline.
final class CaptureReplay {
    struct FlowKey: Hashable {
        var clientIP: UInt32
        var clientPort: UInt16
        var serverIP: UInt32
        var serverPort: UInt16
    }

    final class ReplayFlow {
        let flow: Flow
        var nextSequence: [StreamDirection: UInt32] = [:]
        init(flow: Flow) { self.flow = flow }
    }

    let collector = EventCollector()
    let layer: ApplicationLayer
    private var flows: [FlowKey: ReplayFlow] = [:]
    private var order: [ReplayFlow] = []

    init() {
        layer = ApplicationLayer(sink: collector)
    }

    /// Replays the file; returns nil with the libpcap error when it cannot be opened.
    func replay(path: String) -> String? {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline(path, &errorBuffer) else { return String(cString: errorBuffer) }
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
            handlePacket(bytes, linkType: linkType, packet: PacketReference(source: 0, number: number), timestamp: time)
        }
        for replayFlow in order { layer.flowEnded(replayFlow.flow, timestamp: replayFlow.flow.lastSeen) }
        return nil
    }

    private func handlePacket(_ bytes: UnsafeRawBufferPointer, linkType: Int32, packet: PacketReference, timestamp: Timestamp) {
        func u16(_ offset: Int) -> Int? { offset + 2 <= bytes.count ? Int(bytes[offset]) << 8 | Int(bytes[offset + 1]) : nil }
        func u32(_ offset: Int) -> UInt32? {
            guard offset + 4 <= bytes.count else { return nil }
            return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        }

        var offset: Int
        var etherType: Int?
        switch linkType {
        case 1:  // Ethernet, with 802.1Q tags skipped
            offset = 14
            etherType = u16(12)
            while etherType == 0x8100 || etherType == 0x88a8 {
                etherType = u16(offset + 2)
                offset += 4
            }
        case 113:  // Linux cooked capture v1
            offset = 16
            etherType = u16(14)
        default:
            return
        }
        guard etherType == 0x0800, offset + 20 <= bytes.count, bytes[offset] >> 4 == 4 else { return }
        let ipHeaderLength = Int(bytes[offset] & 0x0f) * 4
        guard let totalLength = u16(offset + 2), bytes[offset + 9] == IPProtocolNumber.tcp,
              let sourceIP = u32(offset + 12), let destinationIP = u32(offset + 16) else { return }
        let tcp = offset + ipHeaderLength
        guard let sourcePort = u16(tcp), let destinationPort = u16(tcp + 2), let sequence = u32(tcp + 4),
              tcp + 13 < bytes.count else { return }
        let flags = bytes[tcp + 13]
        let tcpHeaderLength = Int(bytes[tcp + 12] >> 4) * 4
        let payloadStart = tcp + tcpHeaderLength
        let payloadEnd = min(offset + totalLength, bytes.count)
        guard payloadStart <= payloadEnd else { return }

        let isSYN = flags & 0x02 != 0
        let isACK = flags & 0x10 != 0
        let forward = FlowKey(clientIP: sourceIP, clientPort: UInt16(sourcePort), serverIP: destinationIP, serverPort: UInt16(destinationPort))
        let backward = FlowKey(clientIP: destinationIP, clientPort: UInt16(destinationPort), serverIP: sourceIP, serverPort: UInt16(sourcePort))
        let replayFlow: ReplayFlow
        let direction: StreamDirection
        if let existing = flows[forward] {
            replayFlow = existing
            direction = .toServer
        } else if let existing = flows[backward] {
            replayFlow = existing
            direction = .toClient
        } else {
            // A SYN-ACK or, without a handshake, the lower port marks the server's side.
            let senderIsServer = (isSYN && isACK) || (!isSYN && sourcePort < destinationPort)
            let key = senderIsServer ? backward : forward
            let context = FlowContext(flowID: UInt64(flows.count + 1), communityID: "", srcIP: .v4(key.clientIP),
                                      srcPort: key.clientPort, destIP: .v4(key.serverIP), destPort: key.serverPort,
                                      ipProtocol: IPProtocolNumber.tcp)
            replayFlow = ReplayFlow(flow: Flow(context: context, firstSeen: timestamp, firstPacket: packet))
            flows[key] = replayFlow
            order.append(replayFlow)
            direction = senderIsServer ? .toClient : .toServer
        }

        if isSYN {
            replayFlow.nextSequence[direction] = sequence &+ 1
            return
        }
        let payloadLength = payloadEnd - payloadStart
        guard payloadLength > 0 else { return }
        let expected = replayFlow.nextSequence[direction] ?? sequence
        let distance = Int(Int32(bitPattern: sequence &- expected))
        var payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadEnd])
        if distance < 0 {
            // A retransmission: keep only the bytes past what was already delivered.
            guard payloadLength + distance > 0 else { return }
            payload = UnsafeRawBufferPointer(rebasing: payload[(-distance)...])
        } else if distance > 0 {
            layer.stream(replayFlow.flow, direction: direction, chunk: .gap(length: distance), timestamp: timestamp)
        }
        replayFlow.nextSequence[direction] = sequence &+ UInt32(truncatingIfNeeded: payloadLength)
        layer.stream(replayFlow.flow, direction: direction, chunk: .data(payload, packet), timestamp: timestamp)
    }

    /// Modbus messages per function code (exceptions counted under their request's code), the
    /// way tshark counts `modbus.func_code`.
    var functionCodeCounts: [Int: Int] {
        var counts: [Int: Int] = [:]
        for event in collector.events where event.eventType == "modbus" {
            guard let record = event.modbusRecord, case .int(let code)? = record["function_code"] else { continue }
            if record["request"] != .null { counts[Int(code), default: 0] += 1 }
            if record["response"] != .null { counts[Int(code), default: 0] += 1 }
        }
        return counts
    }
}
