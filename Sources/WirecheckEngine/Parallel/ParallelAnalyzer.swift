import WirecheckBaseline
import WirecheckCore
import WirecheckOutput

/// Runs the analysis on several worker threads, each with its own `Analyzer`, and merges their
/// events back into input order (`wirecheck analyze --workers N`).
///
/// The calling thread is the dispatcher. It numbers every packet and copies it into the batch
/// of the worker that its IP address pair hashes to, and packets without IP go to worker 0. It
/// sends a housekeeping tick to every worker whenever packet time passes a housekeeping point,
/// and merges the workers' output into the outputs in key order. The scan detector needs every
/// source's probes across all host pairs, so it runs once in the merge, on the packets the
/// workers hand over, in input order.
public final class ParallelAnalyzer: PacketAnalyzer {
    /// Largest worker count `--workers` accepts.
    public static let maxWorkers = 64
    /// Packets per batch: large enough that queue locking costs little per packet.
    static let defaultBatchPackets = 256
    /// Initial bytes per batch buffer; a batch of larger packets grows it once.
    static let defaultBatchBytes = 256 * 1600
    /// Batches queued per worker before the dispatcher waits, which bounds the memory of
    /// packets in flight to about this many batches per worker.
    static let defaultQueueCapacity = 4
    /// Packets between sends of every worker's partly filled batch, so a worker with few packets
    /// still reports progress and the merge does not hold output back for long.
    static let forwardInterval: UInt64 = 4096

    public let sources: CaptureSourceTable
    let workers: [AnalysisWorker]
    let merge: OrderedMerge
    private var batches: [InputBatch]
    private let batchPackets: Int
    private let batchBytes: Int
    private let housekeepingStep: Int64

    private var sequence: UInt64 = 0
    private var nextHousekeeping: Timestamp?
    private var lastTimestamp: Timestamp?
    private var lastSource: UInt16?
    /// Second of packet time in which the flow tables last expired idle flows.
    private var lastFlowExpirySecond: Int64 = .min
    private var startedSources = Set<UInt16>()
    private var finished = false

    public private(set) var packets: UInt64 = 0
    public private(set) var bytes: UInt64 = 0
    public private(set) var firstTimestamp: Timestamp?
    /// Packets whose timestamp is earlier than the packet before them, in input order.
    public private(set) var timestampsBackwards: UInt64 = 0

    /// Returns why `options` cannot run on several workers, or nil when they can. Baselines and
    /// host telemetry keep per-run state (assets seen, learned entries, join coverage) that
    /// would be split or reported once per worker.
    public static func unsupportedOption(_ options: AnalysisOptions) -> String? {
        if options.hostTelemetry != nil { return "--host-events" }
        switch options.baseline {
        case .none: return nil
        case .learn: return "learning a baseline"
        case .detect: return "--baseline"
        case .learnFirst: return "--learn-first"
        }
    }

    /// Creates `workerCount` workers and starts their threads. An `EveWriter` among `outputs`
    /// receives lines the workers serialised; the other outputs receive the events.
    public convenience init(workerCount: Int, options: AnalysisOptions = AnalysisOptions(),
                            sources: CaptureSourceTable, outputs: [EventSink]) {
        self.init(workerCount: workerCount, options: options, sources: sources, outputs: outputs,
                  batchPackets: ParallelAnalyzer.defaultBatchPackets, queueCapacity: ParallelAnalyzer.defaultQueueCapacity)
    }

    /// The full initialiser, with batch and queue sizes that tests make tiny.
    init(workerCount: Int, options: AnalysisOptions, sources: CaptureSourceTable, outputs: [EventSink],
         batchPackets: Int, queueCapacity: Int) {
        precondition(ParallelAnalyzer.unsupportedOption(options) == nil,
                     "ParallelAnalyzer does not support \(ParallelAnalyzer.unsupportedOption(options) ?? "")")
        self.sources = sources
        let count = min(max(workerCount, 1), ParallelAnalyzer.maxWorkers)
        let eveWriter = outputs.lazy.compactMap { $0 as? EveWriter }.first
        let otherOutputs = outputs.filter { !($0 is EveWriter) }
        let workerOptions = ParallelAnalyzer.workerOptions(options, workerCount: count)
        workers = (0..<count).map { index in
            AnalysisWorker(index: index, options: workerOptions, sources: sources, queueCapacity: queueCapacity,
                           serializes: eveWriter != nil, keepsEvents: !otherOutputs.isEmpty)
        }
        merge = OrderedMerge(workers: workers, sources: sources, eveWriter: eveWriter, otherOutputs: otherOutputs,
                             anomaliesPerSourcePerMinute: options.anomaliesPerSourcePerMinute)
        self.batchPackets = max(1, batchPackets)
        batchBytes = ParallelAnalyzer.defaultBatchBytes
        batches = (0..<count).map { _ in InputBatch(packetCapacity: max(1, batchPackets), byteCapacity: ParallelAnalyzer.defaultBatchBytes) }
        housekeepingStep = Int64(options.housekeepingInterval * 1e9)
        for worker in workers { worker.start() }
    }

    /// Returns the options of one worker: the run-wide memory bounds (flows tracked, reassembly
    /// bytes over all flows, fragmented datagrams) divided between the workers, rounded up, so
    /// the run as a whole stays within them. Per-flow bounds stay as they are. The ARP monitor
    /// keeps its whole bound because all ARP goes to worker 0.
    static func workerOptions(_ options: AnalysisOptions, workerCount: Int) -> AnalysisOptions {
        func share(_ total: Int) -> Int { total <= 0 ? total : max(1, (total + workerCount - 1) / workerCount) }
        var divided = options
        divided.flows.maxFlows = share(options.flows.maxFlows)
        divided.flows.reassemblyMaxTotalBytes = share(options.flows.reassemblyMaxTotalBytes)
        divided.fragmentLimits.maxDatagramsInProgress = share(options.fragmentLimits.maxDatagramsInProgress)
        return divided
    }

    /// Lets the worker threads exit when the analyzer is dropped without `finish()`.
    deinit {
        if !finished {
            for worker in workers { worker.channel.close() }
        }
    }

    public var workerCount: Int { workers.count }

    public var alertsWritten: UInt64 { merge.alertsWritten }

    /// The run's event counts over all workers and the merge. Before `finish()` the workers'
    /// counts are still changing, so this returns only the merge's own.
    public var tally: EventTally {
        let total = EventTally()
        if finished {
            for worker in workers { total.add(worker.analyzer.tally) }
        }
        total.add(merge.router.tally)
        return total
    }

    public func process(_ packet: CapturedPacket) {
        sequence += 1
        packets += 1
        bytes += UInt64(packet.originalLength)
        if firstTimestamp == nil { firstTimestamp = packet.timestamp }
        if let last = lastTimestamp, packet.timestamp < last { timestampsBackwards += 1 }
        lastTimestamp = packet.timestamp
        scheduleHousekeeping(now: packet.timestamp, key: sequence)
        noteSource(of: packet)

        let hash = ShardKey.hash(linkType: packet.linkType, bytes: packet.bytes)
        let worker = hash.map { Int($0 % UInt64(workers.count)) } ?? 0
        if hash != nil { expireFlowsIfNewSecond(now: packet.timestamp, owner: worker) }
        let batch = batches[worker]
        batch.append(packet, key: sequence)
        if batch.entries.count >= batchPackets || batch.used >= batchBytes {
            send(worker)
            merge.drain()
        }
        if sequence % ParallelAnalyzer.forwardInterval == 0 {
            sendAll()
            merge.drain()
        }
    }

    public func housekeep(now: Timestamp) {
        scheduleHousekeeping(now: now, key: sequence + 1)
        sendAll()
        merge.drain()
    }

    public func forwardPendingEvents() {
        sendAll()
        merge.waitAndDrain(through: sequence)
    }

    public func finish() {
        guard !finished else { return }
        let end = lastTimestamp ?? .zero
        for index in workers.indices {
            batches[index].entries.append(BatchEntry(kind: .finish, key: .max, timestamp: end))
            batches[index].coversThrough = .max
            workers[index].channel.send(batches[index])
            workers[index].channel.close()
        }
        merge.finish(at: end)
        finished = true
    }

    /// Nothing to record: runs with a baseline are rejected by `unsupportedOption`.
    public func addBaselineCapture(path: String) throws {}

    public func learnedBaseline() -> Baseline? { nil }

    public func limitOverruns() -> [(String, UInt64)] {
        var totals: [(String, UInt64)] = []
        // The workers' own rate limiters receive no anomaly; the merge's limiter counts instead.
        let shared = [("anomaly_repeats", merge.anomalyLimiter.heldTotal)]
        for counts in workers.map({ $0.analyzer.limitOverruns() }) + [shared] {
            for (name, count) in counts {
                if let position = totals.firstIndex(where: { $0.0 == name }) {
                    totals[position].1 += count
                } else {
                    totals.append((name, count))
                }
            }
        }
        return totals
    }

    /// Fills the summary's analysis members with the sums over all workers; call after `finish()`.
    public func summarize(into summary: inout RunSummary) {
        summary.packets = packets
        summary.bytes = bytes
        summary.firstTimestamp = firstTimestamp
        summary.lastTimestamp = lastTimestamp

        let talkers = TalkerTable()
        var undecoded: UInt64 = 0
        var decoderSkipped: [(String, UInt64)] = []
        for worker in workers {
            var part = RunSummary()
            let analyzer = worker.analyzer
            analyzer.summarize(into: &part)

            summary.flows += part.flows
            summary.flowsByProtocol.merge(part.flowsByProtocol, uniquingKeysWith: +)
            summary.midstreamPickups += part.midstreamPickups
            summary.evictedFlows += part.evictedFlows
            summary.flowsByAppProto.merge(part.flowsByAppProto, uniquingKeysWith: +)
            summary.encryptedFlows += part.encryptedFlows
            summary.encryptedBytes += part.encryptedBytes
            summary.payloadBytes += part.payloadBytes
            summary.streamGaps += part.streamGaps
            summary.streamGapBytes += part.streamGapBytes

            talkers.merge(analyzer.talkers)
            undecoded += analyzer.undecodedPackets
            for (reason, count) in analyzer.decoder.statistics.skippedReasons {
                if let position = decoderSkipped.firstIndex(where: { $0.0 == reason }) {
                    decoderSkipped[position].1 += count
                } else {
                    decoderSkipped.append((reason, count))
                }
            }
        }

        summary.topTalkers = talkers.top(5)
        Analyzer.appendSkipped(to: &summary, undecoded: undecoded, backwards: timestampsBackwards,
                               checksumSuppressed: merge.checksumFilter.suppressedByHost, decoderSkipped: decoderSkipped,
                               anomaliesHeld: merge.anomalyLimiter.heldByName, perWindow: merge.anomalyLimiter.perWindow)
        summary.limitOverruns = limitOverruns()
    }

    public func emitStatistics(summary: RunSummary) {
        merge.router.emit(Event(eventType: "stats", timestamp: summary.lastTimestamp ?? .zero,
                                body: ["stats": .object(statisticsObject(summary: summary))]))
        merge.releaseOwnEvents()
    }

    /// Builds the run's counters from a summary that `summarize(into:)` filled.
    public func statisticsObject(summary: RunSummary) -> JSONObject {
        let undecoded = workers.reduce(0) { $0 + $1.analyzer.undecodedPackets }
        return Analyzer.statisticsObject(
            summary: summary, flowsCreated: summary.flows, flowsEvicted: summary.evictedFlows,
            midstreamPickups: summary.midstreamPickups, flowsByProtocol: summary.flowsByProtocol,
            backwards: timestampsBackwards, undecoded: undecoded, tally: tally, limitCounts: limitOverruns(),
            anomaliesHeld: merge.anomalyLimiter.heldByName)
    }

    // MARK: Dispatch

    /// Sends a tick to every worker when `now` has passed the next housekeeping point, on the
    /// same schedule as `Analyzer.housekeep`, so idle state expires at the same packet time.
    private func scheduleHousekeeping(now: Timestamp, key: UInt64) {
        guard let next = nextHousekeeping else {
            nextHousekeeping = Timestamp(nanoseconds: now.nanoseconds + housekeepingStep)
            return
        }
        guard now >= next else { return }
        nextHousekeeping = Timestamp(nanoseconds: now.nanoseconds + housekeepingStep)
        lastFlowExpirySecond = now.seconds
        for batch in batches {
            batch.entries.append(BatchEntry(kind: .tick, key: key, timestamp: now))
        }
    }

    /// Makes every worker's flow table expire idle flows on the first IP packet of each second,
    /// where a single flow table would, rather than on the first packet of that second that it
    /// receives itself. The owner of the packet does this inside `FlowTable.process`. Packets that do not
    /// reach a flow table (unreassembled fragments, undecodable IP) still count here, so the
    /// points can differ slightly from a single-threaded run.
    private func expireFlowsIfNewSecond(now: Timestamp, owner: Int) {
        guard now.seconds != lastFlowExpirySecond else { return }
        lastFlowExpirySecond = now.seconds
        for (index, batch) in batches.enumerated() where index != owner {
            batch.entries.append(BatchEntry(kind: .flowExpiry, key: sequence, timestamp: now))
        }
    }

    /// Tells every worker when a capture source's first packet arrived, because the mid-stream
    /// grace window of a source starts there and a worker may see that source only later.
    private func noteSource(of packet: CapturedPacket) {
        let source = packet.reference.source
        guard source != lastSource else { return }
        lastSource = source
        guard startedSources.insert(source).inserted else { return }
        for batch in batches {
            batch.entries.append(BatchEntry(kind: .sourceStart, key: sequence, timestamp: packet.timestamp,
                                            reference: packet.reference))
        }
    }

    private func send(_ index: Int) {
        let batch = batches[index]
        batch.coversThrough = sequence
        workers[index].channel.send(batch)
        batches[index] = workers[index].channel.takeSpareInput()
            ?? InputBatch(packetCapacity: batchPackets, byteCapacity: batchBytes)
    }

    private func sendAll() {
        for index in workers.indices { send(index) }
    }
}
