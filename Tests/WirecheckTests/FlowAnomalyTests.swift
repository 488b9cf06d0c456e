import Testing
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckFlows

@Suite struct FlowAnomalyTests {
    let client = "10.0.0.5:50000"
    let server = "10.0.0.20:502"
    let otherClient = "10.0.0.6:50001"

    /// Starts the capture clock with an unrelated UDP packet, so later flows fall outside the
    /// mid-stream grace window.
    func startCapture(_ harness: FlowHarness) {
        harness.udp("10.0.0.9:51000", "10.0.0.30:47808", payload: [1], at: 0)
    }

    func streamAnomalies(_ harness: FlowHarness) -> [Event] {
        harness.anomalies.filter { $0.anomalyName?.hasPrefix("stream.") == true }
    }

    @Test func normalTrafficRaisesNothing() {
        let harness = FlowHarness()
        // Picked up mid-stream inside the grace window.
        harness.tcp(otherClient, server, [.ack, .psh], seq: 7000, ack: 9000, payload: [1, 2], at: 0.5)
        harness.tcp(server, otherClient, [.ack, .psh], seq: 9000, ack: 7002, payload: [3], at: 0.6)
        // Complete handshakes after the grace window.
        harness.handshake(client, server, at: 20)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2, 3], at: 20.01)
        harness.tcp(server, client, [.ack, .psh], seq: 5001, ack: 1004, payload: [4, 5], at: 20.02)
        harness.tcp(client, server, [.ack, .fin], seq: 1004, ack: 5003, at: 20.03)
        harness.tcp(server, client, [.ack, .fin], seq: 5003, ack: 1005, at: 20.04)
        harness.tcp(client, server, [.ack], seq: 1005, ack: 5004, at: 20.05)
        harness.handshake("10.0.0.7:50002", server, at: 21, clientScale: 7, serverScale: 7)
        harness.tcp("10.0.0.7:50002", server, [.ack, .psh], seq: 1001, ack: 5001, window: 502,
                    payload: [UInt8](repeating: 0, count: 1400), at: 21.01)
        harness.tcp(server, "10.0.0.7:50002", [.rst, .ack], seq: 5001, ack: 2401, at: 21.02)
        harness.table.finish(at: FlowHarness.time(30))

        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
        #expect(harness.flowEvents.count == 3)
    }

    @Test func noHandshakeDataRaisedOncePerFlow() {
        let harness = FlowHarness()
        startCapture(harness)
        harness.tcp(client, server, [.ack, .psh], seq: 7000, ack: 9000, payload: [1, 2], at: 20)
        harness.tcp(client, server, [.ack, .psh], seq: 7002, ack: 9000, payload: [3], at: 20.1)
        harness.table.finish(at: FlowHarness.time(30))

        let found = harness.events.anomalies(named: "stream.no_handshake_data")
        #expect(found.count == 1)
        #expect(found.first?.packets == [PacketReference(source: 0, number: 2)])
        #expect(found.first?.flow?.destPort == 502)
        #expect(found.first?.message?.contains("10.0.0.5:50000 sent 2 bytes of data to 10.0.0.20:502") == true)
        let tcpFlow = harness.flowEvents.first { $0.flow?.ipProtocol == 6 }
        guard case .object(let body)? = tcpFlow?.body["flow"], case .object(let counts)? = body["anomalies"] else {
            Issue.record("flow event without an anomalies member")
            return
        }
        #expect(counts["stream.no_handshake_data"] == .int(2))
        #expect(body["midstream"] == false)
    }

    @Test func noHandshakeDataAfterUnansweredSyn() {
        let harness = FlowHarness()
        startCapture(harness)
        harness.tcp(client, server, [.syn], seq: 1000, at: 20)
        harness.tcp(client, server, [.ack], seq: 1001, ack: 1, at: 20.1)
        #expect(harness.events.anomalies(named: "stream.no_handshake_data").count == 1)
    }

    @Test func midstreamInsideGraceIsNotNoHandshake() {
        let harness = FlowHarness()
        startCapture(harness)
        harness.tcp(client, server, [.ack, .psh], seq: 7000, ack: 9000, payload: [1], at: 9)
        #expect(harness.events.anomalies(named: "stream.no_handshake_data").isEmpty)
    }

    @Test func synAckWithoutSyn() {
        let harness = FlowHarness()
        startCapture(harness)
        let update = harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, at: 20)
        let found = harness.events.anomalies(named: "stream.synack_without_syn")
        #expect(found.count == 1)
        #expect(update?.toServer == false)
        #expect(found.first?.message?.contains("10.0.0.20:502 sent a SYN-ACK to 10.0.0.5:50000") == true)
    }

    @Test func synAckInsideGraceIsPickup() {
        let harness = FlowHarness()
        startCapture(harness)
        harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, at: 1)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.table.statistics.midstreamPickups == 1)
    }

    @Test func synAckFromOriginatorInSplitHandshake() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(server, client, [.syn], seq: 5000, at: 0.001)
        harness.tcp(client, server, [.syn, .ack], seq: 1000, ack: 5001, at: 0.002)
        let found = harness.events.anomalies(named: "stream.synack_from_originator")
        #expect(found.count == 1)
        #expect(found.first?.packets == [PacketReference(source: 0, number: 3)])
        #expect(harness.events.anomalies(named: "stream.synack_without_syn").isEmpty)
    }

    @Test func rstOutOfWindowKeepsFlow() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2], at: 0.01)
        // A forged RST far away from the client's next sequence number (1003).
        harness.tcp(client, server, [.rst], seq: 900_000, window: 0, at: 0.02)
        harness.tcp(client, server, [.ack, .psh], seq: 1003, ack: 5001, payload: [3], at: 0.03)
        harness.tcp(client, server, [.ack, .fin], seq: 1004, ack: 5001, at: 0.04)
        harness.tcp(server, client, [.ack, .fin], seq: 5001, ack: 1005, at: 0.05)
        harness.table.finish(at: FlowHarness.time(1))

        let found = harness.events.anomalies(named: "stream.rst_out_of_window")
        #expect(found.count == 1)
        #expect(found.first?.packets == [PacketReference(source: 0, number: 5)])
        #expect(found.first?.message?.contains("sequence 900000") == true)
        let alerts = harness.events.alerts(named: "stream.rst_injection")
        #expect(alerts.count == 1)
        guard case .object(let alert)? = alerts.first?.body["alert"] else {
            Issue.record("alert event without an alert member")
            return
        }
        #expect(alert["signature_id"] == .int(1000))
        #expect(alert["severity"] == .int(2))
        #expect(harness.consumer.toServerBytes == [1, 2, 3])
        #expect(harness.flowBody()?["conn_state"] == "SF")
        #expect(harness.flowBody()?["history"] == "ShADFf")
    }

    @Test func rstInWindowIsNotReported() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.rst], seq: 1001, window: 0, at: 0.02)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.anomalies.isEmpty)
        #expect(harness.flowBody()?["conn_state"] == "RSTO")
    }

    @Test func segmentBeyondWindow() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        // The server advertised 64240 bytes; this segment starts 200000 bytes ahead.
        harness.tcp(client, server, [.ack, .psh], seq: 201_001, ack: 5001, payload: [1, 2, 3], at: 0.01)
        let found = harness.events.anomalies(named: "stream.segment_out_of_window")
        #expect(found.count == 1)
        #expect(found.first?.message?.contains("beyond the receiver's window") == true)
        #expect(harness.consumer.toServerBytes.isEmpty)
    }

    @Test func segmentFarBehindData() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1], at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1001 &- 300_000, ack: 5001, payload: [9], at: 0.02)
        let found = harness.events.anomalies(named: "stream.segment_out_of_window")
        #expect(found.count == 1)
        #expect(found.first?.message?.contains("behind the data already sent") == true)
    }

    @Test func segmentInsideWindowIsNotReported() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        // A gap of 60000 bytes (lost capture) is still inside the 64240-byte window.
        harness.tcp(client, server, [.ack, .psh], seq: 61_001, ack: 5001, payload: [1], at: 0.01)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func dataAfterFin() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .fin], seq: 1001, ack: 5001, at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1002, ack: 5001, payload: [7, 7], at: 0.02)
        let found = harness.events.anomalies(named: "stream.data_after_fin")
        #expect(found.count == 1)
        #expect(found.first?.message?.contains("after its own FIN at sequence 1001") == true)
        #expect(harness.consumer.toServerBytes.isEmpty)
    }

    @Test func dataBeforeFinRetransmittedIsNormal() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1], at: 0.01)
        harness.tcp(client, server, [.ack, .fin], seq: 1002, ack: 5001, at: 0.02)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1], at: 0.03)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func dataAfterRstFromReceiver() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(server, client, [.rst, .ack], seq: 5001, ack: 1001, at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1], at: 0.02)
        #expect(harness.events.anomalies(named: "stream.data_after_rst").count == 1)
        #expect(harness.alerts.isEmpty)
        // The bytes still reach the parsers, so a forged reset cannot leave a hole in the stream.
        #expect(harness.consumer.toServerBytes == [1])
    }

    @Test func dataAfterOwnRstSuggestsInjection() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        // An in-window RST in the server's name, then the real server keeps sending data.
        harness.tcp(server, client, [.rst], seq: 5001, at: 0.01)
        harness.tcp(server, client, [.ack, .psh], seq: 5001, ack: 1001, payload: [4, 2], at: 0.02)
        harness.tcp(server, client, [.ack, .psh], seq: 5003, ack: 1001, payload: [4], at: 0.03)
        #expect(harness.events.anomalies(named: "stream.data_after_rst").count == 1)
        #expect(harness.events.alerts(named: "stream.rst_injection").count == 1)
        #expect(harness.consumer.toClientBytes == [4, 2, 4])
    }

    @Test func handshakeInvalidAck() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, at: 0.001)
        harness.tcp(client, server, [.ack], seq: 1, ack: 1, at: 0.002)
        let found = harness.events.anomalies(named: "stream.handshake_invalid_ack")
        #expect(found.count == 1)
        #expect(found.first?.message?.contains("but 1001 and 5001 were expected") == true)
        #expect(harness.table.flow(for: harness.makePacket(client, server, ipProtocol: 6, payloadCount: 0, at: 0.1))?
            .tcp?.handshakeComplete == false)
    }

    @Test func synWithDataIsFastOpen() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, payload: [0xAA, 0xBB], at: 0)
        harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1003, at: 0.001)
        harness.tcp(client, server, [.ack], seq: 1003, ack: 5001, at: 0.002)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.anomalies.isEmpty)
        #expect(harness.table.statistics.synWithData == 1)
        #expect(harness.flowBody()?["syn_with_data"] == .int(1))
        #expect(harness.consumer.toServerBytes == [0xAA, 0xBB])
    }

    @Test func reassemblerOverlapRaisesAnomalyAndAlert() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        let packet = harness.makePacket(client, server, ipProtocol: 6, payloadCount: 4, at: 0.1)
        let flow = harness.table.flow(for: packet)!
        let earlier = PacketReference(source: 0, number: 2)
        var observations = ReassemblyObservations()
        observations.overlapsWithDifferentData = [(earlier, 10), (packet.reference, 20)]
        harness.table.handle(observations, flow: flow, packet: packet)

        let found = harness.events.anomalies(named: "stream.retransmission_different_data")
        #expect(found.count == 1)
        #expect(found.first?.packets == [earlier, packet.reference])
        #expect(harness.events.alerts(named: "stream.overlap_evasion").count == 1)
        #expect(flow.anomalyCounts.first?.count == 2)
    }

    @Test func retransmissionWithDifferentBytes() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: Array("WRITE 1".utf8), at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: Array("WRITE 9".utf8), at: 0.2)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: Array("WRITE 8".utf8), at: 0.3)

        let found = harness.events.anomalies(named: "stream.retransmission_different_data")
        #expect(found.count == 1)
        // Packet 4 carried the first copy and packet 5 the first different one.
        #expect(found.first?.packets == [PacketReference(source: 0, number: 4), PacketReference(source: 0, number: 5)])
        #expect(found.first?.message?.contains("stream offset 6") == true)
        #expect(harness.events.alerts(named: "stream.overlap_evasion").count == 1)
        #expect(harness.consumer.toServerBytes == Array("WRITE 1".utf8))
    }

    @Test func identicalRetransmissionIsNormal() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: Array("WRITE 1".utf8), at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: Array("WRITE 1".utf8), at: 0.2)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
    }

    @Test func reassemblerOverflowRaisedOnce() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        let packet = harness.makePacket(client, server, ipProtocol: 6, payloadCount: 4, at: 0.1)
        let flow = harness.table.flow(for: packet)!
        var overflow = ReassemblyObservations()
        overflow.bufferOverflow = true
        harness.table.handle(overflow, flow: flow, packet: packet)
        harness.table.handle(overflow, flow: flow, packet: packet)
        #expect(harness.events.anomalies(named: "stream.reassembly_overflow").count == 1)
        harness.table.handle(ReassemblyObservations(), flow: flow, packet: packet)
        #expect(harness.anomalies.count == 1)
    }

    @Test func missedFinalAckIsNotNoHandshake() {
        let harness = FlowHarness()
        startCapture(harness)
        harness.tcp(client, server, [.syn], seq: 1000, at: 20)
        harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, at: 20.001)
        // The client's ACK was not captured; the server's reply shows it arrived.
        let update = harness.tcp(server, client, [.ack, .psh], seq: 5001, ack: 1001, payload: [1], at: 20.002)
        #expect(harness.anomalies.isEmpty)
        #expect(update?.flow.tcp?.handshakeComplete == true)
        #expect(harness.consumer.toClientBytes == [1])
    }

    @Test func rstAtReceiverAckIsInWindow() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [UInt8](repeating: 1, count: 1000), at: 0.01)
        harness.tcp(server, client, [.ack], seq: 5001, ack: 1001, at: 0.02)
        // The client resets at the sequence number the server acknowledged last.
        harness.tcp(client, server, [.rst], seq: 1001, window: 0, at: 0.03)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
    }

    @Test func rstNotAcknowledgingSynIsReported() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        // A reset in reply to the SYN must acknowledge 1001; this one acknowledges the SYN's own number.
        harness.tcp(server, client, [.rst, .ack], seq: 0, ack: 1000, window: 0, at: 0.001)
        harness.tcp(server, client, [.syn, .ack], seq: 5000, ack: 1001, at: 0.002)
        harness.tcp(client, server, [.ack], seq: 1001, ack: 5001, at: 0.003)
        harness.table.finish(at: FlowHarness.time(1))

        let found = harness.events.anomalies(named: "stream.rst_out_of_window")
        #expect(found.count == 1)
        #expect(found.first?.message?.contains("with acknowledgement 1000, but a reset answering the SYN with sequence 1000 must acknowledge 1001") == true)
        #expect(harness.events.alerts(named: "stream.rst_injection").count == 1)
        #expect(harness.flowBody()?["conn_state"] == "S1")
        #expect(harness.flowBody()?["history"] == "ShA")
    }

    @Test func rstBehindWindowIsReported() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.rst], seq: 1001 &- 5000, window: 0, at: 0.03)
        #expect(harness.events.anomalies(named: "stream.rst_out_of_window").count == 1)
    }

    @Test func shrunkWindowKeepsEarlierEdge() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(server, client, [.ack], seq: 5001, ack: 1001, window: 64_240, at: 0.01)
        harness.tcp(server, client, [.ack], seq: 5001, ack: 1001, window: 100, at: 0.02)
        harness.tcp(client, server, [.ack, .psh], seq: 61_001, ack: 5001, payload: [1], at: 0.03)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func anomalyEventShape() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .fin], seq: 1001, ack: 5001, at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1002, ack: 5001, payload: [7], at: 0.02)
        let event = harness.events.anomalies(named: "stream.data_after_fin").first
        guard case .object(let anomaly)? = event?.body["anomaly"] else {
            Issue.record("anomaly event without an anomaly member")
            return
        }
        #expect(anomaly["type"] == "stream")
        #expect(anomaly["layer"] == "tcp")
        #expect(anomaly["fin_sequence"] == .int(1001))
        #expect(event?.flow?.srcPort == 50000)
        #expect(event?.timestamp == FlowHarness.time(0.02))
    }

    @Test func catalogueListsEveryName() {
        let names = FlowCatalogue.anomalies.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.contains("stream.no_handshake_data"))
        #expect(names.contains("stream.flow_limit_reached"))
        #expect(names.allSatisfy { $0.hasPrefix("stream.") })
        let ids = FlowCatalogue.alerts.map(\.signatureID)
        #expect(ids.allSatisfy { (1000...1099).contains($0) })
        #expect(Set(ids).count == ids.count)
    }
}
