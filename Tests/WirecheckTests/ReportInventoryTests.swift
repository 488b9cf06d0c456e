import Foundation
import Testing
import WirecheckCore
@testable import WirecheckOutput

@Suite struct ReportInventoryTests {
    @Test func timelineBinLabelsUseLargestUnit() {
        #expect(AlertTimeline.binLabel(1) == "1 minute")
        #expect(AlertTimeline.binLabel(15) == "15 minutes")
        #expect(AlertTimeline.binLabel(360) == "6 hours")
        #expect(AlertTimeline.binLabel(10_080) == "1 week")
    }

    @Test func silentResponderAndSpoofedMACStayOutOfInventory() throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("inventory.db").path
        let store = try FindingStore(path: path)
        try store.beginRun(sources: ["scan.pcap"])
        let scanned = FlowContext(flowID: 1, communityID: "1:a", srcIP: IPAddress("10.0.0.66")!, srcPort: 40_000,
                                  destIP: IPAddress("10.0.0.99")!, destPort: 502, ipProtocol: IPProtocolNumber.tcp)
        store.emit(Event(eventType: "flow", timestamp: Timestamp(seconds: 100, nanoseconds: 0), flow: scanned,
                         body: ["flow": .object(["pkts_toserver": 1, "pkts_toclient": 0])]))
        let plc = IPAddress("10.0.0.21")!
        store.emit(Event(eventType: "anomaly", timestamp: Timestamp(seconds: 101, nanoseconds: 0),
                         endpoints: Endpoints(srcIP: plc, srcMAC: MACAddress(0x0080_f400_0021)),
                         body: ["anomaly": .object(["type": "decode", "event": "decoder.test"])]))
        store.emit(.alert(AlertDefinition("arp.test", signatureID: 99_999, signature: "t", category: "t", severity: 1,
                                          technique: nil, summary: "t"),
                          timestamp: Timestamp(seconds: 102, nanoseconds: 0),
                          endpoints: Endpoints(srcIP: plc, srcMAC: MACAddress(0x001b_2100_0066)), packets: [], message: "spoof"))
        try store.finishRun()
        let assets = try store.assets(runID: nil)
        #expect(!assets.contains { $0.ip == "10.0.0.99" })
        #expect(assets.first { $0.ip == "10.0.0.21" }?.mac == "00:80:f4:00:00:21")
        try store.close()
    }
}

@Suite struct QueryRunsTests {
    @Test func runsListIdsAndSources() throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("runs.db").path
        let store = try FindingStore(path: path)
        try store.beginRun(sources: ["a.pcap", "b.pcap"])
        try store.finishRun()
        let runs = try store.runs()
        #expect(runs.map(\.id) == [1])
        #expect(runs.first?.sources == ["a.pcap", "b.pcap"])
        try store.close()
    }
}
