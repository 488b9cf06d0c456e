import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// Compares traffic with a frozen baseline and emits one alert per deviating entry.
///
/// The detector copies what it needs from the baseline when it is created, so later changes
/// to the `Baseline` object do not affect it. Every alert is raised once per entry (asset, MAC,
/// TTL, conversation, operation, unit) and the set of raised entries is bounded.
public final class BaselineDetector {
    /// Entries remembered as already alerted. Beyond this, new deviations are counted in
    /// `alertsDropped` instead of alerting, so a flood of novel traffic cannot exhaust memory.
    public static let maxAlertedEntries = 65_536
    /// Novelty alerts (new conversation, new protocol or port) per client. A scan from one host
    /// would otherwise raise one per probed port. The last alert states that the rest are not reported.
    public static let maxNoveltyAlertsPerClient = 20
    /// Intervals the detector's polling-period median is taken over.
    public static let periodWindow = 10
    /// Smallest change of a polling period, in seconds, that is reported. Back-to-back requests
    /// a few milliseconds apart jitter with host and network load, and such a change means
    /// nothing for a process, so sub-50 ms differences never raise an alert.
    public static let minimumPeriodChange = 0.05
    /// A conversation is silent after this many learned periods without a request ...
    public static let silencePeriods = 5.0
    /// ... and never sooner than this, so a fast poll does not alert on a short pause.
    public static let minimumSilence = 30.0
    /// Minutes of learned per-minute counts needed before a rate can be exceeded.
    static let minimumLearnedMinutes: UInt64 = 3

    struct KnownAsset {
        var macs: [MACAddress]
        var ttls: (UInt64, UInt64, UInt64, UInt64)
        var packets: UInt64
        var firstSeen: Timestamp
        var lastSeen: Timestamp

        func hasTTL(_ ttl: UInt8) -> Bool {
            let bit = UInt64(1) << UInt64(ttl & 63)
            switch ttl >> 6 {
            case 0: return ttls.0 & bit != 0
            case 1: return ttls.1 & bit != 0
            case 2: return ttls.2 & bit != 0
            default: return ttls.3 & bit != 0
            }
        }
    }

    /// A learned operation and the detector's running state for it.
    final class TrackedOperation {
        let learned: OperationEntry?
        let periodMedian: Double?
        let periodSpread: Double?
        let requestsP95: Double?
        let pointsP95: Double?
        /// Last time of each distinct request, as the learner times them.
        var lastRequests: [RequestSignature: Timestamp] = [:]
        var recentIntervals: [Double] = []
        var nextInterval = 0
        var minute: Int64 = .min
        var requestsThisMinute: UInt64 = 0
        var pointsThisMinute: UInt64 = 0

        init(learned: OperationEntry?) {
            self.learned = learned
            let timing = learned?.timing
            if let timing, timing.isPeriodic {
                periodMedian = timing.periodMedian
                periodSpread = timing.periodSpread
            } else {
                periodMedian = nil
                periodSpread = nil
            }
            let enoughMinutes = (timing?.requestsPerMinute.count ?? 0) >= BaselineDetector.minimumLearnedMinutes
            requestsP95 = enoughMinutes ? timing?.requestsPerMinute.quantile(0.95) : nil
            pointsP95 = enoughMinutes && (timing?.pointsPerMinute.count ?? 0) > 0 ? timing?.pointsPerMinute.quantile(0.95) : nil
            recentIntervals.reserveCapacity(BaselineDetector.periodWindow)
        }
    }

    /// A conversation: learned (with its operations) or first seen during detection.
    final class TrackedConversation {
        let key: ConversationKey
        let learned: ConversationEntry?
        var operations: [OperationKey: TrackedOperation] = [:]
        /// Shortest learned polling period among the operations, if any is periodic.
        let expectedPeriod: Double?
        var lastRequest: Timestamp?
        /// Time of the last packet with payload from the server to the client.
        var lastResponse: Timestamp?
        /// Start of the silence reported by `conversation_silent`: no requests at all ...
        var silentSince: Timestamp?
        /// ... or requests that the server stopped responding to.
        var noResponseSince: Timestamp?
        /// The class of every learned operation is read, session or diagnostic.
        let hasOnlyReads: Bool
        /// The learned TLS values, copied so later changes to the baseline do not affect detection.
        let learnedTLS: [TLSValueKind: TLSValueSet]

        init(key: ConversationKey, learned: ConversationEntry?) {
            self.key = key
            self.learned = learned
            learnedTLS = learned?.tls ?? [:]
            var shortest: Double?
            for (operationKey, entry) in learned?.operations ?? [:] {
                let tracked = TrackedOperation(learned: entry)
                operations[operationKey] = tracked
                if let period = tracked.periodMedian { shortest = min(shortest ?? period, period) }
            }
            expectedPeriod = shortest
            hasOnlyReads = (learned?.operations.values ?? [:].values).allSatisfy {
                [.read, .session, .diagnostic].contains($0.operationClass)
            }
        }
    }

    enum AlertedEntry: Hashable {
        case asset(IPAddress)
        case mac(IPAddress, MACAddress)
        case ttl(IPAddress, UInt8)
        case conversation(ConversationKey)
        case operation(ConversationKey, OperationKey)
        case unit(ConversationKey, OperationKey, Int?)
        case period(ConversationKey, OperationKey)
        case rate(ConversationKey, OperationKey)
        case program(ProgramKey)
        case commandLine(ProgramKey)
        case tls(ConversationKey, TLSValueKind, String)
    }

    public let sink: EventSink
    let assets: [IPAddress: KnownAsset]
    var conversations: [ConversationKey: TrackedConversation] = [:]
    /// Conversations from the baseline. `conversations` adds at most `maxAlertedEntries` unknown ones.
    let learnedConversations: Int
    /// Learned conversations without their protocol, to match flows whose content was not identified.
    let services: Set<ConversationKey>
    /// Learned conversations by service without protocol, to find the conversation of a server's response.
    var conversationsByService: [ConversationKey: TrackedConversation] = [:]
    /// Learned conversation keys per host pair, for `new_protocol_or_port` evidence.
    let pairs: [HostPair: [ConversationKey]]
    var alerted: Set<AlertedEntry> = []
    var noveltyAlertsByClient: [IPAddress: Int] = [:]
    /// Learned programs and the telemetry-gap alert counts.
    let programTracker: ProgramTracker
    /// Deviations not alerted because `maxAlertedEntries` was reached.
    public internal(set) var alertsDropped: UInt64 = 0
    /// Time of the first observation, from which a learned conversation that never shows up counts as silent.
    var detectionStart: Timestamp?
    /// Reused for the polling-period median so the request path does not allocate.
    var scratch: [Double] = []

    public init(baseline: Baseline, sink: EventSink) {
        self.sink = sink
        var assets: [IPAddress: KnownAsset] = [:]
        for (ip, entry) in baseline.assets {
            var known = KnownAsset(macs: entry.macs.sorted(), ttls: (0, 0, 0, 0), packets: entry.observation.count,
                                   firstSeen: entry.observation.firstSeen, lastSeen: entry.observation.lastSeen)
            for ttl in entry.ttls {
                let bit = UInt64(1) << UInt64(ttl & 63)
                switch ttl >> 6 {
                case 0: known.ttls.0 |= bit
                case 1: known.ttls.1 |= bit
                case 2: known.ttls.2 |= bit
                default: known.ttls.3 |= bit
                }
            }
            assets[ip] = known
        }
        self.assets = assets
        var pairs: [HostPair: [ConversationKey]] = [:]
        var services: Set<ConversationKey> = []
        for key in baseline.conversations.keys.sorted() {
            guard let entry = baseline.conversations[key] else { continue }
            let tracked = TrackedConversation(key: key, learned: entry)
            conversations[key] = tracked
            if conversationsByService[key.withoutProtocol] == nil { conversationsByService[key.withoutProtocol] = tracked }
            pairs[HostPair(key.client, key.server), default: []].append(key)
            services.insert(key.withoutProtocol)
        }
        self.pairs = pairs.mapValues { $0.sorted() }
        learnedConversations = baseline.conversations.count
        self.services = services
        programTracker = ProgramTracker(baseline: baseline)
        scratch.reserveCapacity(BaselineDetector.periodWindow)
    }

    func start(at time: Timestamp) {
        guard detectionStart == nil else { return }
        detectionStart = time
        for conversation in conversations.values where conversation.learned != nil {
            conversation.lastRequest = time
            conversation.lastResponse = time
        }
    }

    /// Records that an entry alerted. Returns false when it already had, or when the bound is reached.
    func markAlerted(_ entry: AlertedEntry) -> Bool {
        guard !alerted.contains(entry) else { return false }
        guard alerted.count < BaselineDetector.maxAlertedEntries else {
            alertsDropped &+= 1
            return false
        }
        alerted.insert(entry)
        return true
    }

    // MARK: Packets

    /// Checks the sending host of an IPv4, IPv6 or ARP packet against the learned assets.
    public func observe(packet: DecodedPacket) {
        start(at: packet.timestamp)
        let ip: IPAddress, mac: MACAddress?, ttl: UInt8?
        switch packet.network {
        case .ipv4, .ipv6:
            ip = packet.sourceIP
            mac = packet.sourceMAC
            ttl = packet.ttl
        case .arp:
            guard let arp = packet.arp, arp.senderIP != 0 else { return }
            ip = .v4(arp.senderIP)
            mac = arp.senderMAC
            ttl = nil
        default:
            return
        }
        guard let known = assets[ip] else {
            if markAlerted(.asset(ip)) { emitNewAsset(ip, mac: mac, ttl: ttl, packet: packet) }
            return
        }
        if let mac, !known.macs.contains(mac), markAlerted(.mac(ip, mac)) {
            emitNewMAC(ip, mac: mac, known: known, packet: packet)
        }
        if let ttl, !known.hasTTL(ttl), markAlerted(.ttl(ip, ttl)) {
            emitTTLChange(ip, ttl: ttl, known: known, packet: packet)
        }
        if packet.hasTransport && packet.payloadLength > 0 { recordResponse(packet) }
    }

    /// Records a server's response on a learned conversation. A bare TCP acknowledgement is no response.
    func recordResponse(_ packet: DecodedPacket) {
        let service = ConversationKey(client: packet.destinationIP, server: packet.sourceIP, ipProtocol: packet.ipProtocol,
                                      port: packet.sourcePort, appProto: nil)
        guard let conversation = conversationsByService[service] else { return }
        conversation.lastResponse = packet.timestamp
        if conversation.noResponseSince != nil { emitResponsesResumed(conversation, packet: packet) }
    }

    // MARK: Flows

    /// Checks a finished flow's conversation against the learned ones.
    public func flowEnded(_ flow: Flow) {
        start(at: flow.firstSeen)
        let key = ConversationKey(flow: flow.context, appProto: flow.appProto)
        if isKnown(key) { return }
        // A UDP flow, or a TCP flow whose SYN was seen, shows who initiated it.
        let initiatorIsCertain = flow.isUDP || flow.history.hasPrefix("S")
        checkConversation(key, flow: flow.context, time: flow.firstSeen, packets: [flow.firstPacket],
                          initiatorIsCertain: initiatorIsCertain && !flow.isMidstream)
    }

    func isKnown(_ key: ConversationKey) -> Bool {
        if conversations[key]?.learned != nil { return true }
        return key.appProto == nil && services.contains(key)
    }

    // MARK: Operations

    /// Checks one parsed request: its conversation, operation, unit, range, period and rate.
    public func observe(operation: Operation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        start(at: timestamp)
        let key = ConversationKey(flow: flow, appProto: operation.protocolName)
        guard let conversation = conversations[key], conversation.learned != nil else {
            checkConversation(key, flow: flow, time: timestamp, packets: packets, initiatorIsCertain: false)
            return
        }
        if conversation.silentSince != nil { emitResumed(conversation, flow: flow, time: timestamp, packets: packets) }
        conversation.lastRequest = timestamp

        let operationKey = OperationKey(operation)
        guard let tracked = conversation.operations[operationKey], let learned = tracked.learned else {
            if markAlerted(.operation(key, operationKey)) {
                emitNewOperation(operation, conversation: conversation, flow: flow, time: timestamp, packets: packets)
            }
            return
        }
        checkRange(operation, learned: learned, conversation: conversation, flow: flow, time: timestamp, packets: packets)
        checkPeriod(tracked, operation: operation, conversation: conversation, flow: flow, time: timestamp, packets: packets)
        checkRate(tracked, operation: operation, conversation: conversation, flow: flow, time: timestamp, packets: packets)
    }

    func checkRange(_ operation: Operation, learned: OperationEntry, conversation: TrackedConversation, flow: FlowContext,
                    time: Timestamp, packets: [PacketReference]) {
        guard let unit = learned.units[operation.unit] else {
            if markAlerted(.unit(conversation.key, learned.key, operation.unit)) {
                emitOutOfRange(operation, learned: learned, unit: nil, flow: flow, time: time, packets: packets)
            }
            return
        }
        guard let start = operation.rangeStart, unit.rangeMin != nil else { return }
        let end = max(operation.rangeEnd ?? start, start)
        if !unit.covers(start: start, end: end), markAlerted(.unit(conversation.key, learned.key, operation.unit)) {
            emitOutOfRange(operation, learned: learned, unit: unit, flow: flow, time: time, packets: packets)
        }
    }

    /// Alerts when the median of the last `periodWindow` intervals leaves the learned median
    /// by more than max(3 × MAD, 10 % of the median).
    func checkPeriod(_ tracked: TrackedOperation, operation: Operation, conversation: TrackedConversation,
                     flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let signature = RequestSignature(operation)
        let previous = tracked.lastRequests[signature]
        if previous != nil || tracked.lastRequests.count < BaselineLearner.maxTimedRequestsPerOperation {
            tracked.lastRequests[signature] = time
        }
        guard let learnedMedian = tracked.periodMedian, let learnedSpread = tracked.periodSpread,
              let last = previous else { return }
        let interval = time.interval(since: last)
        guard interval >= 0 && interval <= BaselineLearner.maxPollingInterval else { return }
        let window = BaselineDetector.periodWindow
        if tracked.recentIntervals.count < window {
            tracked.recentIntervals.append(interval)
        } else {
            tracked.recentIntervals[tracked.nextInterval] = interval
        }
        tracked.nextInterval = (tracked.nextInterval + 1) % window
        guard tracked.recentIntervals.count == window else { return }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: tracked.recentIntervals)
        scratch.sort()
        let observedMedian = (scratch[window / 2 - 1] + scratch[window / 2]) / 2
        let tolerance = max(3 * learnedSpread, 0.1 * learnedMedian, BaselineDetector.minimumPeriodChange)
        guard abs(observedMedian - learnedMedian) > tolerance,
              markAlerted(.period(conversation.key, tracked.learned?.key ?? OperationKey(operation))) else { return }
        // The alert fires once about half the window has the new period, when the mean of the two
        // middle values lies between the old and the new period. The middle value on the side of
        // the change is the new period.
        let newPeriod = observedMedian > learnedMedian ? scratch[window / 2] : scratch[window / 2 - 1]
        emitPeriodChanged(operation, conversation: conversation, learnedMedian: learnedMedian, learnedSpread: learnedSpread,
                          observedMedian: newPeriod, flow: flow, time: time, packets: packets)
    }

    /// Alerts when one minute's requests or addressed points exceed max(3 × p95, p95 + 10).
    func checkRate(_ tracked: TrackedOperation, operation: Operation, conversation: TrackedConversation,
                   flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let minute = UTCTime.floorDivide(time.seconds, 60)
        if minute != tracked.minute {
            tracked.minute = minute
            tracked.requestsThisMinute = 0
            tracked.pointsThisMinute = 0
        }
        tracked.requestsThisMinute &+= 1
        tracked.pointsThisMinute &+= UInt64(operation.pointCount)
        let requestsOver = tracked.requestsP95.map { Double(tracked.requestsThisMinute) > BaselineDetector.rateLimit($0) } ?? false
        let pointsOver = tracked.pointsP95.map { Double(tracked.pointsThisMinute) > BaselineDetector.rateLimit($0) } ?? false
        guard requestsOver || pointsOver, let learned = tracked.learned,
              markAlerted(.rate(conversation.key, learned.key)) else { return }
        emitRateExceeded(operation, tracked: tracked, byPoints: !requestsOver, conversation: conversation,
                         flow: flow, time: time, packets: packets)
    }

    static func rateLimit(_ p95: Double) -> Double { max(3 * p95, p95 + 10) }

    // MARK: Silence

    /// Raises `conversation_silent` for each periodic conversation with no request, or no server
    /// response while requests continue, for max(5 learned periods, 30 s). Call it as packet time
    /// advances (once a second is enough).
    public func expire(now: Timestamp) {
        start(at: now)
        for conversation in conversations.values {
            guard conversation.silentSince == nil, let period = conversation.expectedPeriod,
                  let last = conversation.lastRequest else { continue }
            let limit = max(BaselineDetector.silencePeriods * period, BaselineDetector.minimumSilence)
            if now.interval(since: last) > limit {
                conversation.silentSince = last
                if conversation.noResponseSince == nil {
                    emitSilent(conversation, period: period, limit: limit, now: now)
                } else {
                    // Already reported as not responding, and the end of the requests is part of the same outage.
                    conversation.noResponseSince = nil
                }
            } else if conversation.noResponseSince == nil, let answer = conversation.lastResponse,
                      now.interval(since: answer) > limit, last > answer {
                conversation.noResponseSince = answer
                emitNoResponse(conversation, period: period, limit: limit, now: now)
            }
        }
    }

    /// Ends a run: reports conversations that are silent at `time`.
    public func finish(at time: Timestamp) {
        expire(now: time)
    }

    // MARK: Conversations

    func checkConversation(_ key: ConversationKey, flow: FlowContext, time: Timestamp, packets: [PacketReference],
                           initiatorIsCertain: Bool) {
        if conversations[key] == nil && conversations.count < learnedConversations + BaselineDetector.maxAlertedEntries {
            // Remember it so its later requests are not checked against operations it never had.
            conversations[key] = TrackedConversation(key: key, learned: nil)
        }
        guard !isKnown(key), markAlerted(.conversation(key.withoutProtocol)) else { return }
        let sent = noveltyAlertsByClient[key.client, default: 0]
        guard sent < BaselineDetector.maxNoveltyAlertsPerClient else { return }
        if noveltyAlertsByClient.count < BaselineDetector.maxAlertedEntries || noveltyAlertsByClient[key.client] != nil {
            noveltyAlertsByClient[key.client] = sent + 1
        }
        let isLastReported = sent + 1 == BaselineDetector.maxNoveltyAlertsPerClient
        let reversed = pairs[HostPair(key.client, key.server)]?.filter { $0.client == key.server && $0.server == key.client } ?? []
        if initiatorIsCertain, !reversed.isEmpty {
            emitServerInitiates(key, learned: reversed, flow: flow, time: time, packets: packets, isLastReported: isLastReported)
        } else if let known = pairs[HostPair(key.client, key.server)] {
            emitNewProtocolOrPort(key, learned: known, flow: flow, time: time, packets: packets, isLastReported: isLastReported)
        } else {
            emitNewConversation(key, flow: flow, time: time, packets: packets, isLastReported: isLastReported)
        }
    }
}
