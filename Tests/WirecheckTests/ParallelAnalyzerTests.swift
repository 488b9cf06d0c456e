import Foundation
import Testing
import WirecheckCapture
import WirecheckCore
import WirecheckOutput
import WirecheckSynthesis
@testable import WirecheckEngine

/// What one run produced: the events in output order, the EVE lines, the summary and the keys
/// the merge released (empty for the single-threaded analyzer).
private struct RunResult {
    var events: [Event]
    var eveLines: [String]
    var summary: RunSummary
    var tally: EventTally
    var releasedKeys: [UInt64]
    var sources: CaptureSourceTable
}

/// Runs `path` through `Analyzer` (workers 1) or `ParallelAnalyzer`, with an EVE file and an
/// event collector as outputs, as `wirecheck analyze --eve` with a store would.
private func analyze(_ path: String, workers: Int) throws -> RunResult {
    let sources = CaptureSourceTable()
    let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: sources)
    let evePath = TestPaths.temporaryDirectory().appendingPathComponent("out.json").path
    let eveWriter = try EveWriter(path: evePath, sources: sources)
    let collector = EventCollector()
    let analyzer: PacketAnalyzer
    var parallel: ParallelAnalyzer?
    if workers == 1 {
        analyzer = Analyzer(sources: sources, outputs: [eveWriter, collector])
    } else {
        let created = ParallelAnalyzer(workerCount: workers, sources: sources, outputs: [eveWriter, collector])
        created.merge.recordsKeys = true
        parallel = created
        analyzer = created
    }
    input.run({ analyzer.process($0) }, idle: nil)
    analyzer.finish()
    var summary = RunSummary()
    analyzer.summarize(into: &summary)
    analyzer.emitStatistics(summary: summary)
    eveWriter.close()
    let text = try String(contentsOfFile: evePath, encoding: .utf8)
    let lines = text.split(separator: "\n").map(String.init)
    return RunResult(events: collector.events, eveLines: lines, summary: summary, tally: analyzer.tally,
                     releasedKeys: parallel?.merge.releasedKeys ?? [], sources: sources)
}

/// Identifies an alert or anomaly independent of output order: type, rule or name, flow id and
/// evidence packets.
private func findings(_ events: [Event]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for event in events where event.eventType == "alert" || event.eventType == "anomaly" {
        let name = event.eventType == "alert" ? event.alertRule ?? "" : event.anomalyName ?? ""
        let packets = event.packets.sorted().map { "\($0.source):\($0.number)" }.joined(separator: ",")
        let key = "\(event.eventType) \(name) flow=\(event.flow?.flowID ?? 0) packets=\(packets)"
        counts[key, default: 0] += 1
    }
    return counts
}

/// Flow records as their flow id and serialised `flow` member, as a multiset.
private func flowRecords(_ events: [Event]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for event in events where event.eventType == "flow" {
        let record = event.body["flow"].map { JSONWriter.serialize($0) } ?? ""
        counts["\(event.flow?.flowID ?? 0) \(record)", default: 0] += 1
    }
    return counts
}

/// Writes a small `BenchmarkMix` capture, as `wirecheck-synth mix` does, and returns its path.
private func writeMixCapture(packets: Int, flows: Int, seed: UInt64) throws -> String {
    let path = TestPaths.temporaryDirectory().appendingPathComponent("mix.pcap").path
    let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
    var mix = BenchmarkMix(BenchmarkMix.Parameters(packets: packets, flows: flows, seed: seed))
    mix.generate { bytes, timestamp in writer.write(bytes, timestamp: timestamp) }
    try writer.flush()
    writer.close()
    return path
}

private let demoCapture = TestPaths.packageRoot.appendingPathComponent("demo/plant-demo.pcap").path

@Suite("Parallel analyzer")
struct ParallelAnalyzerTests {
    /// Compares a run on several workers with the single-threaded run of the same capture.
    private func expectSameResults(_ single: RunResult, _ parallel: RunResult, workers: Int) {
        #expect(findings(parallel.events) == findings(single.events), "alerts and anomalies differ with \(workers) workers")
        #expect(flowRecords(parallel.events) == flowRecords(single.events), "flow records differ with \(workers) workers")
        #expect(parallel.summary.packets == single.summary.packets)
        #expect(parallel.summary.bytes == single.summary.bytes)
        #expect(parallel.summary.flows == single.summary.flows)
        #expect(parallel.summary.flowsByAppProto == single.summary.flowsByAppProto)
        #expect(parallel.tally.alertTotal == single.tally.alertTotal)
        #expect(parallel.tally.anomalyTotal == single.tally.anomalyTotal)
        #expect(parallel.summary.topTalkers.map(\.address) == single.summary.topTalkers.map(\.address))
        #expect(parallel.summary.topTalkers.map(\.bytes) == single.summary.topTalkers.map(\.bytes))
        #expect(parallel.eveLines.count == single.eveLines.count)
        #expect(zip(parallel.releasedKeys, parallel.releasedKeys.dropFirst()).allSatisfy { $0 <= $1 },
                "EVE lines left the merge out of key order")
        // The workers serialise the EVE lines; they must match the events the other outputs got.
        let serialized = parallel.events.map { JSONWriter.serialize(EveRecord.object(for: $0, sources: parallel.sources)) }
        #expect(parallel.eveLines == serialized)
    }

    @Test("demo capture, 2 and 3 workers", arguments: [2, 3])
    func demoCaptureMatchesSingleWorker(workers: Int) throws {
        let single = try analyze(demoCapture, workers: 1)
        let parallel = try analyze(demoCapture, workers: workers)
        #expect(single.tally.alertTotal > 0)
        expectSameResults(single, parallel, workers: workers)
    }

    @Test("benchmark mix, 2 and 3 workers", arguments: [2, 3])
    func benchmarkMixMatchesSingleWorker(workers: Int) throws {
        let path = try writeMixCapture(packets: 20_000, flows: 500, seed: 3)
        let single = try analyze(path, workers: 1)
        let parallel = try analyze(path, workers: workers)
        #expect(single.summary.flows > 100)
        expectSameResults(single, parallel, workers: workers)
    }

    @Test("horizontal scan still fires")
    func horizontalScanFires() throws {
        let single = try analyze(demoCapture, workers: 1)
        let parallel = try analyze(demoCapture, workers: 3)
        let singleScans = single.events.filter { $0.alertRule == "scan.horizontal" }
        let parallelScans = parallel.events.filter { $0.alertRule == "scan.horizontal" }
        #expect(singleScans.count == 1)
        #expect(parallelScans.count == singleScans.count)
        #expect(parallelScans.first?.packets == singleScans.first?.packets)
    }

    @Test("full queue blocks, no drop")
    func fullQueueBlocksReader() throws {
        var builder = PacketBuilder()
        let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
        let ip = IPSpec(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        let frames = (0..<20).map { index in
            builder.udp(link, ip: ip, sourcePort: 40000, destinationPort: 47808, payload: [UInt8(index)])
        }
        let owner = frames[0].withUnsafeBytes { bytes in
            Int((ShardKey.hash(linkType: .ethernet, bytes: bytes) ?? 0) % 2)
        }

        let sources = CaptureSourceTable()
        sources.add("generated")
        let collector = EventCollector()
        let analyzer = ParallelAnalyzer(workerCount: 2, options: AnalysisOptions(), sources: sources,
                                        outputs: [collector], batchPackets: 1, queueCapacity: 1)
        let channel = analyzer.workers[owner].channel
        channel.setPaused(true)

        let done = DispatchSemaphore(value: 0)
        let start = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
        let reader = Thread {
            for (index, frame) in frames.enumerated() {
                frame.withUnsafeBytes { bytes in
                    analyzer.process(CapturedPacket(timestamp: start.adding(seconds: Double(index) * 0.01),
                                                    linkType: .ethernet, bytes: bytes, originalLength: bytes.count,
                                                    reference: PacketReference(source: 0, number: UInt64(index + 1))))
                }
            }
            done.signal()
        }
        reader.start()
        // The paused worker takes no batch, so the reader must stop at the full queue.
        channel.waitUntilDispatcherWaits()
        #expect(channel.dispatcherWaiting)
        #expect(channel.fullQueueWaits >= 1)
        #expect(analyzer.packets < UInt64(frames.count))

        channel.setPaused(false)
        done.wait()
        analyzer.finish()
        var summary = RunSummary()
        analyzer.summarize(into: &summary)
        #expect(summary.packets == UInt64(frames.count))
        #expect(analyzer.workers[owner].analyzer.packets == UInt64(frames.count))
        #expect(summary.flows == 1)
        #expect(collector.events.filter { $0.eventType == "flow" }.count == 1)
    }

    @Test("shard key is symmetric")
    func shardKeySymmetric() {
        var builder = PacketBuilder()
        let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
        let ip = IPSpec(source: IPAddress("192.168.1.10")!, destination: IPAddress("192.168.1.20")!)
        let forward = builder.tcp(link, ip: ip, tcp: TCPSpec(sourcePort: 50000, destinationPort: 502))
        let reverse = builder.tcp(link.reversed, ip: ip.reversed, tcp: TCPSpec(sourcePort: 502, destinationPort: 50000))
        let forwardHash = forward.withUnsafeBytes { ShardKey.hash(linkType: .ethernet, bytes: $0) }
        let reverseHash = reverse.withUnsafeBytes { ShardKey.hash(linkType: .ethernet, bytes: $0) }
        #expect(forwardHash != nil)
        #expect(forwardHash == reverseHash)
    }

    @Test("shard key of ARP and short frames is nil")
    func shardKeyWithoutIP() {
        var builder = PacketBuilder()
        let arp = builder.arpRequest(senderMAC: MACAddress(0x0200_0000_0001), senderIP: IPAddress("10.0.0.1")!,
                                     targetIP: IPAddress("10.0.0.2")!)
        #expect(arp.withUnsafeBytes { ShardKey.hash(linkType: .ethernet, bytes: $0) } == nil)
        let short: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45]
        #expect(short.withUnsafeBytes { ShardKey.hash(linkType: .ethernet, bytes: $0) } == nil)
        let empty: [UInt8] = []
        #expect(empty.withUnsafeBytes { ShardKey.hash(linkType: .raw, bytes: $0) } == nil)
    }
}
