import WirecheckCore
import WirecheckDecoding
import WirecheckProtocols

/// The alert events: each puts the learned evidence (`alert.baseline`) next to what was seen
/// (`alert.seen`) and states both in the message.
extension BaselineDetector {
    func emit(_ definition: AlertDefinition, time: Timestamp, flow: FlowContext? = nil, endpoints: Endpoints? = nil,
              packets: [PacketReference], message: String, severity: Int? = nil, technique: AttackTechnique?? = nil,
              learned: JSONObject, seen: JSONObject, operation: Operation? = nil) {
        var details: JSONObject = ["baseline": .object(learned), "seen": .object(seen)]
        if let operation {
            var object = operation.jsonObject
            object.set("protocol", .string(operation.protocolName))
            details.set("operation", .object(object))
        }
        var event = Event.alert(definition, timestamp: time, flow: flow, endpoints: endpoints, packets: packets,
                                message: message, severity: severity, details: details)
        if let technique, case .object(var alert)? = event.body["alert"] {
            var metadata = JSONObject()
            if let technique {
                metadata.set("mitre_technique_id", .array([.string(technique.id)]))
                metadata.set("mitre_technique_name", .array([.string(technique.name)]))
                metadata.set("mitre_tactic", .array([.string(technique.tactic)]))
            }
            metadata.set("wirecheck_rule", .array([.string(definition.name)]))
            alert.set("metadata", .object(metadata))
            event.body.set("alert", .object(alert))
        }
        sink.emit(event)
    }

    static func endpoints(_ packet: DecodedPacket, sourceIP: IPAddress) -> Endpoints {
        let hasIP = packet.network == .ipv4 || packet.network == .ipv6
        return Endpoints(srcIP: sourceIP, srcPort: packet.hasTransport ? packet.sourcePort : nil,
                         destIP: hasIP ? packet.destinationIP : nil, destPort: packet.hasTransport ? packet.destinationPort : nil,
                         ipProtocol: hasIP ? packet.ipProtocol : nil, srcMAC: packet.sourceMAC, destMAC: packet.destinationMAC)
    }

    static func range(_ operation: Operation) -> String? {
        guard let start = operation.rangeStart else { return nil }
        let end = operation.rangeEnd ?? start
        return end == start ? "address \(start)" : "addresses \(start)-\(end)"
    }

    static func unitText(_ unit: Int?) -> String { unit.map { "unit \($0)" } ?? "no unit" }

    /// "this pair made 600 read_holding_registers requests between 2026-12-04 08:00 and 08:10 UTC, about once a second".
    static func history(of conversation: ConversationEntry?) -> String {
        guard let conversation else { return "this pair has no learned history" }
        let span = "between \(UTCTime.formatMinute(conversation.observation.firstSeen)) and "
            + "\(UTCTime.formatClock(conversation.observation.lastSeen)) UTC"
        guard let busiest = conversation.operations.values.max(by: {
            $0.observation.count != $1.observation.count ? $0.observation.count < $1.observation.count : $0.key > $1.key
        }) else {
            return "this pair had \(conversation.flows) flows on \(conversation.key.service) \(span)"
        }
        var text = "this pair made \(busiest.observation.count) \(busiest.key.name) requests \(span)"
        if busiest.timing.isPeriodic, let period = busiest.timing.periodMedian { text += ", " + DurationText.period(period) }
        return text
    }

    static func conversationObject(_ key: ConversationKey) -> JSONObject {
        ["client": .string(key.client.description), "server": .string(key.server.description),
         "transport": .string(key.transport), "port": .int(key.port),
         "protocol": key.appProto.map { .string($0) } ?? .null]
    }

    // MARK: Assets

    func emitNewAsset(_ ip: IPAddress, mac: MACAddress?, ttl: UInt8?, packet: DecodedPacket) {
        var seen: JSONObject = ["ip": .string(ip.description)]
        if let mac { seen.set("mac", .string(mac.description)) }
        if let ttl { seen.set("ttl", .int(ttl)) }
        let macText = mac.map { " from MAC \($0)" } ?? ""
        emit(BaselineCatalogue.newAsset, time: packet.timestamp, endpoints: BaselineDetector.endpoints(packet, sourceIP: ip),
             packets: [packet.reference],
             message: "\(ip)\(macText) is not in the baseline, which lists \(assets.count) assets",
             learned: ["assets": .int(assets.count)], seen: seen)
    }

    func emitNewMAC(_ ip: IPAddress, mac: MACAddress, known: KnownAsset, packet: DecodedPacket) {
        let learnedMACs = known.macs.map(\.description)
        emit(BaselineCatalogue.newMAC, time: packet.timestamp, endpoints: BaselineDetector.endpoints(packet, sourceIP: ip),
             packets: [packet.reference],
             message: "\(ip) sent from MAC \(mac); the baseline knows it only as "
                + (learnedMACs.isEmpty ? "a host with no MAC address" : learnedMACs.joined(separator: ", "))
                + " (\(known.packets) packets)",
             learned: ["ip": .string(ip.description), "macs": .array(learnedMACs.map { .string($0) }), "packets": .int(known.packets)],
             seen: ["mac": .string(mac.description)])
    }

    func emitTTLChange(_ ip: IPAddress, ttl: UInt8, known: KnownAsset, packet: DecodedPacket) {
        let learnedTTLs = (0...255).map { UInt8($0) }.filter { known.hasTTL($0) }
        let listed = learnedTTLs.map { String($0) }.joined(separator: ", ")
        emit(BaselineCatalogue.ttlChange, time: packet.timestamp, endpoints: BaselineDetector.endpoints(packet, sourceIP: ip),
             packets: [packet.reference],
             message: "\(ip) sent with TTL \(ttl); the baseline saw only TTL \(listed) from it, so its path changed",
             learned: ["ip": .string(ip.description), "ttls": .array(learnedTTLs.map { .int($0) })],
             seen: ["ttl": .int(ttl)])
    }

    // MARK: Conversations

    func noveltySuffix(_ key: ConversationKey, isLastReported: Bool) -> String {
        isLastReported ? "; further new conversations from \(key.client) are not reported individually" : ""
    }

    func emitNewConversation(_ key: ConversationKey, flow: FlowContext, time: Timestamp, packets: [PacketReference],
                             isLastReported: Bool) {
        let clientKnown = assets[key.client] != nil, serverKnown = assets[key.server] != nil
        emit(BaselineCatalogue.newConversation, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) on \(key.service) is a new conversation; these hosts never talked "
                + "in the baseline" + noveltySuffix(key, isLastReported: isLastReported),
             learned: ["client_known": .bool(clientKnown), "server_known": .bool(serverKnown), "pair_conversations": .int(0)],
             seen: BaselineDetector.conversationObject(key))
    }

    func emitNewProtocolOrPort(_ key: ConversationKey, learned: [ConversationKey], flow: FlowContext, time: Timestamp,
                               packets: [PacketReference], isLastReported: Bool) {
        let services = learned.map { "\($0.client) → \($0.server) \($0.service)" }
        emit(BaselineCatalogue.newProtocolOrPort, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) used \(key.service), never seen for this pair; the baseline has only "
                + services.joined(separator: ", ") + noveltySuffix(key, isLastReported: isLastReported),
             learned: ["conversations": .array(learned.map { .object(BaselineDetector.conversationObject($0)) })],
             seen: BaselineDetector.conversationObject(key))
    }

    func emitServerInitiates(_ key: ConversationKey, learned: [ConversationKey], flow: FlowContext, time: Timestamp,
                             packets: [PacketReference], isLastReported: Bool) {
        let first = learned[0]
        emit(BaselineCatalogue.serverInitiates, time: time, flow: flow, packets: packets,
             message: "\(key.client) opened \(key.service) to \(key.server); in the baseline \(key.client) is only the server "
                + "of \(first.client) → \(first.server) \(first.service) and never initiates"
                + noveltySuffix(key, isLastReported: isLastReported),
             learned: ["conversations": .array(learned.map { .object(BaselineDetector.conversationObject($0)) })],
             seen: BaselineDetector.conversationObject(key))
    }

    // MARK: Operations

    /// Severity and technique of a new operation by its class.
    static func newOperationRating(_ operationClass: OperationClass, hasOnlyReads: Bool) -> (Int, AttackTechnique?) {
        switch operationClass {
        case .write: return (hasOnlyReads ? 1 : 2, .modifyParameter)
        case .control: return (hasOnlyReads ? 1 : 2, .unauthorizedCommandMessage)
        case .restart: return (hasOnlyReads ? 1 : 2, .deviceRestartShutdown)
        case .program: return (hasOnlyReads ? 1 : 2, .programDownload)
        case .read: return (3, .pointAndTagIdentification)
        case .diagnostic: return (2, .deviceIdentification)
        case .session, .other: return (3, nil)
        }
    }

    func emitNewOperation(_ operation: Operation, conversation: TrackedConversation, flow: FlowContext, time: Timestamp,
                          packets: [PacketReference]) {
        let key = conversation.key
        let (severity, technique) = BaselineDetector.newOperationRating(operation.operationClass, hasOnlyReads: conversation.hasOnlyReads)
        let where_ = [BaselineDetector.unitText(operation.unit), BaselineDetector.range(operation)].compactMap { $0 }.joined(separator: ", ")
        let learnedOperations = conversation.learned?.sortedOperations ?? []
        emit(BaselineCatalogue.newOperation, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) \(ProtocolNames.display(operation.protocolName)) \(OperationKey(operation)) "
                + "never seen (\(operation.operationClass.rawValue), \(where_)); " + BaselineDetector.history(of: conversation.learned),
             severity: severity, technique: .some(technique),
             learned: ["operations": .array(learnedOperations.map { entry in
                 .object(["name": .string(entry.key.name), "code": .int(entry.key.code),
                          "class": .string(entry.operationClass.rawValue), "count": .int(entry.observation.count)])
             }), "only_reads": .bool(conversation.hasOnlyReads)],
             seen: ["name": .string(operation.name), "code": .int(operation.code), "class": .string(operation.operationClass.rawValue)],
             operation: operation)
    }

    func emitOutOfRange(_ operation: Operation, learned: OperationEntry, unit: UnitEntry?, flow: FlowContext, time: Timestamp,
                        packets: [PacketReference]) {
        let prefix = "\(flow.srcIP) → \(flow.destIP) \(ProtocolNames.display(operation.protocolName)) \(learned.key)"
        let message: String
        var evidence: JSONObject = ["units": .array(learned.sortedUnits.map { entry in
            var object: JSONObject = ["unit": entry.unit.map { .int($0) } ?? .null]
            if let low = entry.rangeMin, let high = entry.rangeMax {
                object.set("range_min", .int(low))
                object.set("range_max", .int(high))
            }
            return .object(object)
        })]
        if let unit, let low = unit.rangeMin, let high = unit.rangeMax {
            let seenRange = BaselineDetector.range(operation) ?? "no address"
            message = "\(prefix) on \(BaselineDetector.unitText(operation.unit)) addressed \(seenRange), outside the learned "
                + "range \(low)-\(high) (\(unit.count) requests)"
            evidence.set("unit", operation.unit.map { .int($0) } ?? .null)
            evidence.set("range_min", .int(low))
            evidence.set("range_max", .int(high))
        } else {
            let learnedUnits = learned.sortedUnits.map { BaselineDetector.unitText($0.unit) }.joined(separator: ", ")
            message = "\(prefix) addressed \(BaselineDetector.unitText(operation.unit)), never seen; the baseline has only \(learnedUnits)"
        }
        var seen: JSONObject = ["unit": operation.unit.map { .int($0) } ?? .null]
        if let start = operation.rangeStart { seen.set("range_start", .int(start)) }
        if let end = operation.rangeEnd { seen.set("range_end", .int(end)) }
        let severity = [.write, .control, .restart, .program].contains(operation.operationClass) ? 1 : 2
        emit(BaselineCatalogue.outOfRange, time: time, flow: flow, packets: packets, message: message, severity: severity,
             learned: evidence, seen: seen, operation: operation)
    }

    // MARK: Timing

    func emitPeriodChanged(_ operation: Operation, conversation: TrackedConversation, learnedMedian: Double, learnedSpread: Double,
                           observedMedian: Double, flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let key = conversation.key
        emit(BaselineCatalogue.pollingPeriodChanged, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) \(ProtocolNames.display(operation.protocolName)) \(operation.name) now repeats "
                + "every \(DurationText.duration(observedMedian)) (median of the last \(BaselineDetector.periodWindow) requests); "
                + "the baseline period is \(DurationText.duration(learnedMedian)) ± \(DurationText.duration(learnedSpread))",
             learned: ["period_median_s": Baseline.seconds(learnedMedian), "period_mad_s": Baseline.seconds(learnedSpread)],
             seen: ["period_median_s": Baseline.seconds(observedMedian), "intervals": .int(BaselineDetector.periodWindow)],
             operation: operation)
    }

    func emitRateExceeded(_ operation: Operation, tracked: TrackedOperation, byPoints: Bool, conversation: TrackedConversation,
                          flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let key = conversation.key
        let p95 = (byPoints ? tracked.pointsP95 : tracked.requestsP95) ?? 0
        let observed = byPoints ? tracked.pointsThisMinute : tracked.requestsThisMinute
        let measureName = byPoints ? "addressed points" : "requests"
        // A write-class burst, or one ten times the learned high percentile, is the most urgent.
        let isWriteClass = [.write, .control, .restart, .program].contains(operation.operationClass)
        let severity = isWriteClass || Double(observed) > 10 * p95 ? 1 : 2
        emit(BaselineCatalogue.rateExceeded, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) \(ProtocolNames.display(operation.protocolName)) \(operation.name): "
                + "\(observed) \(measureName) in the minute from \(UTCTime.formatMinute(Timestamp(seconds: tracked.minute * 60, nanoseconds: 0))) UTC; "
                + "the baseline's 95th percentile is \(DurationText.trimmed(p95)) per minute",
             severity: severity,
             learned: ["measure": .string(byPoints ? "points_per_minute" : "requests_per_minute"),
                       "p95": Baseline.seconds(p95), "limit": Baseline.seconds(BaselineDetector.rateLimit(p95))],
             seen: ["count": .int(observed), "minute_start": .string(UTCTime.format(Timestamp(seconds: tracked.minute * 60, nanoseconds: 0)))],
             operation: operation)
    }

    func emitSilent(_ conversation: TrackedConversation, period: Double, limit: Double, now: Timestamp) {
        let key = conversation.key
        let last = conversation.lastRequest ?? now
        let silence = now.interval(since: last)
        emit(BaselineCatalogue.conversationSilent, time: now, flow: nil,
             endpoints: Endpoints(srcIP: key.client, destIP: key.server, destPort: key.port, ipProtocol: key.ipProtocol),
             packets: [],
             message: "\(key.client) → \(key.server) \(key.service) sent no request for \(DurationText.duration(silence)) "
                + "(since \(UTCTime.formatMinute(last)) UTC); it polls \(DurationText.period(period)) in the baseline",
             learned: ["period_median_s": Baseline.seconds(period), "silence_limit_s": Baseline.seconds(limit)],
             seen: ["silent_side": "client", "last_request": .string(UTCTime.format(last)),
                    "silent_for_s": Baseline.seconds(silence)])
    }

    func emitNoResponse(_ conversation: TrackedConversation, period: Double, limit: Double, now: Timestamp) {
        let key = conversation.key
        let answer = conversation.lastResponse ?? now
        let silence = now.interval(since: answer)
        emit(BaselineCatalogue.conversationSilent, time: now, flow: nil,
             endpoints: Endpoints(srcIP: key.client, destIP: key.server, destPort: key.port, ipProtocol: key.ipProtocol),
             packets: [],
             message: "\(key.server) stopped responding to \(key.client) on \(key.service): requests continue but no response "
                + "for \(DurationText.duration(silence)) (since \(UTCTime.formatMinute(answer)) UTC); "
                + "the client polls \(DurationText.period(period)) in the baseline",
             learned: ["period_median_s": Baseline.seconds(period), "silence_limit_s": Baseline.seconds(limit)],
             seen: ["silent_side": "server", "last_response": .string(UTCTime.format(answer)),
                    "silent_for_s": Baseline.seconds(silence)])
    }

    func emitResponsesResumed(_ conversation: TrackedConversation, packet: DecodedPacket) {
        let key = conversation.key
        let since = conversation.noResponseSince ?? packet.timestamp
        conversation.noResponseSince = nil
        let gap = packet.timestamp.interval(since: since)
        emit(BaselineCatalogue.conversationResumed, time: packet.timestamp,
             endpoints: BaselineDetector.endpoints(packet, sourceIP: packet.sourceIP), packets: [packet.reference],
             message: "\(key.server) responds to \(key.client) on \(key.service) again after \(DurationText.duration(gap)) without responses",
             learned: ["period_median_s": Baseline.seconds(conversation.expectedPeriod)],
             seen: ["silent_side": "server", "silent_from": .string(UTCTime.format(since)), "silent_for_s": Baseline.seconds(gap)])
    }

    func emitResumed(_ conversation: TrackedConversation, flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let key = conversation.key
        let since = conversation.silentSince ?? time
        conversation.silentSince = nil
        // The server gets a fresh silence limit to respond to the resumed requests.
        conversation.lastResponse = time
        let gap = time.interval(since: since)
        emit(BaselineCatalogue.conversationResumed, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server) \(key.service) resumed after \(DurationText.duration(gap)) without requests",
             learned: ["period_median_s": Baseline.seconds(conversation.expectedPeriod)],
             seen: ["silent_side": "client", "silent_from": .string(UTCTime.format(since)), "silent_for_s": Baseline.seconds(gap)])
    }
}
