import Testing
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

@Suite struct CleartextOnTLSPortTests {
    let httpRequest = Array("GET / HTTP/1.1\r\nHost: plant\r\n\r\n".utf8)
    let modbusRequest = modbusFrame(1, [0x03, 0x00, 0x00, 0x00, 0x02])

    @Test func httpOnHTTPSPortRaisesAlert() {
        let harness = ApplicationLayerHarness(serverPort: 443)
        harness.send(httpRequest)
        let alerts = harness.collector.alerts(named: "tls.cleartext_on_tls_port")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message?.contains("port 443") == true)
    }

    @Test func modbusOnModbusSecurityPortRaisesAlert() {
        let harness = ApplicationLayerHarness(serverPort: 802)
        harness.send(modbusRequest)
        harness.send(modbusRequest)
        #expect(harness.collector.alerts(named: "tls.cleartext_on_tls_port").count == 1)
    }

    @Test func unidentifiedBytesOnTLSPortRaiseAlertAtFlowEnd() {
        let harness = ApplicationLayerHarness(serverPort: 8883)
        harness.send([UInt8](repeating: 0x41, count: 40))
        harness.end()
        #expect(harness.collector.alerts(named: "tls.cleartext_on_tls_port").count == 1)
    }

    @Test func httpOnOtherPortRaisesNone() {
        let harness = ApplicationLayerHarness(serverPort: 8080)
        harness.send(httpRequest)
        #expect(harness.collector.alerts(named: "tls.cleartext_on_tls_port").isEmpty)
    }
}
