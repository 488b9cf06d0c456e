import Testing
import WirecheckCore
@testable import WirecheckFlows
@testable import WirecheckProtocols

/// Responses on a flow picked up mid-stream may answer requests sent before the capture began.
@Suite struct ModbusMidstreamTests {
    let request = modbusFrame(7, [0x03, 0x00, 0x00, 0x00, 0x01])
    let response = modbusFrame(7, [0x03, 0x02, 0x00, 0x2a])
    let earlierResponse = modbusFrame(6, [0x03, 0x02, 0x00, 0x29])

    @Test func earlyResponsesOnMidstreamFlowAreNotUnsolicited() {
        let harness = ApplicationLayerHarness()
        harness.flow.isMidstream = true
        harness.send(request)
        harness.send(earlierResponse, .toClient)
        harness.send(response, .toClient)
        #expect(harness.collector.anomalies(named: "applayer.modbus.unsolicited_response").isEmpty)
    }

    @Test func unmatchedResponseAfterFirstMatchIsUnsolicited() {
        let harness = ApplicationLayerHarness()
        harness.flow.isMidstream = true
        harness.send(request)
        harness.send(response, .toClient)
        harness.send(earlierResponse, .toClient)
        #expect(harness.collector.anomalies(named: "applayer.modbus.unsolicited_response").count == 1)
    }

    @Test func unmatchedResponseOnFlowWithHandshakeIsUnsolicited() {
        let harness = ApplicationLayerHarness()
        harness.send(request)
        harness.send(earlierResponse, .toClient)
        #expect(harness.collector.anomalies(named: "applayer.modbus.unsolicited_response").count == 1)
    }
}
