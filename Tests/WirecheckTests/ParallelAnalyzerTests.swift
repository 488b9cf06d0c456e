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
    try analyze([path], workers: workers)
}

private func analyze(_ paths: [String], workers: Int) throws -> RunResult {
    let sources = CaptureSourceTable()
    let input = try CaptureInput.openFiles(paths, options: CaptureOptions(), sources: sources)
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
    private func expectSameResults(_ single: RunResult, _ parallel: RunResult, workers: Int, sameOrder: Bool = true) {
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
        if sameOrder {
            // Same events, so the merge must also reproduce the single-threaded order line for line.
            let firstDifference = single.eveLines.indices.first { index in
                index >= parallel.eveLines.count || parallel.eveLines[index] != single.eveLines[index]
            }
            #expect(firstDifference == nil, "EVE line \((firstDifference ?? 0) + 1) with \(workers) workers differs from one worker")
        }
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

    @Test("two capture files, 2 workers")
    func twoCaptureFiles() throws {
        let mix = try writeMixCapture(packets: 5_000, flows: 100, seed: 11)
        let single = try analyze([demoCapture, mix], workers: 1)
        let parallel = try analyze([demoCapture, mix], workers: 2)
        #expect(single.sources.names.count == 2)
        // The jump of months between the files expires every flow of the first at one packet.
        // The merge orders such flows from several workers by end time, and one flow table by
        // timeout class first, so only the set of lines is compared.
        expectSameResults(single, parallel, workers: 2, sameOrder: false)
    }

    /// Writes frames 10 ms apart to a capture file and returns its path.
    private func writeCapture(_ frames: [[UInt8]]) throws -> String {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("frames.pcap").path
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        let start = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
        for (index, frame) in frames.enumerated() {
            writer.write(frame, timestamp: start.adding(seconds: Double(index) * 0.01))
        }
        try writer.flush()
        writer.close()
        return path
    }

    /// UDP datagrams from 10.0.0.1 to 12 peers, so they spread over the workers.
    private func framesToPeers(count: Int, change: (inout [UInt8]) -> Void) -> [[UInt8]] {
        var builder = PacketBuilder()
        let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
        return (0..<count).map { index in
            let ip = IPSpec(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.1.\(index % 12 + 1)")!)
            var frame = builder.udp(link, ip: ip, sourcePort: 40000, destinationPort: 47808, payload: [1, 2, 3, 4])
            change(&frame)
            return frame
        }
    }

    @Test("checksum offload judged over workers")
    func checksumOffloadOverWorkers() throws {
        // Every UDP checksum (Ethernet 14 + IPv4 20 + 6 bytes in) is wrong, as with checksum offload.
        let frames = framesToPeers(count: 60) { frame in
            frame[40] ^= 0x5A
        }
        let path = try writeCapture(frames)
        let single = try analyze(path, workers: 1)
        let parallel = try analyze(path, workers: 3)
        #expect(single.summary.skipped.contains { $0.0.contains("checksum anomalies not reported for 10.0.0.1") })
        #expect(single.tally.anomalies["decoder.udp.checksum_invalid"] == nil)
        expectSameResults(single, parallel, workers: 3)
        #expect(parallel.summary.skipped.map(\.0) == single.summary.skipped.map(\.0))
        #expect(parallel.summary.skipped.map(\.1) == single.summary.skipped.map(\.1))
    }

    @Test("anomaly repeats limited over workers")
    func anomalyRepeatsOverWorkers() throws {
        // An IPv4 header length of 16 bytes (IHL 4) is invalid in every frame.
        let frames = framesToPeers(count: 40) { frame in
            frame[14] = 0x44
        }
        let path = try writeCapture(frames)
        let single = try analyze(path, workers: 1)
        let parallel = try analyze(path, workers: 3)
        #expect(single.tally.anomalies["decoder.ipv4.header_length_invalid"] == 11)
        expectSameResults(single, parallel, workers: 3)
        #expect(parallel.summary.limitOverruns.first { $0.0 == "anomaly_repeats" }?.1 == 30)
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

    @Test("run-wide limits divided between workers")
    func limitsDivided() {
        var options = AnalysisOptions()
        options.flows.maxFlows = 1_000_000
        options.flows.reassemblyMaxTotalBytes = 0
        options.fragmentLimits.maxDatagramsInProgress = 4096
        options.arp.maxBindings = 10_000
        options.flows.reassemblyLimits.maxBufferedBytesPerDirection = 65_536
        let divided = ParallelAnalyzer.workerOptions(options, workerCount: 3)
        #expect(divided.flows.maxFlows == 333_334)
        #expect(divided.flows.reassemblyMaxTotalBytes == 0)
        #expect(divided.fragmentLimits.maxDatagramsInProgress == 1366)
        #expect(divided.arp.maxBindings == 10_000)
        #expect(divided.flows.reassemblyLimits.maxBufferedBytesPerDirection == 65_536)
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

@Suite("Parallel analyzer shard key")
struct ParallelShardKeyTests {
    static let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
    static let v4 = IPSpec(source: IPAddress("10.1.1.5")!, destination: IPAddress("10.1.1.20")!)
    static let v6 = IPSpec(source: IPAddress("fd00::5")!, destination: IPAddress("fd00::20")!)

    /// Returns the hashes of a datagram and its reply, framed by `frame`.
    private func hashes(_ ip: IPSpec, linkType: LinkType, frame: (inout PacketBuilder, IPSpec) -> [UInt8]) -> (UInt64?, UInt64?) {
        var builder = PacketBuilder()
        let forward = frame(&builder, ip)
        let reverse = frame(&builder, ip.reversed)
        return (forward.withUnsafeBytes { ShardKey.hash(linkType: linkType, bytes: $0) },
                reverse.withUnsafeBytes { ShardKey.hash(linkType: linkType, bytes: $0) })
    }

    private static func udp(_ builder: inout PacketBuilder, _ link: EthernetSpec?, _ ip: IPSpec) -> [UInt8] {
        builder.udp(link, ip: ip, sourcePort: 47808, destinationPort: 47808, payload: [1, 2, 3])
    }

    @Test("IPv4 in 802.1Q and 802.1ad tags")
    func vlanTagged() {
        let tagged = EthernetSpec(source: Self.link.source, destination: Self.link.destination, vlans: [100, 200])
        let (forward, reverse) = hashes(Self.v4, linkType: .ethernet) { Self.udp(&$0, tagged, $1) }
        let (untagged, _) = hashes(Self.v4, linkType: .ethernet) { Self.udp(&$0, Self.link, $1) }
        #expect(forward != nil)
        #expect(forward == reverse)
        #expect(forward == untagged)
    }

    @Test("IPv4 in 802.3 with LLC/SNAP")
    func llcSnap() {
        let (plain, _) = hashes(Self.v4, linkType: .ethernet) { Self.udp(&$0, Self.link, $1) }
        let (snap, snapReverse) = hashes(Self.v4, linkType: .ethernet) { builder, ip in
            let ethernet = Self.udp(&builder, Self.link, ip)
            let datagram = Array(ethernet[14...])
            let length = UInt16(datagram.count + 8)
            // Destination and source MAC, the 802.3 length, then LLC AA AA 03 and SNAP 00 00 00 08 00.
            return Array(ethernet[0..<12]) + [UInt8(length >> 8), UInt8(length & 0xFF), 0xAA, 0xAA, 0x03,
                                              0x00, 0x00, 0x00, 0x08, 0x00] + datagram
        }
        #expect(snap != nil)
        #expect(snap == snapReverse)
        #expect(snap == plain)
    }

    @Test("IPv6 over Ethernet")
    func ipv6() {
        let (forward, reverse) = hashes(Self.v6, linkType: .ethernet) { Self.udp(&$0, Self.link, $1) }
        #expect(forward != nil)
        #expect(forward == reverse)
        let (v4Hash, _) = hashes(Self.v4, linkType: .ethernet) { Self.udp(&$0, Self.link, $1) }
        #expect(forward != v4Hash)
    }

    @Test("raw IP, Linux cooked and loopback")
    func otherLinkTypes() {
        let (raw, rawReverse) = hashes(Self.v4, linkType: .raw) { Self.udp(&$0, nil, $1) }
        #expect(raw != nil)
        #expect(raw == rawReverse)
        // Linux cooked v1: 14 bytes of packet type, address type and address, then the EtherType.
        let cookedHeader: [UInt8] = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]
        let (cooked, _) = hashes(Self.v4, linkType: .linuxSLL) { cookedHeader + Self.udp(&$0, nil, $1) }
        #expect(cooked == raw)
        // Linux cooked v2: the EtherType first, then 18 more bytes.
        let cooked2Header: [UInt8] = [0x86, 0xDD] + [UInt8](repeating: 0, count: 18)
        let (cooked2, _) = hashes(Self.v6, linkType: .linuxSLL2) { cooked2Header + Self.udp(&$0, nil, $1) }
        let (v6Raw, _) = hashes(Self.v6, linkType: .raw) { Self.udp(&$0, nil, $1) }
        #expect(cooked2 != nil)
        #expect(cooked2 == v6Raw)
        // BSD loopback: AF_INET (2) in little-endian host order; OpenBSD loopback: big-endian.
        let (null, _) = hashes(Self.v4, linkType: .null) { [2, 0, 0, 0] + Self.udp(&$0, nil, $1) }
        let (loop, _) = hashes(Self.v4, linkType: .loop) { [0, 0, 0, 2] + Self.udp(&$0, nil, $1) }
        #expect(null == raw)
        #expect(loop == raw)
    }

    @Test("unknown EtherType and link type")
    func unknownFrames() {
        let (mpls, _) = hashes(Self.v4, linkType: .ethernet) { builder, ip in
            var frame = Self.udp(&builder, Self.link, ip)
            frame[12] = 0x88
            frame[13] = 0x47
            return frame
        }
        #expect(mpls == nil)
        let (other, _) = hashes(Self.v4, linkType: LinkType(rawValue: 147)) { Self.udp(&$0, nil, $1) }
        #expect(other == nil)
    }
}

@Suite("Parallel analyzer command line")
struct ParallelCommandLineTests {
    @Test("worker count out of range", .enabled(if: CLIRunner.isBuilt), arguments: ["0", "65", "two"])
    func workerCountOutOfRange(value: String) throws {
        let result = try CLIRunner.run(["analyze", "--quiet", "--workers", value, demoCapture])
        #expect(result.status == 2)
        #expect(result.error.contains("invalid value '\(value)' for --workers"))
    }

    @Test("baseline options rejected", .enabled(if: CLIRunner.isBuilt), arguments: ["--learn-first"])
    func baselineRejected(option: String) throws {
        let result = try CLIRunner.run(["analyze", "--quiet", "--workers", "2", option, "10m", demoCapture])
        #expect(result.status == 2)
        #expect(result.error.contains("cannot be combined with \(option)"))
        #expect(result.error.contains("use --workers 1"))
    }

    @Test("EVE file and store with workers", .enabled(if: CLIRunner.isBuilt))
    func eveAndStore() throws {
        let folder = TestPaths.temporaryDirectory()
        let single = folder.appendingPathComponent("one.json").path
        let parallel = folder.appendingPathComponent("two.json").path
        let store = folder.appendingPathComponent("store.db").path
        let first = try CLIRunner.run(["analyze", "--quiet", "--eve", single, demoCapture])
        let second = try CLIRunner.run(["analyze", "--quiet", "--workers", "2", "--eve", parallel, "--store=\(store)", demoCapture])
        #expect(first.status == 0)
        #expect(second.status == 0)
        let singleLines = try String(contentsOfFile: single, encoding: .utf8).split(separator: "\n")
        let parallelLines = try String(contentsOfFile: parallel, encoding: .utf8).split(separator: "\n")
        #expect(parallelLines.count == singleLines.count)
        #expect(Set(parallelLines.filter { !$0.contains(#""event_type":"stats""#) })
                == Set(singleLines.filter { !$0.contains(#""event_type":"stats""#) }))
        #expect(FileManager.default.fileExists(atPath: store))
    }
}
