import WirecheckCore
import WirecheckDetection
import WirecheckOutput

/// Merges the workers' output into one stream in key order. It also runs the stages that judge a
/// source address over all its host pairs: the checksum-offload filter, the anomaly rate limiter
/// and the scan detector. They run on what the workers hand over, so they observe every packet
/// in input order. It runs
/// on the dispatcher's thread, which is also the only thread that touches the run's outputs.
///
/// Each worker's output is sorted by (key, phase). An item is released when it is the smallest
/// head over all workers and every worker without a waiting item has a watermark at or above
/// its key, because that worker's later items all have larger keys.
final class OrderedMerge {
    private let workers: [AnalysisWorker]
    private let eveWriter: EveWriter?
    /// Outputs other than the EVE file (the SQLite store), which receive `Event` values.
    private let otherOutputs: [EventSink]
    let scanDetector: ScanDetector
    let checksumFilter: ChecksumOffloadFilter
    let anomalyLimiter: AnomalyRateLimiter
    /// Counts and routes the events of the shared stages and the `stats` event.
    let router: EventRouter
    private let collector: OutputCollector
    /// Output batches taken from each worker and not yet released. The first is being read.
    private var pendingBatches: [[OutputBatch]]
    private var cursors: [Int]
    /// Watermark of the last batch taken from each worker.
    private var through: [UInt64]
    private(set) var alertsWritten: UInt64 = 0
    /// Set by tests to record the key of every event released, in release order.
    var recordsKeys = false
    private(set) var releasedKeys: [UInt64] = []

    init(workers: [AnalysisWorker], sources: CaptureSourceTable, eveWriter: EveWriter?, otherOutputs: [EventSink],
         anomaliesPerSourcePerMinute: Int) {
        self.workers = workers
        self.eveWriter = eveWriter
        self.otherOutputs = otherOutputs
        collector = OutputCollector(sources: sources, serializes: eveWriter != nil, keepsEvents: !otherOutputs.isEmpty,
                                    forwardsScanExpiry: false)
        router = EventRouter(outputs: [collector])
        scanDetector = ScanDetector(sink: router)
        anomalyLimiter = AnomalyRateLimiter(downstream: router, perWindow: anomaliesPerSourcePerMinute)
        checksumFilter = ChecksumOffloadFilter(downstream: anomalyLimiter)
        pendingBatches = Array(repeating: [], count: workers.count)
        cursors = Array(repeating: 0, count: workers.count)
        through = Array(repeating: 0, count: workers.count)
    }

    /// Releases every item that is known to come next, without waiting for any worker.
    func drain() {
        for index in workers.indices { takeCompleted(of: index) }
        while let next = nextReleasable() {
            let batch = pendingBatches[next][0]
            let item = batch.items[cursors[next]]
            cursors[next] += 1
            release(item, from: batch)
        }
    }

    /// Waits for every worker to finish the run, releases the rest of their output, then the
    /// events of `finish` from the workers and the shared stages in single-threaded order.
    func finish(at end: Timestamp) {
        for (index, worker) in workers.enumerated() {
            worker.channel.waitForOutput(through: .max, taken: through[index])
            takeCompleted(of: index)
        }
        drain()

        // `Analyzer.finish` writes the held checksum anomalies and anomaly repeats first, then ends
        // the flows least recently active first, then reports scans. The same order here: origin
        // -1 is the merge's held anomalies, then the workers' items by the last activity of
        // their flow, then the merge's scans, each group otherwise in emission order.
        var finishing: [(item: OutputItem, batch: OutputBatch, origin: Int, position: Int)] = []
        for index in workers.indices {
            for batch in pendingBatches[index] {
                let first = batch === pendingBatches[index][0] ? cursors[index] : 0
                for position in first..<batch.items.count {
                    finishing.append((batch.items[position], batch, index, finishing.count))
                }
            }
        }
        collector.key = .max
        collector.phase = 2
        checksumFilter.finish()
        anomalyLimiter.finish()
        let anomalyBatch = collector.batch
        collector.batch = OutputBatch()
        for item in anomalyBatch.items {
            finishing.append((item, anomalyBatch, -1, finishing.count))
        }
        scanDetector.finish(at: end)
        let scanBatch = collector.batch
        collector.batch = OutputBatch()
        for item in scanBatch.items {
            finishing.append((item, scanBatch, workers.count, finishing.count))
        }
        finishing.sort { lhs, rhs in
            let lhsGroup = lhs.origin < 0 ? 0 : (lhs.origin < workers.count ? 1 : 2)
            let rhsGroup = rhs.origin < 0 ? 0 : (rhs.origin < workers.count ? 1 : 2)
            if lhsGroup != rhsGroup { return lhsGroup < rhsGroup }
            if lhs.item.activity != rhs.item.activity { return lhs.item.activity < rhs.item.activity }
            if lhs.origin != rhs.origin { return lhs.origin < rhs.origin }
            return lhs.position < rhs.position
        }
        for entry in finishing {
            release(entry.item, from: entry.batch)
        }
        for index in workers.indices {
            pendingBatches[index].removeAll()
            cursors[index] = 0
        }
    }

    /// Passes the merge's own events (from the shared stages or the `stats` event) to the outputs.
    func releaseOwnEvents() {
        guard !collector.batch.items.isEmpty else { return }
        let batch = collector.batch
        for item in batch.items {
            release(item, from: batch)
        }
        batch.reset()
    }

    /// Waits until every worker has processed all batches covering keys up to `key`, then
    /// releases what it can.
    func waitAndDrain(through key: UInt64) {
        for (index, worker) in workers.enumerated() {
            worker.channel.waitForOutput(through: key, taken: through[index])
        }
        drain()
    }

    private func takeCompleted(of index: Int) {
        let before = pendingBatches[index].count
        workers[index].channel.takeCompleted(into: &pendingBatches[index])
        if pendingBatches[index].count > before, let last = pendingBatches[index].last {
            through[index] = last.watermark
        }
    }

    /// Returns the worker whose head item is released next, or nil when none can be yet.
    private func nextReleasable() -> Int? {
        var best: Int?
        var bestItem: OutputItem?
        for index in workers.indices {
            guard let item = head(of: index) else { continue }
            if let current = bestItem, !OrderedMerge.precedes(item, current) { continue }
            best = index
            bestItem = item
        }
        // Items of key `.max` come from `finish` and are ordered by `finish(at:)` instead.
        guard let bestItem, bestItem.key != .max else { return nil }
        for index in workers.indices where head(of: index) == nil && through[index] < bestItem.key {
            return nil
        }
        return best
    }

    /// Returns true when `item` goes before `other`, from another worker. Between workers, events
    /// of one key and phase (flows that one expiry ended in several workers) go in timestamp
    /// order, as a single flow table mostly ends them oldest first. Handed-over decoder items
    /// count as earliest, because a single analyzer handles them before the flow table's expiry.
    /// The scan detector's expiry counts as latest, because `Analyzer.housekeep` expires the
    /// flows of every host pair before it sweeps the scan detector, whose alerts come out there.
    static func precedes(_ item: OutputItem, _ other: OutputItem) -> Bool {
        if item.key != other.key { return item.key < other.key }
        if item.phase != other.phase { return item.phase < other.phase }
        return orderTime(item) < orderTime(other)
    }

    private static func orderTime(_ item: OutputItem) -> Timestamp {
        switch item.kind {
        case .event: return item.timestamp
        case .scanExpiry: return Timestamp(nanoseconds: .max)
        default: return .zero
        }
    }

    /// Returns the next unreleased item of a worker, recycling batches it has finished reading.
    private func head(of index: Int) -> OutputItem? {
        while let batch = pendingBatches[index].first {
            if cursors[index] < batch.items.count { return batch.items[cursors[index]] }
            pendingBatches[index].removeFirst()
            cursors[index] = 0
            workers[index].channel.recycle(batch)
        }
        return nil
    }

    private func release(_ item: OutputItem, from batch: OutputBatch) {
        switch item.kind {
        case .event:
            if let eveWriter, item.end > item.start {
                batch.lines.withUnsafeBytes { lines in
                    eveWriter.writeSerialized(UnsafeRawBufferPointer(rebasing: lines[item.start..<item.end]), count: 1)
                }
            }
            if item.index >= 0 {
                let event = batch.events[item.index]
                for output in otherOutputs { output.emit(event) }
            }
            if item.isAlert { alertsWritten += 1 }
            if recordsKeys { releasedKeys.append(item.key) }
        case .decoderEvent:
            collector.key = item.key
            collector.phase = item.phase
            checksumFilter.emit(batch.events[item.index])
            releaseOwnEvents()
        case .decodedPacket:
            collector.key = item.key
            collector.phase = item.phase
            let packet = batch.packets[item.index]
            if checksumFilter.hasPendingHosts { checksumFilter.packetDecoded(from: packet.sourceIP) }
            if packet.hasTransport { scanDetector.observe(packet) }
            releaseOwnEvents()
        case .scanExpiry:
            collector.key = item.key
            collector.phase = item.phase
            scanDetector.expire(now: item.timestamp)
            releaseOwnEvents()
        }
    }
}
