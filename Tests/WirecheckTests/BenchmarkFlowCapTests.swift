import Testing
import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
@testable import WirecheckSynthesis

/// Counts events by kind without keeping them, so a million evictions cost no memory here.
private final class CountingSink: EventSink {
    var flowEvents = 0
    var flowLimitAnomalies = 0
    var otherAnomalies = 0

    func emit(_ event: Event) {
        if event.eventType == "flow" {
            flowEvents += 1
        } else if event.eventType == "anomaly" {
            if event.anomalyName == "stream.flow_limit_reached" { flowLimitAnomalies += 1 } else { otherAnomalies += 1 }
        }
    }
}

@Suite struct BenchmarkFlowCapTests {
    /// A SYN flood from spoofed sources must not grow the table past `maxFlows`: each new flow
    /// beyond the cap evicts the least recently active one.
    @Test func flowCapBoundsSpoofedSynFlood() {
        // A million SYNs from random sources; the cap is hit after 10,000. Each eviction builds
        // a flow event, so this test takes tens of CPU seconds in a debug build.
        let synCount = 1_000_000
        let maxFlows = 10_000
        var configuration = FlowConfiguration()
        configuration.maxFlows = maxFlows
        let sink = CountingSink()
        let table = FlowTable(configuration: configuration, sink: sink, consumer: nil)
        var random = SplitMix64(seed: 7)
        var maxLive = 0
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let start: Int64 = 1_717_394_400 * 1_000_000_000

        for index in 0..<synCount {
            let bits = random.next()
            var packet = DecodedPacket()
            packet.timestamp = Timestamp(nanoseconds: start + Int64(index) * 1_000)
            packet.reference = PacketReference(source: 0, number: UInt64(index + 1))
            packet.network = .ipv4
            packet.sourceIP = .v4(UInt32(truncatingIfNeeded: bits))
            packet.destinationIP = .v4(0x0A01_010A)
            packet.sourcePort = UInt16(truncatingIfNeeded: bits >> 32) | 1_024
            packet.destinationPort = 502
            packet.ipProtocol = IPProtocolNumber.tcp
            packet.hasTransport = true
            var fields = TCPFields()
            fields.sequence = UInt32(truncatingIfNeeded: bits >> 16)
            fields.flags = [.syn]
            fields.window = 1_024
            packet.tcp = fields
            packet.wireLength = 14 + 20 + 20
            _ = table.process(packet, payload: empty)
            maxLive = max(maxLive, table.statistics.activeFlows)
        }

        let statistics = table.statistics
        #expect(maxLive == maxFlows)
        #expect(statistics.activeFlows == maxFlows)
        #expect(statistics.maxActiveFlows == maxFlows)
        #expect(statistics.flowsCreated == UInt64(synCount))
        #expect(statistics.flowsEvicted == UInt64(synCount - maxFlows))
        #expect(sink.flowLimitAnomalies == 1)
        #expect(sink.flowEvents == synCount - maxFlows)
    }
}
