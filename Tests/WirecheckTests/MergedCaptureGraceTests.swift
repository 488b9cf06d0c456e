import Testing
import WirecheckCore
import WirecheckSynthesis

/// Each merged capture file starts its own mid-stream grace window, because connections were
/// already open when each capture began.
@Suite struct MergedCaptureGraceTests {
    @Test func secondFileMidstreamFlowIsPickup() throws {
        var first = ScenarioCapture()
        var polling = ScenarioHosts.conversation(ScenarioHosts.hmi, 50_000, ScenarioHosts.plc1, 502)
        first.add(0, step: 0.001, polling.handshake())
        first.add(1, polling.clientSends(ModbusFrames.readHoldingRegisters(transaction: 1, unit: 1, address: 0, count: 2)))

        // The second file starts an hour later, inside a connection opened before it began.
        var second = ScenarioCapture()
        var inProgress = ScenarioHosts.conversation(ScenarioHosts.workstation, 51_000, ScenarioHosts.plc2, 502,
                                                    clientSequence: 9_000, serverSequence: 70_000)
        second.add(3600, inProgress.clientSends(ModbusFrames.readHoldingRegisters(transaction: 9, unit: 1, address: 0, count: 2)))
        second.add(3600.01, inProgress.serverSends(ModbusFrames.readHoldingRegistersResponse(transaction: 9, unit: 1, values: [1, 2])))

        let folder = TestPaths.temporaryDirectory()
        let firstPath = folder.appendingPathComponent("first.pcap").path
        let secondPath = folder.appendingPathComponent("second.pcap").path
        try first.write(to: firstPath)
        try second.write(to: secondPath)
        let result = try AnalysisHarness.analyze([firstPath, secondPath])

        #expect(result.anomalies("stream.no_handshake_data").isEmpty)
        #expect(result.summary.midstreamPickups == 1)
    }
}
