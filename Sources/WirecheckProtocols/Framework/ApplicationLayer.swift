import WirecheckCore
import WirecheckFlows

/// The per-flow dispatcher between the flow table and the protocol parsers.
///
/// It identifies each flow by content (every registered probe, then HTTP, TLS and SSH) and checks
/// the identified protocol against the flow's port. It then feeds the flow's bytes to the
/// protocol's parser in order, keeping a message that spans TCP segments until it is complete.
/// Not thread-safe, so one instance serves one flow table.
public final class ApplicationLayer {
    public var statistics: ApplicationStatistics {
        var result = counters
        result.outstandingRequestOverruns = context.outstandingRequestOverruns
        return result
    }
    private var counters = ApplicationStatistics()
    /// TLS record bytes of ended flows, cleartext and encrypted, for the run's encrypted share.
    public private(set) var tlsStatistics = TLSStatistics()
    /// Ended flows that were parsed as TLS.
    public private(set) var tlsFlows: UInt64 = 0

    /// Leading bytes quoted in an unidentified-traffic finding.
    static let sampleBytes = 16

    /// Receives every operation the parsers report, with its flow and time.
    public var operationObserver: ((Operation?, FlowContext, Timestamp, [PacketReference]) -> Void)? {
        didSet { context.operationObserver = operationObserver }
    }

    /// The protocol transactions written as events (`--operations`).
    public var operationLogging: OperationLogging = .all {
        didSet { context.operationLogging = operationLogging }
    }

    private let sink: EventSink
    private let protocols: [ApplicationProtocol.Type]
    private let limits: ApplicationLimits
    private let ports: ICSPortTable
    /// Reused for every parser call, as `ApplicationContext` allows, so the packet path allocates none.
    private let context: ApplicationContext

    public init(sink: EventSink, protocols: [ApplicationProtocol.Type] = ProtocolRegistry.all,
                limits: ApplicationLimits = .init()) {
        self.sink = sink
        self.protocols = protocols
        self.limits = limits
        self.ports = ICSPortTable(protocols: protocols)
        let placeholder = FlowContext(flowID: 0, communityID: "", srcIP: .v4(0), srcPort: 0, destIP: .v4(0),
                                      destPort: 0, ipProtocol: IPProtocolNumber.tcp)
        self.context = ApplicationContext(flow: placeholder, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                          transport: .tcp, sink: sink)
        self.context.maxOutstandingRequests = limits.maxOutstandingRequests
    }

    // MARK: - Entry points

    /// Handles in-order bytes or a gap of one direction of a TCP flow.
    public func stream(_ flow: Flow, direction: StreamDirection, chunk: StreamChunk, timestamp: Timestamp) {
        let state = flowState(flow, transport: .tcp)
        guard !state.isClosed else { return }
        switch chunk {
        case .data(let bytes, let packet):
            guard !bytes.isEmpty else { return }
            state.lastPacket = packet
            if state.protocolName == nil {
                identifyStream(flow, state: state, direction: direction, bytes: bytes, timestamp: timestamp)
            } else if let parser = state.parser {
                deliver(bytes, to: parser, flow: flow, state: state, direction: direction, timestamp: timestamp)
            }
        case .gap(let length):
            handleGap(flow, state: state, direction: direction, length: length, timestamp: timestamp)
        }
    }

    /// Handles one UDP datagram. Each datagram is probed on its own until the flow is identified.
    public func datagram(_ flow: Flow, direction: StreamDirection, payload: UnsafeRawBufferPointer,
                         packet: PacketReference, timestamp: Timestamp) {
        let state = flowState(flow, transport: .udp)
        guard !state.isClosed, !payload.isEmpty else { return }
        state.lastPacket = packet
        state[direction].bytesSeen += payload.count

        if state.protocolName == nil {
            switch runProbes(payload, direction: direction, transport: .udp, flow: flow.context) {
            case .registered(let type):
                identify(flow, state: state, as: type, timestamp: timestamp)
            case .common(let common):
                identify(flow, state: state, asCommon: common, timestamp: timestamp)
                return
            case .needMoreData, .noMatch:
                // A datagram is complete, so a probe that wants more bytes has not matched. The
                // first bytes are kept for the finding's message.
                if state[direction].bytes.isEmpty {
                    state[direction].bytes = Array(payload.prefix(ApplicationLayer.sampleBytes))
                }
                if payload.count >= limits.unidentifiedMinimumBytes {
                    reportUnidentified(flow, state: state, direction: direction, sample: payload, timestamp: timestamp)
                }
                return
            }
        }
        guard let parser = state.parser else { return }
        prepareContext(flow, timestamp: timestamp, packet: packet, transport: .udp)
        _ = parser.parse(payload, direction: state.parserDirection(direction), context: context)
    }

    /// Reports what the flow leaves open: unidentified bytes on an ICS port and, through the
    /// parser's `close`, unanswered requests. Later calls for the flow are ignored.
    public func flowEnded(_ flow: Flow, timestamp: Timestamp) {
        guard let state = flow.application as? FlowApplicationState, !state.isClosed else { return }
        if state.protocolName == nil {
            for direction in [StreamDirection.toServer, .toClient] where state[direction].bytesSeen > 0 {
                let sample = state[direction].bytes
                sample.withUnsafeBytes { reportUnidentified(flow, state: state, direction: direction, sample: $0, timestamp: timestamp) }
            }
        }
        if let parser = state.parser {
            prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: state.transport)
            parser.close(context: context)
            if let tls = parser as? TLSParser {
                tlsStatistics.add(tls.statistics)
                tlsFlows += 1
            }
        }
        state.isClosed = true
        state.parser = nil
        state.toServer = DirectionState()
        state.toClient = DirectionState()
    }

    // MARK: - Identification

    private enum ProbeOutcome {
        case registered(ApplicationProtocol.Type)
        case common(CommonProtocol)
        case needMoreData
        case noMatch
    }

    /// Runs every probe on `bytes`. When several protocols match, the one registered for the
    /// flow's server port wins, then one registered for its client port, which covers a flow
    /// whose orientation was guessed wrongly. So a loose probe cannot take a flow from the port's
    /// own protocol. Without a port match, the first match in registry order wins.
    private func runProbes(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport,
                           flow: FlowContext) -> ProbeOutcome {
        var undecided = false
        var firstMatch: ApplicationProtocol.Type?
        var clientPortMatch: ApplicationProtocol.Type?
        for type in protocols {
            // The side on the protocol's registered port is its server, whichever side opened
            // the flow, so a probe that checks requests and responses gets them the right way round.
            let registered = type.registeredPorts[transport]
            let swapped = registered?.contains(flow.srcPort) == true && registered?.contains(flow.destPort) != true
            switch type.probe(bytes, direction: swapped ? direction.reversed : direction, transport: transport) {
            case .match:
                let ports = registered
                if ports?.contains(flow.destPort) == true { return .registered(type) }
                if clientPortMatch == nil, ports?.contains(flow.srcPort) == true { clientPortMatch = type }
                if firstMatch == nil { firstMatch = type }
            case .needMoreData: undecided = true
            case .noMatch: break
            }
        }
        if let match = clientPortMatch ?? firstMatch { return .registered(match) }
        if transport == .tcp {
            for common in CommonProtocol.allCases {
                switch common.probe(bytes) {
                case .match: return .common(common)
                case .needMoreData: undecided = true
                case .noMatch: break
                }
            }
        }
        return undecided ? .needMoreData : .noMatch
    }

    /// Buffers the first bytes of a direction and probes them until a probe matches or every
    /// probe rejects them.
    private func identifyStream(_ flow: Flow, state: FlowApplicationState, direction: StreamDirection,
                                bytes: UnsafeRawBufferPointer, timestamp: Timestamp) {
        state[direction].bytesSeen += bytes.count
        let room = max(0, limits.probeBufferBytes - state[direction].bytes.count)
        let bufferedCount = min(room, bytes.count)
        if bufferedCount > 0 { state[direction].notePacket(state.lastPacket) }
        state[direction].bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<bufferedCount]))
        state[direction].droppedAfterBuffer += bytes.count - bufferedCount

        if !state[direction].probesRejected {
            let outcome = state[direction].bytes.withUnsafeBytes { runProbes($0, direction: direction, transport: .tcp, flow: flow.context) }
            switch outcome {
            case .registered(let type):
                // The part of this chunk past the probe buffer is still here, so it is parsed
                // rather than reported as lost.
                let tail = UnsafeRawBufferPointer(rebasing: bytes[bufferedCount...])
                state[direction].droppedAfterBuffer -= tail.count
                identify(flow, state: state, as: type, timestamp: timestamp)
                deliverBuffered(flow, state: state, timestamp: timestamp, tail: tail, tailDirection: direction)
                return
            case .common(let common):
                identify(flow, state: state, asCommon: common, timestamp: timestamp)
                state.toServer = DirectionState()
                state.toClient = DirectionState()
                return
            case .needMoreData:
                if state[direction].bytes.count >= limits.probeBufferBytes { state[direction].probesRejected = true }
            case .noMatch:
                state[direction].probesRejected = true
            }
        } else if reprobeChunk(flow, state: state, direction: direction, bytes: bytes, timestamp: timestamp) {
            return
        }
        if state[direction].probesRejected && state[direction].bytesSeen >= limits.unidentifiedMinimumBytes {
            let sample = state[direction].bytes
            sample.withUnsafeBytes { reportUnidentified(flow, state: state, direction: direction, sample: $0, timestamp: timestamp) }
        }
    }

    /// Probes a chunk on its own after the direction's first bytes were rejected: a segment often
    /// starts a message, so a protocol that follows garbage or a mid-message pickup is still found.
    /// On a match the rejected bytes are dropped and the parser starts at this chunk.
    private func reprobeChunk(_ flow: Flow, state: FlowApplicationState, direction: StreamDirection,
                              bytes: UnsafeRawBufferPointer, timestamp: Timestamp) -> Bool {
        guard case .registered(let type) = runProbes(bytes, direction: direction, transport: .tcp, flow: flow.context) else { return false }
        var restarted = DirectionState(bytesSeen: state[direction].bytesSeen)
        restarted.droppedBeforeBuffer = state[direction].droppedBeforeBuffer + state[direction].bytes.count
            + state[direction].droppedAfterBuffer - bytes.count
        restarted.bytes = Array(bytes.prefix(limits.probeBufferBytes))
        restarted.notePacket(state.lastPacket)
        restarted.droppedAfterBuffer = bytes.count - restarted.bytes.count
        state[direction] = restarted
        identify(flow, state: state, as: type, timestamp: timestamp)
        deliverBuffered(flow, state: state, timestamp: timestamp)
        return true
    }

    private func identify(_ flow: Flow, state: FlowApplicationState, as type: ApplicationProtocol.Type, timestamp: Timestamp) {
        let ports = type.registeredPorts[state.transport] ?? []
        state.swapsDirections = !ports.contains(flow.context.destPort) && ports.contains(flow.context.srcPort)
        state.protocolName = type.name
        state.parser = type.makeParser(transport: state.transport)
        flow.appProto = type.name
        counters.flowsByProtocol[type.name, default: 0] += 1
        checkPort(flow, state: state, protocolName: type.name, displayName: type.name, isIndustrial: type.isIndustrial,
                  timestamp: timestamp)
    }

    private func identify(_ flow: Flow, state: FlowApplicationState, asCommon common: CommonProtocol, timestamp: Timestamp) {
        state.protocolName = common.rawValue
        flow.appProto = common.rawValue
        counters.flowsByProtocol[common.rawValue, default: 0] += 1
        checkPort(flow, state: state, protocolName: common.rawValue, displayName: common.displayName, isIndustrial: false,
                  timestamp: timestamp)
    }

    /// Feeds the bytes buffered during identification to the new parser, requests first so that
    /// responses find their requests. `tail` is the rest of the identifying chunk, parsed right
    /// after its direction's buffered bytes.
    private func deliverBuffered(_ flow: Flow, state: FlowApplicationState, timestamp: Timestamp,
                                 tail: UnsafeRawBufferPointer? = nil, tailDirection: StreamDirection = .toServer) {
        guard let parser = state.parser else { return }
        for direction in [StreamDirection.toServer, .toClient] {
            let buffered = state[direction]
            state[direction] = DirectionState(bytesSeen: buffered.bytesSeen)
            prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: .tcp)
            if buffered.droppedBeforeBuffer > 0 {
                parser.gap(direction: state.parserDirection(direction), length: buffered.droppedBeforeBuffer, context: context)
            }
            if !buffered.bytes.isEmpty {
                buffered.bytes.withUnsafeBytes {
                    deliver($0, to: parser, flow: flow, state: state, direction: direction, timestamp: timestamp,
                            chunkPackets: buffered.packets)
                }
            }
            if let tail, direction == tailDirection, !tail.isEmpty {
                deliver(tail, to: parser, flow: flow, state: state, direction: direction, timestamp: timestamp)
            }
            if buffered.droppedAfterBuffer > 0 {
                state[direction].removeAll()
                prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: .tcp)
                parser.gap(direction: state.parserDirection(direction), length: buffered.droppedAfterBuffer, context: context)
            }
        }
    }

    // MARK: - Delivery to the parser

    /// Passes in-order bytes to the parser and keeps what it leaves. Bytes are copied only when a
    /// message spans chunks. `chunkPackets` are the packets that carried `bytes` with their
    /// offsets in it, when that is not just the last packet (bytes buffered during probing).
    private func deliver(_ bytes: UnsafeRawBufferPointer, to parser: ApplicationParser, flow: Flow,
                         state: FlowApplicationState, direction: StreamDirection, timestamp: Timestamp,
                         chunkPackets: [(offset: Int, packet: PacketReference)]? = nil) {
        prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: .tcp)
        let carried = state[direction].bytes.count
        if carried > 0 || chunkPackets != nil {
            // The buffer starts with the leftover of earlier chunks, whose packets come first.
            context.bufferPackets.removeAll(keepingCapacity: true)
            context.bufferPackets.append(contentsOf: state[direction].packets)
            for entry in chunkPackets ?? [(0, state.lastPacket)] {
                context.bufferPackets.append((entry.offset + carried, entry.packet))
            }
        }
        if state[direction].bytes.isEmpty {
            let consumed = clamp(parser.parse(bytes, direction: state.parserDirection(direction), context: context), to: bytes.count)
            if consumed < bytes.count {
                state[direction].bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                state[direction].packets = Self.packets(context.bufferPackets, after: consumed)
            }
        } else {
            // Move the buffer out while the parser reads it, so nothing else can touch it.
            var pending = state[direction].bytes
            state[direction].bytes = []
            pending.append(contentsOf: bytes)
            let consumed = pending.withUnsafeBytes {
                clamp(parser.parse($0, direction: state.parserDirection(direction), context: context), to: $0.count)
            }
            pending.removeFirst(consumed)
            state[direction].bytes = pending
            state[direction].packets = pending.isEmpty ? [] : Self.packets(context.bufferPackets, after: consumed)
        }
        enforceBufferLimits(flow, parser: parser, state: state, direction: direction)
    }

    /// Drops a leftover no parser can finish: one longer than the protocol's largest message (a
    /// parse error) or one past the reassembly limit (an overflow). The parser resynchronises
    /// through `gap`.
    private func enforceBufferLimits(_ flow: Flow, parser: ApplicationParser, state: FlowApplicationState,
                                     direction: StreamDirection) {
        let bufferedCount = state[direction].bytes.count
        let sender = direction == .toServer ? flow.context.srcIP : flow.context.destIP
        let protocolName = state.protocolName ?? "unknown"
        if bufferedCount > parser.maximumMessageSize {
            counters.parseErrors += 1
            if !state.reportedParseError {
                state.reportedParseError = true
                context.anomaly(ApplicationLayerCatalogue.parseError,
                                message: "The \(protocolName) parser could not read \(bufferedCount) buffered bytes from \(sender), more than its \(parser.maximumMessageSize)-byte maximum message size, so they were dropped and parsing resumes at the next message.",
                                details: ["buffered_bytes": .int(bufferedCount), "maximum_message_size": .int(parser.maximumMessageSize)])
            }
        } else if bufferedCount > limits.reassemblyBufferBytes {
            counters.bufferOverruns += 1
            if !state.reportedOverflow {
                state.reportedOverflow = true
                context.anomaly(ApplicationLayerCatalogue.bufferOverflow,
                                message: "A \(protocolName) message from \(sender) grew to \(bufferedCount) bytes, past the \(limits.reassemblyBufferBytes)-byte reassembly limit, so the buffered bytes were dropped and parsing resumes at the next message.",
                                details: ["buffered_bytes": .int(bufferedCount), "limit": .int(limits.reassemblyBufferBytes)])
            }
        } else {
            return
        }
        state[direction].removeAll()
        parser.gap(direction: state.parserDirection(direction), length: bufferedCount, context: context)
    }

    private func handleGap(_ flow: Flow, state: FlowApplicationState, direction: StreamDirection, length: Int,
                           timestamp: Timestamp) {
        if state.protocolName == nil {
            // Probing starts again on the bytes after the gap, which usually begin a new segment.
            let dropped = state[direction].bytes.count
            state[direction].droppedBeforeBuffer += dropped + state[direction].droppedAfterBuffer + max(0, length)
            state[direction].droppedAfterBuffer = 0
            state[direction].removeAll()
            state[direction].probesRejected = false
            return
        }
        guard let parser = state.parser else { return }
        let lost = state[direction].bytes.count + max(0, length)
        state[direction].removeAll()
        prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: state.transport)
        parser.gap(direction: state.parserDirection(direction), length: lost, context: context)
    }

    // MARK: - Port findings

    private func checkPort(_ flow: Flow, state: FlowApplicationState, protocolName: String, displayName: String,
                           isIndustrial: Bool, timestamp: Timestamp) {
        let transport = state.transport
        let port = ports.servicePort(source: flow.context.srcPort, destination: flow.context.destPort, transport: transport)
        let portProtocols = ports.protocols(on: port, transport: transport)
        let transportName = transport == .tcp ? "TCP" : "UDP"
        let hosts = "\(flow.context.srcIP) and \(flow.context.destIP)"
        prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: transport)
        var details: JSONObject = ["port": .int(port), "app_proto": .string(protocolName)]
        if protocolName != TLSProtocol.name {
            reportCleartextOnTLSPort(flow, state: state, what: displayName, timestamp: timestamp)
        }

        if let portProtocols, !portProtocols.contains(protocolName) {
            let expected = portProtocols.sorted().joined(separator: " or ")
            details.set("port_protocol", .string(expected))
            let message = "\(hosts) exchange \(displayName) on \(transportName) port \(port), which is registered for \(expected)."
            context.anomaly(ApplicationLayerCatalogue.protocolPortMismatch, message: message, details: details)
            if isIndustrial {
                context.alert(ApplicationLayerCatalogue.icsProtocolNonstandardPort, message: message, details: details)
            } else {
                context.alert(ApplicationLayerCatalogue.icsPortMisuse, message: message, details: details)
            }
        } else if portProtocols == nil, isIndustrial {
            let message = "\(hosts) exchange \(displayName) on \(transportName) port \(port), which is not a registered \(displayName) port."
            context.anomaly(ApplicationLayerCatalogue.protocolPortMismatch, message: message, details: details)
            context.alert(ApplicationLayerCatalogue.icsProtocolNonstandardPort, message: message, details: details)
        }
    }

    /// Raises `tls.cleartext_on_tls_port` once per flow when a port that should only carry TLS
    /// (HTTPS, OPC UA over TLS, Modbus/TCP Security, MQTT over TLS) carries something else.
    private func reportCleartextOnTLSPort(_ flow: Flow, state: FlowApplicationState, what: String, timestamp: Timestamp) {
        let port = flow.context.destPort
        guard state.transport == .tcp, !state.reportedCleartext, TLSProtocol.cleartextCheckedPorts.contains(port) else { return }
        state.reportedCleartext = true
        prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: .tcp)
        context.alert(TLSCatalogue.cleartextOnTLSPort,
                      message: "\(flow.context.srcIP) and \(flow.context.destIP) exchange \(what) in cleartext on TCP port \(port), which should carry only TLS.",
                      details: ["port": .int(port)])
    }

    private func reportUnidentified(_ flow: Flow, state: FlowApplicationState, direction: StreamDirection,
                                    sample: UnsafeRawBufferPointer, timestamp: Timestamp) {
        guard !state.reportedUnidentified else { return }
        reportCleartextOnTLSPort(flow, state: state, what: "bytes that are not TLS (\(hexPrefix(sample, count: 8)))",
                                 timestamp: timestamp)
        let transport = state.transport
        let port = ports.servicePort(source: flow.context.srcPort, destination: flow.context.destPort, transport: transport)
        guard let portProtocols = ports.protocols(on: port, transport: transport) else { return }
        state.reportedUnidentified = true
        counters.unidentifiedFlowsOnICSPorts += 1

        let sender = direction == .toServer ? flow.context.srcIP : flow.context.destIP
        let expected = portProtocols.sorted().joined(separator: " or ")
        let firstBytes = hexPrefix(sample, count: ApplicationLayer.sampleBytes)
        let transportName = transport == .tcp ? "TCP" : "UDP"
        let seen = state[direction].bytesSeen
        prepareContext(flow, timestamp: timestamp, packet: state.lastPacket, transport: transport)
        context.anomaly(ApplicationLayerCatalogue.unidentifiedOnICSPort,
                        message: "\(sender) sent \(seen) bytes on \(transportName) port \(port), registered for \(expected), that no protocol probe recognised; they begin \(firstBytes).",
                        details: ["port": .int(port), "port_protocol": .string(expected), "bytes_seen": .int(seen),
                                  "first_bytes": .string(firstBytes)])
    }

    // MARK: - Helpers

    private func flowState(_ flow: Flow, transport: Transport) -> FlowApplicationState {
        if let state = flow.application as? FlowApplicationState { return state }
        let state = FlowApplicationState(transport: transport, lastPacket: flow.firstPacket)
        flow.application = state
        return state
    }

    private func prepareContext(_ flow: Flow, timestamp: Timestamp, packet: PacketReference, transport: Transport) {
        let swapped = (flow.application as? FlowApplicationState)?.swapsDirections == true
        context.flow = swapped ? flow.context.reversed : flow.context
        context.timestamp = timestamp
        context.packet = packet
        context.bufferPackets.removeAll(keepingCapacity: true)
        context.bufferPackets.append((0, packet))
        context.transport = transport
        context.isMidstream = flow.isMidstream
    }

    private func clamp(_ consumed: Int, to count: Int) -> Int { min(max(consumed, 0), count) }

    /// Returns the entries of `packets` that carried bytes from `consumed` on, with offsets
    /// counted from there, for the leftover the parser did not consume.
    private static func packets(_ packets: [(offset: Int, packet: PacketReference)],
                                after consumed: Int) -> [(offset: Int, packet: PacketReference)] {
        var kept: [(offset: Int, packet: PacketReference)] = []
        for (index, entry) in packets.enumerated() {
            let end = index + 1 < packets.count ? packets[index + 1].offset : Int.max
            if end > consumed { kept.append((max(0, entry.offset - consumed), entry.packet)) }
        }
        return kept
    }

    private func hexPrefix(_ bytes: UnsafeRawBufferPointer, count: Int) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        for (index, byte) in bytes.prefix(count).enumerated() {
            if index > 0 { text.append(" ") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }
}

/// One direction's bytes buffered by the application layer: the probe buffer before identification,
/// then the unfinished message after it.
struct DirectionState {
    var bytes: [UInt8] = []
    /// The packets that carried `bytes`, in order, each with the offset of its first byte there.
    var packets: [(offset: Int, packet: PacketReference)] = []
    var bytesSeen = 0
    /// Every probe rejected this direction's first bytes, or the probe buffer filled undecided.
    var probesRejected = false
    /// Bytes lost to a gap before the buffered bytes, while the flow was still unidentified.
    var droppedBeforeBuffer = 0
    /// Bytes past the probe buffer that were not kept while the flow was still unidentified.
    var droppedAfterBuffer = 0

    /// Records that `packet` carried the bytes about to be appended to `bytes`.
    mutating func notePacket(_ packet: PacketReference) {
        if packets.last?.packet == packet { return }
        packets.append((bytes.count, packet))
    }

    /// Drops the buffered bytes and their packets.
    mutating func removeAll() {
        bytes.removeAll()
        packets.removeAll()
    }
}

/// Per-flow state of the application layer, stored in `Flow.application`.
final class FlowApplicationState {
    let transport: Transport
    var lastPacket: PacketReference
    /// `app_proto` once identified, including `http`, `tls` and `ssh`, which have no parser here.
    var protocolName: String?
    var parser: ApplicationParser?
    var toServer = DirectionState()
    var toClient = DirectionState()
    var reportedUnidentified = false
    var reportedCleartext = false
    var reportedOverflow = false
    var reportedParseError = false
    var isClosed = false
    /// True when the flow's client port, not its server port, is the protocol's registered
    /// port: the side on the registered port is the protocol's server (a Modbus device that
    /// opened the TCP connection, a mid-stream pickup oriented the wrong way), so the parser
    /// gets each direction and the flow's endpoints reversed.
    var swapsDirections = false

    func parserDirection(_ direction: StreamDirection) -> StreamDirection {
        swapsDirections ? direction.reversed : direction
    }

    init(transport: Transport, lastPacket: PacketReference) {
        self.transport = transport
        self.lastPacket = lastPacket
    }

    /// One direction's state, modified in place so appends do not copy the buffer.
    subscript(direction: StreamDirection) -> DirectionState {
        get { direction == .toServer ? toServer : toClient }
        _modify {
            if direction == .toServer { yield &toServer } else { yield &toClient }
        }
    }
}
