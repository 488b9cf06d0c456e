import Foundation
import WirecheckCore
import WirecheckDecoding
import WirecheckOutput

/// Receives what a worker's `Analyzer` would pass to the stages that the workers of a
/// `ParallelAnalyzer` share. Those are the decoder's anomalies (for the checksum-offload filter
/// and the anomaly rate limiter, which judge each source address over all its packets), every
/// decoded non-ARP packet, and the scan detector's housekeeping.
protocol WorkerHandoff: AnyObject {
    var decoderEvents: EventSink { get }
    func observe(_ packet: DecodedPacket)
    func expire(now: Timestamp)
    /// Notes that a flow last active at `lastActivity` is ending, before its events are emitted.
    func flowEnding(lastActivity: Timestamp)
}

/// Adds the decoder's anomalies to the worker's output as `Event` values for the merge.
final class DecoderEventHandoff: EventSink {
    unowned let collector: OutputCollector

    init(collector: OutputCollector) {
        self.collector = collector
    }

    func emit(_ event: Event) {
        let batch = collector.batch
        batch.items.append(OutputItem(key: collector.key, phase: collector.phase, kind: .decoderEvent,
                                      index: batch.events.count, timestamp: event.timestamp))
        batch.events.append(event)
    }
}

/// Collects a worker's events into the current output batch: each event as a serialised EVE
/// line and an item carrying the order key of the packet or tick being processed.
final class OutputCollector: EventSink, WorkerHandoff {
    private let sources: CaptureSourceTable
    /// False when the run writes no EVE file, so no line is serialised.
    private let serializes: Bool
    /// True when the run has outputs besides the EVE file, which receive the `Event` values.
    private let keepsEvents: Bool
    /// True for the one worker whose ticks also expire the shared scan detector's state.
    private let forwardsScanExpiry: Bool
    var batch = OutputBatch()
    var key: UInt64 = 0
    var phase: UInt8 = 1
    /// Last activity of the flow being ended, which orders the flows ended by `finish`.
    private var activity = Timestamp.zero
    private(set) lazy var decoderEvents: EventSink = DecoderEventHandoff(collector: self)

    init(sources: CaptureSourceTable, serializes: Bool, keepsEvents: Bool, forwardsScanExpiry: Bool) {
        self.sources = sources
        self.serializes = serializes
        self.keepsEvents = keepsEvents
        self.forwardsScanExpiry = forwardsScanExpiry
    }

    func emit(_ event: Event) {
        let start = batch.lines.count
        if serializes {
            JSONWriter.append(EveRecord.object(for: event, sources: sources), to: &batch.lines)
            batch.lines.append(0x0A)
        }
        var index = -1
        if keepsEvents {
            index = batch.events.count
            batch.events.append(event)
        }
        batch.items.append(OutputItem(key: key, phase: phase, kind: .event, start: start, end: batch.lines.count,
                                      index: index, timestamp: event.timestamp, activity: activity,
                                      isAlert: event.eventType == "alert"))
    }

    func observe(_ packet: DecodedPacket) {
        batch.items.append(OutputItem(key: key, phase: phase, kind: .decodedPacket, index: batch.packets.count,
                                      timestamp: packet.timestamp))
        batch.packets.append(packet)
    }

    func flowEnding(lastActivity: Timestamp) {
        activity = lastActivity
    }

    func expire(now: Timestamp) {
        guard forwardsScanExpiry else { return }
        batch.items.append(OutputItem(key: key, phase: phase, kind: .scanExpiry, timestamp: now))
    }
}

/// One worker thread: a full `Analyzer` over the host pairs its shard contains.
final class AnalysisWorker: @unchecked Sendable {
    let index: Int
    let channel: WorkerChannel
    let analyzer: Analyzer
    let collector: OutputCollector
    private var thread: Thread?

    /// Stack size of worker threads, as large as a main thread's usual 8 MiB, because the
    /// decoders and JSON serialisation run there as they would on the main thread.
    static let stackSize = 8 << 20

    init(index: Int, options: AnalysisOptions, sources: CaptureSourceTable, queueCapacity: Int,
         serializes: Bool, keepsEvents: Bool) {
        self.index = index
        channel = WorkerChannel(capacity: queueCapacity)
        collector = OutputCollector(sources: sources, serializes: serializes, keepsEvents: keepsEvents,
                                    forwardsScanExpiry: index == 0)
        analyzer = Analyzer(options: options, sources: sources, outputs: [collector], workerHandoff: collector)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "wirecheck-worker-\(index)"
        thread.stackSize = AnalysisWorker.stackSize
        self.thread = thread
        thread.start()
    }

    private func run() {
        while let (input, output) = channel.nextBatch() {
            process(input, into: output)
            channel.complete(input: input, output: output)
        }
        channel.markExited()
    }

    private func process(_ input: InputBatch, into output: OutputBatch) {
        collector.batch = output
        for entry in input.entries {
            collector.key = entry.key
            switch entry.kind {
            case .packet:
                collector.phase = 1
                let packet = CapturedPacket(timestamp: entry.timestamp, linkType: entry.linkType,
                                            bytes: input.bytes(of: entry), originalLength: entry.originalLength,
                                            reference: entry.reference)
                analyzer.process(packet)
            case .tick:
                collector.phase = 0
                analyzer.expireIdleState(now: entry.timestamp)
            case .flowExpiry:
                collector.phase = 1
                analyzer.flowTable.expire(now: entry.timestamp)
            case .sourceStart:
                analyzer.flowTable.noteSourceStart(entry.reference.source, at: entry.timestamp)
            case .finish:
                collector.phase = 2
                analyzer.finish(at: entry.timestamp)
            }
        }
        output.watermark = input.coversThrough
    }
}
