import Testing
import WirecheckCore
@testable import WirecheckEngine
import WirecheckProtocols

@Suite struct RepeatedFailureTrackerTests {
    func failure(_ flowID: UInt64, client: String = "10.0.0.5", server: String = "10.0.0.20", port: UInt16 = 443) -> Event {
        let flow = FlowContext(flowID: flowID, communityID: "1:x", srcIP: IPAddress(client)!, srcPort: 50_000,
                               destIP: IPAddress(server)!, destPort: port, ipProtocol: IPProtocolNumber.tcp)
        return .alert(TLSCatalogue.handshakeIncomplete, timestamp: .zero, flow: flow,
                      packets: [PacketReference(source: 0, number: flowID)], message: "incomplete")
    }

    @Test func thirdFailureBetweenSamePairRaisesOnce() {
        let tracker = RepeatedFailureTracker()
        #expect(tracker.observe(failure(1)) == nil)
        #expect(tracker.observe(failure(2)) == nil)
        let alert = tracker.observe(failure(3))
        #expect(alert?.alertRule == "tls.repeated_handshake_failure")
        #expect(alert?.packets.map(\.number) == [1, 2, 3])
        #expect(tracker.observe(failure(4)) == nil)
    }

    @Test func failuresOnDifferentPairsDoNotAdd() {
        let tracker = RepeatedFailureTracker()
        #expect(tracker.observe(failure(1, server: "10.0.0.21")) == nil)
        #expect(tracker.observe(failure(2, server: "10.0.0.22")) == nil)
        #expect(tracker.observe(failure(3, server: "10.0.0.23")) == nil)
        #expect(tracker.observe(failure(4, port: 8443)) == nil)
    }
}
