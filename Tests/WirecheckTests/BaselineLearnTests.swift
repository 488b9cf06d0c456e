import Foundation
import Testing
@testable import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckFlows
import WirecheckProtocols

/// Foundation also declares `Operation`; tests name the protocols stage's type through this alias.
typealias BaselineOperation = WirecheckProtocols.Operation

/// Anything that takes the engine's baseline calls: the learner, the detector, LearnThenDetect.
protocol BaselineObserving {
    func observe(packet: DecodedPacket)
    func observe(operation: BaselineOperation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference])
    func flowEnded(_ flow: Flow)
}

extension BaselineLearner: BaselineObserving {}
extension BaselineDetector: BaselineObserving {}
extension LearnThenDetect: BaselineObserving {}

/// A small synthetic plant: an HMI polls two PLCs with Modbus read_holding_registers
/// (unit 1, registers 0-9) about once a second each, with deterministic jitter.
struct BaselinePlant {
    static let start = UTCTime.parse("2026-12-04T08:00:00Z")!
    static let hmi = IPAddress("10.20.1.10")!
    static let plcs = [IPAddress("10.20.1.21")!, IPAddress("10.20.1.22")!]
    static let hmiMAC = MACAddress(0x0000_5e00_5310)
    static let plcMACs = [MACAddress(0x0861_9500_0021), MACAddress(0x0861_9500_0022)]
    static let read = BaselineOperation(protocolName: "modbus", name: "read_holding_registers", operationClass: .read, code: 3,
                                unit: 1, rangeStart: 0, rangeEnd: 9)

    var packetNumber: UInt64 = 0
    var jitterState: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A jitter in -50...+50 ms from a fixed linear congruential sequence.
    mutating func jitter() -> Double {
        jitterState = jitterState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(jitterState >> 33 % 101) / 1000.0 - 0.05
    }

    mutating func nextReference() -> PacketReference {
        packetNumber += 1
        return PacketReference(source: 0, number: packetNumber)
    }

    static func context(client: IPAddress, clientPort: UInt16, server: IPAddress, port: UInt16 = 502,
                        appProto: String? = "modbus", ipProtocol: UInt8 = IPProtocolNumber.tcp) -> FlowContext {
        FlowContext(flowID: UInt64(clientPort), communityID: "1:test", srcIP: client, srcPort: clientPort, destIP: server,
                    destPort: port, ipProtocol: ipProtocol, appProto: appProto)
    }

    static func packet(from source: IPAddress, to destination: IPAddress, mac: MACAddress?, ttl: UInt8,
                       time: Timestamp, reference: PacketReference, sourcePort: UInt16 = 40000, destinationPort: UInt16 = 502) -> DecodedPacket {
        var packet = DecodedPacket()
        packet.timestamp = time
        packet.reference = reference
        packet.network = .ipv4
        packet.sourceIP = source
        packet.destinationIP = destination
        packet.sourceMAC = mac
        packet.ttl = ttl
        packet.ipProtocol = IPProtocolNumber.tcp
        packet.sourcePort = sourcePort
        packet.destinationPort = destinationPort
        packet.hasTransport = true
        packet.payloadLength = 12
        return packet
    }

    static func flow(_ context: FlowContext, from first: Timestamp, to last: Timestamp, handshake: Bool = true) -> Flow {
        let flow = Flow(context: context, firstSeen: first, firstPacket: PacketReference(source: 0, number: 1))
        flow.lastSeen = last
        flow.history = handshake ? "ShADadFf" : "Dd"
        flow.isMidstream = !handshake
        flow.packetsToServer = 600
        flow.packetsToClient = 600
        flow.bytesToServer = 600 * 66
        flow.bytesToClient = 600 * 83
        return flow
    }

    /// Feeds `seconds` of normal polling starting `offset` seconds after `start`, then ends
    /// each PLC's flow. `period` changes the polling interval; `operation` what the HMI requests.
    mutating func run(_ target: BaselineObserving, offset: Double, seconds: Int, period: Double = 1.0,
                      operation: BaselineOperation = read, clientPortBase: UInt16 = 40000, skipPLC: Int? = nil,
                      mutePLC: Int? = nil, tick: ((Timestamp) -> Void)? = nil) {
        let first = BaselinePlant.start.adding(seconds: offset)
        var time = first
        var elapsed = 0.0
        while elapsed < Double(seconds) {
            for (index, plc) in BaselinePlant.plcs.enumerated() where index != skipPLC {
                let requestTime = time.adding(seconds: 0.001 * Double(index))
                let request = nextReference()
                target.observe(packet: BaselinePlant.packet(from: BaselinePlant.hmi, to: plc, mac: BaselinePlant.hmiMAC, ttl: 64,
                                                            time: requestTime, reference: request))
                let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: clientPortBase + UInt16(index), server: plc)
                target.observe(operation: operation, flow: context, timestamp: requestTime, packets: [request])
                let responseTime = requestTime.adding(seconds: 0.004)
                if index == mutePLC { continue }
                target.observe(packet: BaselinePlant.packet(from: plc, to: BaselinePlant.hmi, mac: BaselinePlant.plcMACs[index],
                                                            ttl: 64, time: responseTime, reference: nextReference(),
                                                            sourcePort: 502, destinationPort: clientPortBase + UInt16(index)))
            }
            tick?(time)
            let step = period + jitter()
            time = time.adding(seconds: step)
            elapsed += step
        }
        for (index, plc) in BaselinePlant.plcs.enumerated() where index != skipPLC {
            let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: clientPortBase + UInt16(index), server: plc)
            target.flowEnded(BaselinePlant.flow(context, from: first, to: time))
        }
    }

    /// A baseline learned from the first ten minutes.
    static func learnedBaseline() -> Baseline {
        var plant = BaselinePlant()
        let learner = BaselineLearner()
        plant.run(learner, offset: 0, seconds: 600)
        return learner.finish()
    }
}

@Suite struct BaselineLearnTests {
    @Test func learnsAssetsWithMACAndTTL() throws {
        let baseline = BaselinePlant.learnedBaseline()
        #expect(baseline.assets.count == 3)
        let hmi = try #require(baseline.assets[BaselinePlant.hmi])
        #expect(hmi.macs == [BaselinePlant.hmiMAC])
        #expect(hmi.ttls == [64])
        #expect(hmi.roles == ["modbus client"])
        let plc = try #require(baseline.assets[BaselinePlant.plcs[0]])
        #expect(plc.roles == ["modbus server"])
        #expect(plc.observation.firstSeen > BaselinePlant.start)
        #expect(hmi.observation.count > 1000)
    }

    @Test func learnsConversationsWithInitiator() throws {
        let baseline = BaselinePlant.learnedBaseline()
        #expect(baseline.conversations.count == 2)
        let key = ConversationKey(client: BaselinePlant.hmi, server: BaselinePlant.plcs[0], ipProtocol: 6, port: 502, appProto: "modbus")
        let conversation = try #require(baseline.conversations[key])
        #expect(conversation.flows == 1)
        #expect(conversation.flowsWithHandshake == 1)
        #expect(conversation.initiator == "client")
        #expect(conversation.packets == 1200)
        #expect(conversation.key.description == "10.20.1.10 → 10.20.1.21 tcp/502 modbus")
    }

    @Test func learnsOperationUnitAndRange() throws {
        let baseline = BaselinePlant.learnedBaseline()
        let conversation = try #require(baseline.sortedConversations.first)
        let operation = try #require(conversation.operations[OperationKey(BaselinePlant.read)])
        #expect(operation.operationClass == .read)
        #expect(operation.observation.count == conversation.observation.count)
        #expect(operation.observation.count >= 590)
        #expect(operation.observation.count <= 610)
        let unit = try #require(operation.units[1])
        #expect(unit.rangeMin == 0)
        #expect(unit.rangeMax == 9)
        #expect(unit.ranges == [0...9])
        #expect(unit.count == operation.observation.count)
    }

    @Test func learnsPollingPeriodAndRate() throws {
        let baseline = BaselinePlant.learnedBaseline()
        let operation = try #require(baseline.sortedConversations.first?.sortedOperations.first)
        let median = try #require(operation.timing.periodMedian)
        let spread = try #require(operation.timing.periodSpread)
        #expect(abs(median - 1.0) < 0.03)
        #expect(spread < 0.05)
        #expect(operation.timing.isPeriodic)
        let perMinute = try #require(operation.timing.requestsPerMinute.median)
        #expect(abs(perMinute - 60) < 3)
        #expect(operation.timing.requestsPerMinute.count >= 10)
        #expect(operation.timing.pointsPerMinute.quantile(0.95).map { abs($0 - 600) < 40 } == true)
    }

    @Test func learningIntoExistingBaselineMergesCounts() throws {
        var plant = BaselinePlant()
        let first = BaselineLearner()
        plant.run(first, offset: 0, seconds: 300)
        let text = first.finish().serialized()

        let second = BaselineLearner(baseline: try Baseline.parse(text, file: "first.json"))
        var later = BaselinePlant()
        later.run(second, offset: 3600, seconds: 300,
                  operation: BaselineOperation(protocolName: "modbus", name: "read_holding_registers", operationClass: .read,
                                       code: 3, unit: 1, rangeStart: 100, rangeEnd: 109))
        let merged = second.finish()
        let conversation = try #require(merged.sortedConversations.first)
        #expect(conversation.flows == 2)
        let operation = try #require(conversation.sortedOperations.first)
        #expect(operation.observation.count >= 590)
        #expect(operation.units[1]?.rangeMin == 0)
        #expect(operation.units[1]?.rangeMax == 109)
        #expect(operation.units[1]?.ranges == [0...9, 100...109])
        #expect(operation.observation.firstSeen < BaselinePlant.start.adding(seconds: 2))
        #expect(operation.observation.lastSeen > BaselinePlant.start.adding(seconds: 3800))
        // The hour between the two captures is not a polling interval.
        #expect(abs((operation.timing.periodMedian ?? 0) - 1.0) < 0.03)
        #expect(operation.timing.intervals.count >= 580)
    }

    @Test func distinctRangesOverflowKeepsMinMax() {
        var unit = UnitEntry(unit: 1)
        for index in 0..<17 { unit.record(start: index * 10, end: index * 10 + 1) }
        #expect(unit.rangesOverflowed)
        #expect(unit.ranges.isEmpty)
        #expect(unit.rangeMin == 0)
        #expect(unit.rangeMax == 161)
    }

    @Test func logHistogramQuantiles() throws {
        var histogram = LogHistogram()
        for value in 1...1000 { histogram.add(Double(value)) }
        let median = try #require(histogram.median)
        #expect(abs(median - 500) / 500 < 0.02)
        let p95 = try #require(histogram.quantile(0.95))
        #expect(abs(p95 - 950) / 950 < 0.02)
        var other = LogHistogram()
        other.add(2000, times: 1000)
        histogram.merge(other)
        #expect(histogram.count == 2000)
        #expect(abs((histogram.quantile(0.75) ?? 0) - 2000) / 2000 < 0.02)
    }

    @Test func captureDigestAndPacketCount() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-capture-\(getpid()).bin").path
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let learner = BaselineLearner()
        try learner.addCapture(path: path)
        var plant = BaselinePlant()
        plant.run(learner, offset: 0, seconds: 10)
        let capture = try #require(learner.baseline.captures.first)
        #expect(capture.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(capture.packets == plant.packetNumber)
        #expect(capture.firstPacket == BaselinePlant.start)
        try learner.addCapture(path: path)
        #expect(learner.baseline.captures.count == 1)
        #expect(learner.baseline.captures[0].timesLearned == 2)
    }

    @Test func missingCaptureFileThrows() {
        #expect(throws: BaselineFileError.self) { try BaselineLearner().addCapture(path: "/nonexistent/capture.pcap") }
    }
}

@Suite struct BaselineMergeTests {
    @Test func mergeAddsCountsAndKeepsReview() throws {
        var firstPlant = BaselinePlant()
        let first = BaselineLearner()
        firstPlant.run(first, offset: 0, seconds: 300)
        let ours = first.finish()
        ours.assets[BaselinePlant.hmi]?.review = Review(approved: true, note: "HMI")

        var secondPlant = BaselinePlant()
        let second = BaselineLearner()
        secondPlant.run(second, offset: 300, seconds: 300,
                        operation: BaselineOperation(protocolName: "modbus", name: "read_holding_registers", operationClass: .read,
                                                     code: 3, unit: 2, rangeStart: 50, rangeEnd: 59))
        let historian = IPAddress("10.20.1.50")!
        second.observe(operation: BaselinePlant.read, flow: BaselinePlant.context(client: historian, clientPort: 45000, server: BaselinePlant.plcs[0]),
                       timestamp: BaselinePlant.start.adding(seconds: 400), packets: [])
        let theirs = second.finish()
        theirs.assets[BaselinePlant.plcs[0]]?.review = Review(approved: true, note: nil)

        let oursOperationCount = try #require(ours.sortedConversations.first?.sortedOperations.first?.observation.count)
        let theirOperationCount = try #require(theirs.sortedConversations.first?.sortedOperations.first?.observation.count)
        ours.merge(theirs)

        let conversation = try #require(ours.sortedConversations.first)
        #expect(conversation.flows == 2)
        let operation = try #require(conversation.sortedOperations.first)
        #expect(operation.observation.count == oursOperationCount + theirOperationCount)
        #expect(operation.units.keys.sorted { ($0 ?? 0) < ($1 ?? 0) } == [1, 2])
        #expect(operation.units[2]?.rangeMin == 50)
        #expect(operation.timing.intervals.count > 500)
        #expect(ours.assets[BaselinePlant.hmi]?.review.note == "HMI")
        #expect(ours.assets[BaselinePlant.plcs[0]]?.review.approved == true)
        #expect(ours.assets[BaselinePlant.plcs[1]]?.review.approved == false)
        // The merged-in entries are copies, so editing one baseline leaves the other alone.
        let historianKey = ConversationKey(client: historian, server: BaselinePlant.plcs[0], ipProtocol: 6, port: 502, appProto: "modbus")
        #expect(ours.conversations.count == 3)
        ours.conversations[historianKey]?.flows = 99
        #expect(theirs.conversations[historianKey]?.flows == 0)
    }
}
