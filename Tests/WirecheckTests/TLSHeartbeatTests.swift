import Testing
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

/// Heartbleed (CVE-2014-0160): a heartbeat request that claims more payload than it carries.
@Suite struct TLSHeartbeatTests {
    /// A heartbeat record: type 1 (request), a claimed payload length, `payload` and 16 bytes of padding.
    func heartbeat(claimed: UInt16, payload: [UInt8]) -> [UInt8] {
        let message: [UInt8] = [1, UInt8(claimed >> 8), UInt8(claimed & 0xff)] + payload + [UInt8](repeating: 0, count: 16)
        return [24, 0x03, 0x03, UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }

    @Test func overReadRequestRaisesAlert() {
        let harness = ApplicationLayerHarness(serverPort: 443)
        harness.send(TLSTestBytes.clientHelloRecord)
        harness.send(heartbeat(claimed: 16_384, payload: [1, 2, 3]))
        let alerts = harness.collector.alerts(named: "tls.heartbleed")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message?.contains("claiming a 16384-byte payload") == true)
    }

    @Test func honestRequestRaisesNothing() {
        let harness = ApplicationLayerHarness(serverPort: 443)
        harness.send(TLSTestBytes.clientHelloRecord)
        harness.send(heartbeat(claimed: 3, payload: [1, 2, 3]))
        #expect(harness.collector.alerts(named: "tls.heartbleed").isEmpty)
    }
}
