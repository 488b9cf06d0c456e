import WirecheckCore
import WirecheckDecoding

/// The bidirectional flow table: finds or creates the flow of each packet, tracks TCP state,
/// raises flow anomalies, hands payload to the consumer and ends flows on timeout, eviction or
/// end of input with an EVE `flow` event. Not thread-safe; one table per packet stream.
public final class FlowTable {
    public let configuration: FlowConfiguration
    let sink: EventSink
    weak var consumer: FlowPayloadConsumer?
    public internal(set) var statistics = FlowStatistics()

    var flows: [FlowKey: Flow] = [:]
    /// Heads and tails of one idle list per `FlowTimeoutClass`.
    var listHeads = [Flow?](repeating: nil, count: FlowTimeoutClass.allCases.count)
    var listTails = [Flow?](repeating: nil, count: FlowTimeoutClass.allCases.count)
    let reassemblyBudget: ReassemblyBudget
    /// Times a reassembler released held data early because a per-direction limit or the total
    /// reassembly budget was exhausted.
    public var reassemblyOverruns: Int { reassemblyBudget.overruns }
    /// Time of the first packet of the input, which opens the mid-stream grace window.
    var firstPacketTime: Timestamp?
    /// Time of the first flow-creating packet of each capture source.
    var sourceStartTimes: [UInt16: Timestamp] = [:]
    private var lastNotedSource: UInt16 = 0
    var lastExpirySecond: Int64 = .min
    var flowLimitReported = false

    /// Creates a table that emits anomalies, alerts and flow events to `sink`. The table keeps
    /// only a weak reference to `consumer`, so the caller keeps it alive for the run.
    public init(configuration: FlowConfiguration, sink: EventSink, consumer: FlowPayloadConsumer?) {
        self.configuration = configuration
        self.sink = sink
        self.consumer = consumer
        self.reassemblyBudget = ReassemblyBudget(maxTotalBytes: configuration.reassemblyMaxTotalBytes)
    }

    /// Processes one decoded IPv4 or IPv6 packet with its transport `payload` and returns its flow
    /// and direction. Returns nil when the packet has no flow: it is not IP, it is a fragment not
    /// yet reassembled (the reassembled datagram is processed instead), or it is a TCP, UDP or
    /// ICMP packet whose header was not decoded.
    public func process(_ packet: DecodedPacket, payload: UnsafeRawBufferPointer) -> FlowUpdate? {
        guard packet.network == .ipv4 || packet.network == .ipv6 else { return nil }
        guard !packet.isFragment || packet.isReassembled else { return nil }
        switch packet.ipProtocol {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            guard packet.hasTransport else { return nil }
        default:
            break
        }
        let now = packet.timestamp
        if firstPacketTime == nil { firstPacketTime = now }
        noteSourceStart(packet.reference.source, at: now)
        if now.seconds != lastExpirySecond { expire(now: now) }

        let (key, fromA) = FlowKey.make(packet)
        var flow: Flow
        if let existing = flows[key] {
            flow = existing
            if shouldStartNewConnection(flow, packet: packet) {
                endFlow(flow, reason: .forced, at: now)
                flow = createFlow(key: key, fromA: fromA, packet: packet)
            }
        } else {
            flow = createFlow(key: key, fromA: fromA, packet: packet)
        }
        let toServer = fromA == flow.originatorIsA
        account(packet, payloadCount: payload.count, flow: flow, toServer: toServer)

        switch packet.ipProtocol {
        case IPProtocolNumber.tcp:
            if let tcp = packet.tcp, let connection = flow.tcp {
                let deliver = trackTCP(flow, connection, tcp: tcp, packet: packet, payloadCount: payload.count,
                                       toServer: toServer)
                // Data the peer acknowledges goes to the parsers before this packet's own bytes,
                // so a response is never parsed ahead of its request.
                if tcp.flags.contains(.ack) {
                    releaseAcknowledged(flow, connection, acknowledgement: tcp.acknowledgement, packet: packet,
                                        dataToServer: !toServer)
                }
                if deliver && payload.count > 0 {
                    deliverStream(flow, connection, tcp: tcp, payload: payload, packet: packet, toServer: toServer)
                }
                flow.connState = connection.connState(of: flow)
                let timeoutClass = tcpTimeoutClass(flow, connection)
                if timeoutClass == .tcpClosed && flow.timeoutClass != .tcpClosed {
                    // A closed flow lingers only for a retransmitted FIN or last ACK, which do not
                    // need its delivered history (up to 64 KiB per direction).
                    connection.reassemblerToServer?.releaseHistory()
                    connection.reassemblerToClient?.releaseHistory()
                }
                moveToList(flow, class: timeoutClass)
            }
        case IPProtocolNumber.udp:
            recordUDPHistory(flow, payloadCount: payload.count, toServer: toServer)
            consumer?.datagram(flow, toServer: toServer, payload: payload, packet: packet.reference, timestamp: now)
        default:
            break
        }
        touch(flow)
        return FlowUpdate(flow: flow, toServer: toServer)
    }

    /// Ends every flow idle for longer than its timeout. Cheap when nothing expires: it looks
    /// only at the least recently active flow of each timeout class.
    public func expire(now: Timestamp) {
        lastExpirySecond = now.seconds
        for timeoutClass in FlowTimeoutClass.allCases {
            let timeout = self.timeout(of: timeoutClass)
            while let oldest = listHeads[timeoutClass.rawValue], now.interval(since: oldest.lastSeen) > timeout {
                endFlow(oldest, reason: .timeout, at: oldest.lastSeen.adding(seconds: timeout))
            }
        }
    }

    /// Ends all flows at the end of the input, oldest activity first.
    public func finish(at timestamp: Timestamp) {
        while let oldest = leastRecentlyActiveFlow() {
            endFlow(oldest, reason: .shutdown, at: timestamp)
        }
    }

    /// Returns the flow a packet belongs to without changing anything.
    public func flow(for packet: DecodedPacket) -> Flow? {
        flows[FlowKey.make(packet).key]
    }

    func timeout(of timeoutClass: FlowTimeoutClass) -> Double {
        switch timeoutClass {
        case .tcpEstablished: return configuration.tcpEstablishedTimeout
        case .tcpShort: return configuration.tcpShortTimeout
        case .tcpClosed: return configuration.tcpClosedTimeout
        case .udp: return configuration.udpTimeout
        case .icmp: return configuration.icmpTimeout
        case .other: return configuration.otherTimeout
        }
    }

    /// Returns whether the packet starts a new connection: a SYN on a flow whose connection is
    /// closed, as when a client reuses its source port.
    private func shouldStartNewConnection(_ flow: Flow, packet: DecodedPacket) -> Bool {
        guard let tcp = packet.tcp, let connection = flow.tcp else { return false }
        return tcp.flags.contains(.syn) && !tcp.flags.contains(.ack) && connection.isClosed
    }

    // MARK: - Creation and accounting

    private func createFlow(key: FlowKey, fromA: Bool, packet: DecodedPacket) -> Flow {
        if flows.count >= configuration.maxFlows, configuration.maxFlows > 0 {
            evictOne(for: packet)
        }
        let senderIsOriginator = !FlowTable.senderLooksLikeResponder(packet)
        let originatorIP = senderIsOriginator ? packet.sourceIP : packet.destinationIP
        let responderIP = senderIsOriginator ? packet.destinationIP : packet.sourceIP
        var originatorPort: UInt16 = 0
        var responderPort: UInt16 = 0
        if packet.ipProtocol == IPProtocolNumber.tcp || packet.ipProtocol == IPProtocolNumber.udp {
            originatorPort = senderIsOriginator ? packet.sourcePort : packet.destinationPort
            responderPort = senderIsOriginator ? packet.destinationPort : packet.sourcePort
        }

        let communityID: String
        if packet.ipProtocol == IPProtocolNumber.icmp || packet.ipProtocol == IPProtocolNumber.icmpv6 {
            communityID = CommunityID.compute(sourceIP: packet.sourceIP, destinationIP: packet.destinationIP,
                                              ipProtocol: packet.ipProtocol, sourcePort: UInt16(packet.icmpType),
                                              destinationPort: UInt16(packet.icmpCode))
        } else {
            communityID = CommunityID.compute(sourceIP: originatorIP, destinationIP: responderIP,
                                              ipProtocol: packet.ipProtocol, sourcePort: originatorPort,
                                              destinationPort: responderPort)
        }
        // Cleared to 52 bits so JSON readers that parse numbers as doubles keep the id exact.
        let flowID = max(key.stableHash(with: packet.timestamp) & 0x000F_FFFF_FFFF_FFFF, 1)
        var context = FlowContext(flowID: flowID, communityID: communityID, srcIP: originatorIP,
                                  srcPort: originatorPort, destIP: responderIP, destPort: responderPort,
                                  ipProtocol: packet.ipProtocol, vlans: packet.vlans)
        context.start = packet.timestamp
        let flow = Flow(context: context, firstSeen: packet.timestamp, firstPacket: packet.reference)
        flow.tableKey = key
        flow.originatorIsA = senderIsOriginator == fromA
        if !senderIsOriginator { flow.history = "^" }

        switch packet.ipProtocol {
        case IPProtocolNumber.tcp:
            flow.tcp = TCPConnection()
            flow.timeoutClass = .tcpShort
            statistics.tcpFlows += 1
            let isSyn = packet.tcp.map {
                $0.flags.contains(.syn) && $0.flags.isDisjoint(with: [.ack, .fin, .rst])
            } ?? false
            if !isSyn && isWithinMidstreamGrace(packet) {
                flow.isMidstream = true
                statistics.midstreamPickups += 1
            }
        case IPProtocolNumber.udp:
            flow.timeoutClass = .udp
            statistics.udpFlows += 1
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            flow.timeoutClass = .icmp
            statistics.icmpFlows += 1
        default:
            flow.timeoutClass = .other
            statistics.otherFlows += 1
        }

        flows[key] = flow
        appendToList(flow)
        statistics.flowsCreated += 1
        statistics.activeFlows = flows.count
        statistics.maxActiveFlows = max(statistics.maxActiveFlows, flows.count)
        return flow
    }

    /// Returns whether a flow starting with `packet` began within the grace window after the start of
    /// the packet's own capture source: when several files are merged, each file starts its own
    /// window, because connections were already open when each capture began.
    func isWithinMidstreamGrace(_ packet: DecodedPacket) -> Bool {
        let first = sourceStartTimes[packet.reference.source] ?? packet.timestamp
        return packet.timestamp.interval(since: first) <= configuration.midstreamGrace
    }

    /// Records the first packet time of a capture source. The engine also calls this for packets
    /// that never reach the flow table (ARP, undecodable frames), so the grace window starts at
    /// the capture's first packet. Costs one comparison per packet while the source is unchanged.
    public func noteSourceStart(_ source: UInt16, at time: Timestamp) {
        guard source != lastNotedSource || sourceStartTimes.isEmpty else { return }
        lastNotedSource = source
        if sourceStartTimes[source] == nil { sourceStartTimes[source] = time }
    }

    /// Decides whether the sender of a flow's first packet is the responder: the SYN-ACK's sender
    /// for TCP, a server port talking to an ephemeral port, or an ICMP reply's sender.
    static func senderLooksLikeResponder(_ packet: DecodedPacket) -> Bool {
        switch packet.ipProtocol {
        case IPProtocolNumber.tcp:
            // A SYN combined with FIN or RST is no real handshake packet (a crafted scan or
            // fuzzed frame), so it does not decide who opened the connection.
            if let flags = packet.tcp?.flags, flags.contains(.syn), !flags.contains(.fin), !flags.contains(.rst) {
                return flags.contains(.ack)
            }
            return ServicePorts.senderLooksLikeResponder(sourcePort: packet.sourcePort,
                                                         destinationPort: packet.destinationPort)
        case IPProtocolNumber.udp:
            return ServicePorts.isService(packet.sourcePort) && !ServicePorts.isService(packet.destinationPort)
        case IPProtocolNumber.icmp:
            return [0, 14, 16, 18].contains(packet.icmpType)
        case IPProtocolNumber.icmpv6:
            return packet.icmpType == 129
        default:
            return false
        }
    }

    private func account(_ packet: DecodedPacket, payloadCount: Int, flow: Flow, toServer: Bool) {
        flow.lastSeen = max(flow.lastSeen, packet.timestamp)
        let wireBytes = UInt64(max(packet.wireLength, 0))
        let payloadBytes = UInt64(max(payloadCount, 0)) &+ UInt64(max(packet.payloadMissing, 0))
        if toServer {
            flow.packetsToServer &+= 1
            flow.bytesToServer &+= wireBytes
            flow.payloadBytesToServer &+= payloadBytes
            if flow.originatorMAC == nil { flow.originatorMAC = packet.sourceMAC }
        } else {
            flow.packetsToClient &+= 1
            flow.bytesToClient &+= wireBytes
            flow.payloadBytesToClient &+= payloadBytes
            if flow.responderMAC == nil { flow.responderMAC = packet.sourceMAC }
        }
    }

    /// Zeek's UDP history: `D`/`d` for a datagram with payload from each side.
    private func recordUDPHistory(_ flow: Flow, payloadCount: Int, toServer: Bool) {
        if payloadCount > 0 { recordHistory(flow, UInt8(ascii: "D"), toServer: toServer) }
        let originatorSent = flow.packetsToServer > 0
        let responderSent = flow.packetsToClient > 0
        if originatorSent {
            flow.connState = responderSent ? .sf : .s0
        } else {
            flow.connState = responderSent ? .shr : .oth
        }
    }

    /// Appends a repeatable Zeek history letter (`T`, `W`) at its 1st, 10th, 100th, ... occurrence
    /// in a direction, as Zeek's scaled history entries do, so the count's magnitude stays visible.
    func recordScaledHistory(_ flow: Flow, _ letter: UInt8, counter: WritableKeyPath<RepeatedHistoryCounts, UInt32>,
                             toServer: Bool) {
        flow.repeatedHistory[keyPath: counter] &+= 1
        var threshold: UInt32 = 1
        let count = flow.repeatedHistory[keyPath: counter]
        while threshold < count && threshold <= UInt32.max / 10 { threshold *= 10 }
        guard threshold == count else { return }
        flow.history.unicodeScalars.append(Unicode.Scalar(toServer ? letter : letter + 32))
    }

    /// Appends a Zeek history letter, given as an uppercase ASCII byte, once per direction:
    /// uppercase for the originator and lowercase for the responder.
    func recordHistory(_ flow: Flow, _ letter: UInt8, toServer: Bool) {
        guard letter >= UInt8(ascii: "A"), letter <= UInt8(ascii: "Z") else { return }
        let bit: UInt64 = 1 << (UInt64(letter - UInt8(ascii: "A")) + (toServer ? 0 : 32))
        guard flow.historyBits & bit == 0 else { return }
        flow.historyBits |= bit
        flow.history.unicodeScalars.append(Unicode.Scalar(toServer ? letter : letter + 32))
    }
}
