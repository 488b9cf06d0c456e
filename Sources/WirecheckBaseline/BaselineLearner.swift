import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// Learns a `Baseline` from traffic: assets from packets, conversations from flows, and
/// operations with their addresses and timing from parsed requests. Starting from an existing
/// baseline extends it; review state (`approved`, `note`), allow rules and windows are kept.
public final class BaselineLearner {
    /// Hosts kept; a spoofed-source flood could otherwise grow the baseline without bound.
    public static let maxAssets = 65_536
    /// Conversations kept, for the same reason (a scan creates one per probed port).
    public static let maxConversations = 65_536
    /// Distinct operations kept per conversation; real protocols have a few dozen.
    public static let maxOperationsPerConversation = 1024
    /// Distinct units kept per operation; Modbus has 256 unit ids, DNP3 65 520 addresses.
    public static let maxUnitsPerOperation = 1024
    /// Longer gaps between two requests are outages or capture boundaries, not a polling period.
    public static let maxPollingInterval = 3600.0

    public let baseline: Baseline

    /// Per (conversation, operation) state that lasts only for this run: the last request time
    /// and the counts of the minute in progress.
    final class TimingState {
        var lastRequest: Timestamp?
        var minute: Int64 = 0
        var requestsThisMinute: UInt64 = 0
        var pointsThisMinute: UInt64 = 0
    }

    struct TimingKey: Hashable {
        var conversation: ConversationKey
        var operation: OperationKey
    }

    var timing: [TimingKey: TimingState] = [:]
    /// Index in `baseline.captures` of each capture source of this run, by `PacketReference.source`.
    var captureIndexBySource: [Int] = []
    /// The identified conversation (lowest key) per service without protocol, so an unidentified
    /// flow finds its conversation without a scan over all of them.
    var identifiedByService: [ConversationKey: ConversationKey] = [:]

    public init(baseline: Baseline = Baseline()) {
        self.baseline = baseline
        for key in baseline.conversations.keys where key.appProto != nil { indexService(key) }
    }

    func indexService(_ key: ConversationKey) {
        let service = key.withoutProtocol
        if let existing = identifiedByService[service], existing < key { return }
        identifiedByService[service] = key
    }

    // MARK: Captures

    /// Records a capture file and its SHA-256. Call once per capture source, in the order the
    /// engine numbers sources (`PacketReference.source`), before its packets are observed.
    /// A file learned before (same SHA-256) has its `times_learned` raised instead of a new entry.
    public func addCapture(path: String) throws {
        let digest = try sha256Hex(ofFile: path)
        if let index = baseline.captures.firstIndex(where: { $0.sha256 == digest }) {
            baseline.captures[index].timesLearned &+= 1
            baseline.captures[index].path = path
            captureIndexBySource.append(index)
        } else {
            baseline.captures.append(CaptureRecord(path: path, sha256: digest))
            captureIndexBySource.append(baseline.captures.count - 1)
        }
    }

    // MARK: Packets

    /// Learns the sending host of an IPv4, IPv6 or ARP packet: its MAC address and TTL.
    public func observe(packet: DecodedPacket) {
        recordCapturePacket(packet)
        switch packet.network {
        case .ipv4, .ipv6:
            guard let asset = asset(packet.sourceIP, at: packet.timestamp) else { return }
            asset.observation.record(packet.timestamp)
            if let mac = packet.sourceMAC, !asset.macs.contains(mac) { asset.macs.insert(mac) }
            if !asset.ttls.contains(packet.ttl) { asset.ttls.insert(packet.ttl) }
        case .arp:
            // ARP probes carry sender IP 0.0.0.0; that is no host's address.
            guard let arp = packet.arp, arp.senderIP != 0,
                  let asset = asset(.v4(arp.senderIP), at: packet.timestamp) else { return }
            asset.observation.record(packet.timestamp)
            if !asset.macs.contains(arp.senderMAC) { asset.macs.insert(arp.senderMAC) }
        default:
            return
        }
    }

    func recordCapturePacket(_ packet: DecodedPacket) {
        let source = Int(packet.reference.source)
        guard source < captureIndexBySource.count else { return }
        let index = captureIndexBySource[source]
        baseline.captures[index].packets &+= 1
        let time = packet.timestamp
        if baseline.captures[index].firstPacket.map({ time < $0 }) ?? true { baseline.captures[index].firstPacket = time }
        if baseline.captures[index].lastPacket.map({ time > $0 }) ?? true { baseline.captures[index].lastPacket = time }
    }

    func asset(_ ip: IPAddress, at time: Timestamp) -> AssetEntry? {
        if let existing = baseline.assets[ip] { return existing }
        guard baseline.assets.count < BaselineLearner.maxAssets else {
            baseline.droppedEntries &+= 1
            return nil
        }
        let created = AssetEntry(ip: ip, observation: Observation(at: time))
        baseline.assets[ip] = created
        return created
    }

    // MARK: Operations

    /// Learns one parsed request: the conversation it belongs to, the operation, its unit and
    /// address range, and its timing.
    public func observe(operation: Operation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        let key = ConversationKey(flow: flow, appProto: operation.protocolName)
        guard let conversation = conversation(key, at: timestamp) else { return }
        conversation.observation.record(timestamp)
        let operationKey = OperationKey(operation)
        let entry: OperationEntry
        if let existing = conversation.operations[operationKey] {
            entry = existing
        } else {
            guard conversation.operations.count < BaselineLearner.maxOperationsPerConversation else {
                baseline.droppedEntries &+= 1
                return
            }
            entry = OperationEntry(key: operationKey, operationClass: operation.operationClass, observation: Observation(at: timestamp))
            conversation.operations[operationKey] = entry
        }
        entry.observation.record(timestamp)
        if entry.units[operation.unit] != nil || entry.units.count < BaselineLearner.maxUnitsPerOperation {
            entry.units[operation.unit, default: UnitEntry(unit: operation.unit)]
                .record(start: operation.rangeStart, end: operation.rangeEnd)
        } else {
            baseline.droppedEntries &+= 1
        }
        recordTiming(entry, key: TimingKey(conversation: key, operation: operationKey), operation: operation, at: timestamp)
    }

    func recordTiming(_ entry: OperationEntry, key: TimingKey, operation: Operation, at time: Timestamp) {
        let state: TimingState
        if let existing = timing[key] {
            state = existing
        } else {
            state = TimingState()
            timing[key] = state
        }
        if let last = state.lastRequest {
            let interval = time.interval(since: last)
            if interval >= 0 && interval <= BaselineLearner.maxPollingInterval { entry.timing.intervals.add(interval) }
        }
        state.lastRequest = time
        let minute = UTCTime.floorDivide(time.seconds, 60)
        if minute != state.minute {
            flushMinute(state, into: entry)
            state.minute = minute
        }
        state.requestsThisMinute &+= 1
        state.pointsThisMinute &+= UInt64(operation.pointCount)
    }

    func flushMinute(_ state: TimingState, into entry: OperationEntry) {
        guard state.requestsThisMinute > 0 else { return }
        entry.timing.requestsPerMinute.add(Double(state.requestsThisMinute))
        if state.pointsThisMinute > 0 { entry.timing.pointsPerMinute.add(Double(state.pointsThisMinute)) }
        state.requestsThisMinute = 0
        state.pointsThisMinute = 0
    }

    func conversation(_ key: ConversationKey, at time: Timestamp) -> ConversationEntry? {
        if let existing = baseline.conversations[key] { return existing }
        guard baseline.conversations.count < BaselineLearner.maxConversations else {
            baseline.droppedEntries &+= 1
            return nil
        }
        let created = ConversationEntry(key: key, observation: Observation(at: time))
        baseline.conversations[key] = created
        if key.appProto != nil { indexService(key) }
        return created
    }

    // MARK: Flows

    /// Learns a finished flow as one more flow of its conversation. A flow whose content was
    /// not identified joins a conversation on the same service that was identified, if any.
    ///
    /// NOTE: The flow's originator is taken as the client. For a mid-stream pickup the flow
    /// stage may have guessed the direction, so such a flow can create a reversed conversation.
    public func flowEnded(_ flow: Flow) {
        var key = ConversationKey(flow: flow.context, appProto: flow.appProto)
        if flow.appProto == nil, let identified = identifiedByService[key] {
            key = identified
        }
        guard let conversation = conversation(key, at: flow.firstSeen) else { return }
        conversation.observation.record(flow.firstSeen, times: 0)
        conversation.observation.record(flow.lastSeen, times: 0)
        conversation.flows &+= 1
        if flow.history.hasPrefix("S") { conversation.flowsWithHandshake &+= 1 }
        if flow.isMidstream { conversation.flowsMidstream &+= 1 }
        conversation.packets &+= flow.packetsToServer &+ flow.packetsToClient
        conversation.bytes &+= flow.bytesToServer &+ flow.bytesToClient
    }

    /// Closes the minute in progress of every operation so its count enters the statistics.
    /// Call once at the end of a run, before saving; observing more afterwards is allowed.
    @discardableResult
    public func finish() -> Baseline {
        for (key, state) in timing {
            if let entry = baseline.conversations[key.conversation]?.operations[key.operation] {
                flushMinute(state, into: entry)
            }
        }
        baseline.refreshRoles()
        return baseline
    }
}

extension ConversationKey {
    /// The same client, server, transport and port with no application protocol.
    var withoutProtocol: ConversationKey {
        ConversationKey(client: client, server: server, ipProtocol: ipProtocol, port: port, appProto: nil)
    }
}

extension Operation {
    /// Registers, points or objects the request addresses; 0 when it names no range.
    var pointCount: Int {
        guard let start = rangeStart else { return 0 }
        let end = rangeEnd ?? start
        guard end >= start else { return 1 }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        return overflow ? Int(UInt32.max) : min(span, Int(UInt32.max) - 1) + 1
    }
}
