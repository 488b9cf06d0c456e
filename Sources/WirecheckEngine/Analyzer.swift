import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
import WirecheckDetection
import WirecheckFlows
import WirecheckHosts
import WirecheckOutput
import WirecheckProtocols

/// The transaction logging level, named here so the command line needs only the engine.
public typealias OperationLogging = WirecheckProtocols.OperationLogging

/// Settings for one analysis run.
public struct AnalysisOptions {
    public var flows = FlowConfiguration()
    public var verifyChecksums = true
    /// Interval between expiries of idle flows and fragments, in seconds of packet time.
    public var housekeepingInterval: Double = 1
    /// Process and connection records to join to flows (`--host-events`), if any.
    public var hostTelemetry: HostTelemetryLoad?
    /// Largest clock difference, in seconds, between telemetry and capture that still joins.
    public var clockSkewTolerance: Double = 5
    /// Learning or detecting against a communication baseline.
    public var baseline: BaselineMode = .none
    /// Bounds on IP fragment reassembly (`--max-fragments` sets datagrams in progress).
    public var fragmentLimits = FragmentLimits()
    /// Bounds of the ARP monitor (`--max-arp-bindings` sets tracked bindings).
    public var arp = ARPConfiguration()
    /// Buffer limits of the application layer and the per-flow outstanding-request limit of
    /// its parsers (`--max-outstanding-requests`).
    public var application = ApplicationLimits()
    /// Decoder anomalies of one name from one source written per minute of packet time before
    /// the rest are counted (`--anomaly-repeats`).
    public var anomaliesPerSourcePerMinute = AnomalyRateLimiter.defaultPerWindow
    /// The protocol transactions written as events (`--operations`).
    public var operationLogging = OperationLogging.all

    public init() {}
}

/// Runs every stage over a stream of captured packets: decoding, flow tracking, stream
/// reassembly, application parsing and the cross-flow detectors. Packets go in through
/// `process`; events come out through the sinks given at creation.
public final class Analyzer {
    public let sources: CaptureSourceTable
    let router: EventRouter
    let decoder: PacketDecoder
    let flowTable: FlowTable
    let applicationLayer: ApplicationLayer
    let scanDetector: ScanDetector
    let arpMonitor: ARPMonitor
    let payloadRouter: PayloadRouter
    let talkers = TalkerTable()
    let baselineStage: BaselineStage?
    let checksumFilter: ChecksumOffloadFilter
    let anomalyLimiter: AnomalyRateLimiter

    private var decoded = DecodedPacket()
    /// Set when the analyzer is one worker of a `ParallelAnalyzer`. The dispatcher then sends the
    /// housekeeping ticks, and the merge runs the checksum-offload filter, the anomaly rate
    /// limiter and the scan detector on what this handoff passes on.
    let workerHandoff: WorkerHandoff?
    private var nextHousekeeping: Timestamp?
    private var lastTimestamp: Timestamp?
    private let housekeepingStep: Int64

    public private(set) var packets: UInt64 = 0
    public private(set) var bytes: UInt64 = 0
    public private(set) var firstTimestamp: Timestamp?
    /// Packets whose link layer or network layer could not be decoded.
    public private(set) var undecodedPackets: UInt64 = 0
    /// Packets whose timestamp is earlier than the packet before them.
    public private(set) var timestampsBackwards: UInt64 = 0

    public convenience init(options: AnalysisOptions = AnalysisOptions(), sources: CaptureSourceTable,
                            outputs: [EventSink]) {
        self.init(options: options, sources: sources, outputs: outputs, workerHandoff: nil)
    }

    /// Creates an analyzer. With `workerHandoff` it is one worker of a `ParallelAnalyzer`, which
    /// receives the decoder's anomalies and the decoded packets for the stages it shares.
    init(options: AnalysisOptions, sources: CaptureSourceTable, outputs: [EventSink], workerHandoff: WorkerHandoff?) {
        self.workerHandoff = workerHandoff
        self.sources = sources
        router = EventRouter(outputs: outputs)
        switch options.baseline {
        case .detect(let baseline), .learnFirst(_, let baseline):
            router.suppressor = Suppressor(baseline: baseline)
        default:
            break
        }
        baselineStage = BaselineStage(mode: options.baseline, sink: router)
        router.baselineStage = baselineStage
        anomalyLimiter = AnomalyRateLimiter(downstream: router, perWindow: options.anomaliesPerSourcePerMinute)
        checksumFilter = ChecksumOffloadFilter(downstream: anomalyLimiter)
        decoder = PacketDecoder(sink: workerHandoff?.decoderEvents ?? checksumFilter, limits: options.fragmentLimits,
                                verifyChecksums: options.verifyChecksums)
        applicationLayer = ApplicationLayer(sink: router, limits: options.application)
        applicationLayer.operationLogging = options.operationLogging
        payloadRouter = PayloadRouter(applicationLayer: applicationLayer, talkers: talkers, baseline: baselineStage)
        payloadRouter.workerHandoff = workerHandoff
        if let stage = baselineStage {
            applicationLayer.operationObserver = { operation, flow, timestamp, packets in
                guard let operation else { return }
                stage.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
            }
        }
        flowTable = FlowTable(configuration: options.flows, sink: router, consumer: payloadRouter)
        scanDetector = ScanDetector(sink: router)
        arpMonitor = ARPMonitor(configuration: options.arp, sink: router)
        housekeepingStep = Int64(options.housekeepingInterval * 1e9)
        if let telemetry = options.hostTelemetry {
            let enricher = HostEnricher(telemetry: telemetry, clockSkewTolerance: options.clockSkewTolerance)
            router.hostEnricher = enricher
            baselineStage?.hostEnricher = enricher
        }
    }

    /// The event counts so far, by type, anomaly name and alert rule.
    public var tally: EventTally { router.tally }

    /// Adds an output after creation (for example a store opened later).
    public func addOutput(_ output: EventSink) {
        router.add(output)
    }

    /// Analyses one packet. `packet.bytes` is only read during this call.
    public func process(_ packet: CapturedPacket) {
        packets += 1
        bytes += UInt64(packet.originalLength)
        if firstTimestamp == nil { firstTimestamp = packet.timestamp }
        if let last = lastTimestamp, packet.timestamp < last { timestampsBackwards += 1 }
        lastTimestamp = packet.timestamp
        if workerHandoff == nil { housekeep(now: packet.timestamp) }
        flowTable.noteSourceStart(packet.reference.source, at: packet.timestamp)

        guard decoder.decode(packet, into: &decoded) else {
            undecodedPackets += 1
            return
        }
        baselineStage?.observe(packet: decoded)
        if decoded.arp != nil {
            arpMonitor.observe(decoded)
            return
        }
        if let handoff = workerHandoff {
            handoff.observe(decoded)
        } else if checksumFilter.hasPendingHosts {
            checksumFilter.packetDecoded(from: decoded.sourceIP)
        }
        guard decoded.hasTransport else { return }
        if workerHandoff == nil { scanDetector.observe(decoded) }
        let payload = decoder.payload(of: decoded, packet: packet)
        _ = flowTable.process(decoded, payload: payload)
    }

    /// Expires idle state when packet time has moved past the next housekeeping point.
    /// Live capture also calls this when no packet arrives, with the wall-clock time.
    public func housekeep(now: Timestamp) {
        guard let next = nextHousekeeping else {
            nextHousekeeping = Timestamp(nanoseconds: now.nanoseconds + housekeepingStep)
            return
        }
        guard now >= next else { return }
        nextHousekeeping = Timestamp(nanoseconds: now.nanoseconds + housekeepingStep)
        expireIdleState(now: now)
    }

    /// Expires idle flows, fragments and detector state at `now`, without checking the schedule.
    func expireIdleState(now: Timestamp) {
        flowTable.expire(now: now)
        decoder.expireFragments(now: now)
        if let handoff = workerHandoff {
            handoff.expire(now: now)
        } else {
            scanDetector.expire(now: now)
        }
        baselineStage?.expire(now: now)
    }

    /// Ends every open flow and reports what is still pending. Call once, after the last packet.
    public func finish() {
        finish(at: lastTimestamp ?? Timestamp.zero)
    }

    /// Ends every open flow at `end`, the time of the run's last packet, which a worker of a
    /// `ParallelAnalyzer` may not have seen itself.
    func finish(at end: Timestamp) {
        checksumFilter.finish()
        anomalyLimiter.finish()
        flowTable.finish(at: end)
        if workerHandoff == nil { scanDetector.finish(at: end) }
        baselineStage?.finish(at: end)
    }

    /// Records a capture file the baseline learns from, with its SHA-256; call once per file,
    /// in the order of the capture source table.
    public func addBaselineCapture(path: String) throws {
        try baselineStage?.addCapture(path: path)
    }

    /// Returns the baseline learned in `.learn` mode; call after `finish()`.
    public func learnedBaseline() -> Baseline? {
        baselineStage?.learnedBaseline()
    }

    /// Times each resource limit was reached, keyed by the limit's name, for the summary and the
    /// `stats` event. Every limit is listed, with 0 when it was never reached.
    public func limitOverruns() -> [(String, UInt64)] {
        let arp = arpMonitor.statistics
        return [
            ("max_flows", flowTable.statistics.flowsEvicted),
            ("reassembly_bytes", UInt64(flowTable.reassemblyOverruns)),
            ("outstanding_requests", UInt64(applicationLayer.statistics.outstandingRequestOverruns)),
            ("fragments", UInt64(decoder.statistics.fragmentLimitOverruns)),
            ("arp_bindings", arp.bindingOverruns + arp.pendingOverruns),
            ("anomaly_repeats", anomalyLimiter.heldTotal),
        ]
    }

    /// Fills the summary's analysis members from each stage's statistics.
    public func summarize(into summary: inout RunSummary) {
        summary.packets = packets
        summary.bytes = bytes
        summary.firstTimestamp = firstTimestamp
        summary.lastTimestamp = lastTimestamp
        let flowStatistics = flowTable.statistics
        summary.flows = flowStatistics.flowsCreated
        summary.flowsByProtocol = flowStatistics.flowsByProtocol
        summary.midstreamPickups = flowStatistics.midstreamPickups
        summary.evictedFlows = flowStatistics.flowsEvicted
        summary.flowsByAppProto = payloadRouter.flowsByAppProto
        summary.topTalkers = talkers.top(5)
        summary.encryptedFlows = applicationLayer.tlsFlows
        summary.encryptedBytes = UInt64(applicationLayer.tlsStatistics.encryptedBytes)
        summary.payloadBytes = payloadRouter.payloadBytes
        summary.streamGaps = payloadRouter.streamGaps
        summary.streamGapBytes = payloadRouter.streamGapBytes
        if let enricher = router.hostEnricher {
            summary.hostTelemetry = HostTelemetryReport.lines(enricher: enricher, captureStart: firstTimestamp,
                                                               captureEnd: lastTimestamp)
        }
        Analyzer.appendSkipped(to: &summary, undecoded: undecodedPackets, backwards: timestampsBackwards,
                               checksumSuppressed: checksumFilter.suppressedByHost,
                               decoderSkipped: decoder.statistics.skippedReasons,
                               anomaliesHeld: anomalyLimiter.heldByName, perWindow: anomalyLimiter.perWindow)
        summary.limitOverruns = limitOverruns()
    }
}

extension Analyzer {
    /// Appends the summary's lines for packets and events that were not analysed or not written.
    /// A `ParallelAnalyzer` passes the counts added over its workers.
    static func appendSkipped(to summary: inout RunSummary, undecoded: UInt64, backwards: UInt64,
                              checksumSuppressed: [IPAddress: UInt64], decoderSkipped: [(String, UInt64)],
                              anomaliesHeld: [String: UInt64], perWindow: Int) {
        if undecoded > 0 {
            summary.skipped.append(("packets whose link or network layer could not be decoded", undecoded))
        }
        if backwards > 0 {
            summary.skipped.append(("packets with a timestamp earlier than the packet before (analysed anyway)", backwards))
        }
        for (host, count) in checksumSuppressed.sorted(by: { $0.key < $1.key }) {
            summary.skipped.append(("checksum anomalies not reported for \(host), whose packets mostly carry bad checksums (checksum offload on the capturing host; --no-checksums skips the check)", count))
        }
        for (reason, count) in decoderSkipped {
            summary.skipped.append((reason, count))
        }
        for (name, count) in anomaliesHeld.sorted(by: { $0.key < $1.key }) {
            summary.skipped.append(("\(name) anomalies not written past \(perWindow) per source per minute (one event with the repeat count is written instead; --anomaly-repeats changes the limit)", count))
        }
    }
}

/// Routes what the flow table releases to the application layer and keeps per-flow
/// bookkeeping for the summary.
final class PayloadRouter: FlowPayloadConsumer {
    let applicationLayer: ApplicationLayer
    let talkers: TalkerTable
    private(set) var flowsByAppProto: [String: UInt64] = [:]
    /// Transport payload bytes of ended flows, both directions.
    private(set) var payloadBytes: UInt64 = 0
    /// Holes in TCP streams (bytes the capture never saw), and their total length.
    private(set) var streamGaps: UInt64 = 0
    private(set) var streamGapBytes: UInt64 = 0

    let baseline: BaselineStage?
    /// Set on a worker of a `ParallelAnalyzer`, whose merge orders the flows ended by `finish`.
    weak var workerHandoff: WorkerHandoff?

    init(applicationLayer: ApplicationLayer, talkers: TalkerTable, baseline: BaselineStage?) {
        self.applicationLayer = applicationLayer
        self.talkers = talkers
        self.baseline = baseline
    }

    func stream(_ flow: Flow, toServer: Bool, chunk: StreamChunk, timestamp: Timestamp) {
        if case .gap(let length) = chunk {
            streamGaps += 1
            streamGapBytes += UInt64(max(0, length))
        }
        applicationLayer.stream(flow, direction: toServer ? .toServer : .toClient, chunk: chunk, timestamp: timestamp)
    }

    func datagram(_ flow: Flow, toServer: Bool, payload: UnsafeRawBufferPointer, packet: PacketReference,
                  timestamp: Timestamp) {
        applicationLayer.datagram(flow, direction: toServer ? .toServer : .toClient, payload: payload, packet: packet,
                                  timestamp: timestamp)
    }

    func flowEnded(_ flow: Flow, timestamp: Timestamp) {
        workerHandoff?.flowEnding(lastActivity: flow.lastSeen)
        applicationLayer.flowEnded(flow, timestamp: timestamp)
        if let appProto = flow.appProto { flowsByAppProto[appProto, default: 0] += 1 }
        payloadBytes += flow.payloadBytesToServer + flow.payloadBytesToClient
        talkers.record(flow)
        baseline?.flowEnded(flow)
    }
}
