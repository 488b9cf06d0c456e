import Testing
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckFlows

/// Community ID v1 against the published baseline of the specification (baseline_deflt.json in
/// corelight/community-id-spec, seed 0, base64).
@Suite struct CommunityIDTests {
    @Test func tcpVectorBothDirections() {
        let forward = CommunityID.compute(sourceIP: IPAddress("128.232.110.120")!, destinationIP: IPAddress("66.35.250.204")!,
                                          ipProtocol: 6, sourcePort: 34855, destinationPort: 80)
        let backward = CommunityID.compute(sourceIP: IPAddress("66.35.250.204")!, destinationIP: IPAddress("128.232.110.120")!,
                                           ipProtocol: 6, sourcePort: 80, destinationPort: 34855)
        #expect(forward == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        #expect(backward == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
    }

    @Test func udpVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("8.8.8.8")!, destinationIP: IPAddress("192.168.1.52")!,
                                        ipProtocol: 17, sourcePort: 53, destinationPort: 54585)
        #expect(value == "1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
    }

    @Test func icmpEchoVectorBothDirections() {
        let request = CommunityID.compute(sourceIP: IPAddress("192.168.0.89")!, destinationIP: IPAddress("192.168.0.1")!,
                                          ipProtocol: 1, sourcePort: 8, destinationPort: 0)
        let reply = CommunityID.compute(sourceIP: IPAddress("192.168.0.1")!, destinationIP: IPAddress("192.168.0.89")!,
                                        ipProtocol: 1, sourcePort: 0, destinationPort: 8)
        #expect(request == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        #expect(reply == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
    }

    @Test func icmpOneWayVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("10.0.0.1")!, destinationIP: IPAddress("10.0.0.2")!,
                                        ipProtocol: 1, sourcePort: 11, destinationPort: 0)
        #expect(value == "1:YHxtAirCG//0OzkcVAukqKQN9xM=")
    }

    @Test func ipv6TCPVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("2607:f8b0:400c:c03::1a")!,
                                        destinationIP: IPAddress("2001:470:e5bf:dead:4957:2174:e82c:4887")!,
                                        ipProtocol: 6, sourcePort: 25, destinationPort: 63943)
        #expect(value == "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=")
    }

    @Test func icmpv6NeighborVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("fe80::200:86ff:fe05:80da")!,
                                        destinationIP: IPAddress("fe80::260:97ff:fe07:69ea")!,
                                        ipProtocol: 58, sourcePort: 135, destinationPort: 136)
        #expect(value == "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=")
    }

    @Test func icmpv6OneWayVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("3ffe:501:1800:2345::2")!,
                                        destinationIP: IPAddress("3ffe:507:0:1:200:86ff:fe05:80da")!,
                                        ipProtocol: 58, sourcePort: 3, destinationPort: 0)
        #expect(value == "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=")
    }

    @Test func protocolWithoutPortsVector() {
        let value = CommunityID.compute(sourceIP: IPAddress("10.1.12.2")!, destinationIP: IPAddress("10.1.12.1")!,
                                        ipProtocol: 46, sourcePort: 0, destinationPort: 0)
        #expect(value == "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=")
    }

    @Test func base64Padding() {
        #expect(CommunityID.base64(Array("f".utf8)) == "Zg==")
        #expect(CommunityID.base64(Array("fo".utf8)) == "Zm8=")
        #expect(CommunityID.base64(Array("foo".utf8)) == "Zm9v")
    }
}

@Suite struct FlowTableTests {
    let client = "10.0.0.5:50000"
    let server = "10.0.0.20:502"

    /// Handshake, one request and response, FIN from both sides.
    func runNormalConnection(_ harness: FlowHarness) {
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2, 3, 4], at: 0.01)
        harness.tcp(server, client, [.ack], seq: 5001, ack: 1005, at: 0.015)
        harness.tcp(server, client, [.ack, .psh], seq: 5001, ack: 1005, payload: [9, 8], at: 0.02)
        harness.tcp(client, server, [.ack, .fin], seq: 1005, ack: 5003, at: 0.03)
        harness.tcp(server, client, [.ack, .fin], seq: 5003, ack: 1006, at: 0.04)
        harness.tcp(client, server, [.ack], seq: 1006, ack: 5004, at: 0.05)
    }

    @Test func normalConnectionIsSF() {
        let harness = FlowHarness()
        runNormalConnection(harness)
        harness.table.finish(at: FlowHarness.time(1))

        #expect(harness.anomalies.isEmpty)
        #expect(harness.flowEvents.count == 1)
        let body = harness.flowBody()
        #expect(body?["conn_state"] == "SF")
        #expect(body?["history"] == "ShADadFf")
        #expect(body?["state"] == "closed")
        #expect(body?["reason"] == "shutdown")
        #expect(body?["pkts_toserver"] == .int(5))
        #expect(body?["pkts_toclient"] == .int(4))
        #expect(body?["midstream"] == false)
        #expect(body?["alerted"] == false)
        #expect(body?["start"] == "2024-03-01T12:00:00.000000+0000")
        #expect(harness.consumer.toServerBytes == [1, 2, 3, 4])
        #expect(harness.consumer.toClientBytes == [9, 8])
        #expect(harness.consumer.endedFlows.count == 1)
    }

    @Test func flowContextOrientedFromOriginator() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        let update = harness.tcp(server, client, [.ack], seq: 5001, ack: 1001, at: 0.1)
        let context = update?.flow.context
        #expect(update?.toServer == false)
        #expect(context?.srcIP == IPAddress("10.0.0.5"))
        #expect(context?.srcPort == 50000)
        #expect(context?.destIP == IPAddress("10.0.0.20"))
        #expect(context?.destPort == 502)
        #expect(context?.communityID == CommunityID.compute(sourceIP: IPAddress("10.0.0.5")!, destinationIP: IPAddress("10.0.0.20")!,
                                                            ipProtocol: 6, sourcePort: 50000, destinationPort: 502))
        #expect((context?.flowID ?? 0) > 0)
        #expect((context?.flowID ?? 0) < (1 << 52))
        #expect(harness.table.statistics.flowsCreated == 1)
    }

    @Test func flowIDIsStableAcrossRuns() {
        let first = FlowHarness()
        let second = FlowHarness()
        first.handshake(client, server, at: 0)
        second.handshake(client, server, at: 0)
        let firstID = first.table.process(first.makePacket(client, server, ipProtocol: 6, payloadCount: 0, at: 0), payload: .init(start: nil, count: 0))
        #expect(firstID != nil)
        first.table.finish(at: FlowHarness.time(1))
        second.table.finish(at: FlowHarness.time(1))
        #expect(first.flowEvents.first?.flow?.flowID == second.flowEvents.first?.flow?.flowID)
    }

    @Test func finAfterMissingBytesRecordsGap() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(server, client, [.ack, .fin], seq: 8001, ack: 1001, at: 0.1)
        #expect(harness.table.flow(for: harness.makePacket(client, server, ipProtocol: 6, payloadCount: 0, at: 0.2))?.history == "ShAfg")
    }

    @Test func synThenAckThenFinThenRstIsOTH() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(server, client, [.ack], seq: 5000, ack: 1001, at: 0.001)
        harness.tcp(client, server, [.fin], seq: 1001, at: 0.002)
        harness.tcp(client, server, [.rst], seq: 1002, at: 0.003)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["history"] == "SaFR")
        #expect(harness.flowBody()?["conn_state"] == "OTH")
    }

    @Test func synThenRstIsRSTOS0() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(client, server, [.rst], seq: 1001, at: 0.003)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["history"] == "SR")
        #expect(harness.flowBody()?["conn_state"] == "RSTOS0")
    }

    @Test func synOnlyIsS0() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "S0")
        #expect(harness.flowBody()?["history"] == "S")
        #expect(harness.flowBody()?["state"] == "new")
        #expect(harness.anomalies.isEmpty)
    }

    @Test func resetAnswerIsREJ() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(server, client, [.rst, .ack], seq: 0, ack: 1001, window: 0, at: 0.001)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "REJ")
        #expect(harness.flowBody()?["history"] == "Sr")
        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
    }

    @Test func originatorResetIsRSTO() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1], at: 0.01)
        harness.tcp(client, server, [.rst, .ack], seq: 1002, ack: 5001, at: 0.02)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "RSTO")
        #expect(harness.flowBody()?["history"] == "ShADR")
        #expect(harness.anomalies.isEmpty)
    }

    @Test func responderResetIsRSTR() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(server, client, [.rst, .ack], seq: 5001, ack: 1001, at: 0.02)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "RSTR")
        #expect(harness.flowBody()?["history"] == "ShAr")
    }

    @Test func synThenFinIsSH() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.tcp(client, server, [.fin], seq: 1001, at: 0.5)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "SH")
        #expect(harness.flowBody()?["history"] == "SF")
    }

    @Test func establishedWithoutCloseIsS1() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(harness.flowBody()?["conn_state"] == "S1")
        #expect(harness.flowBody()?["state"] == "established")
    }

    @Test func midstreamPickupIsOTH() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.ack, .psh], seq: 7000, ack: 9000, payload: [0, 1, 0, 0, 0, 6], at: 0.5)
        harness.tcp(server, client, [.ack, .psh], seq: 9000, ack: 7006, payload: [0, 1], at: 0.6)
        harness.table.finish(at: FlowHarness.time(2))

        #expect(harness.anomalies.isEmpty)
        #expect(harness.table.statistics.midstreamPickups == 1)
        let body = harness.flowBody()
        #expect(body?["conn_state"] == "OTH")
        #expect(body?["history"] == "Dd")
        #expect(body?["midstream"] == true)
        #expect(body?["state"] == "established")
        #expect(harness.consumer.toServerBytes == [0, 1, 0, 0, 0, 6])
        #expect(harness.consumer.toClientBytes == [0, 1])
    }

    @Test func midstreamResponderFirstIsFlipped() {
        let harness = FlowHarness()
        let update = harness.tcp(server, client, [.ack, .psh], seq: 9000, ack: 7000, payload: [1], at: 0.1)
        #expect(update?.toServer == false)
        #expect(update?.flow.context.srcPort == 50000)
        #expect(update?.flow.context.destPort == 502)
        #expect(update?.flow.history == "^d")
    }

    @Test func midstreamBothICSPortsLowerIsResponder() {
        let harness = FlowHarness()
        let update = harness.tcp("10.0.0.2:502", "10.0.0.1:20000", [.ack], seq: 1, ack: 1, at: 0.1)
        #expect(update?.toServer == false)
        #expect(update?.flow.context.destPort == 502)
    }

    @Test func udpServicePortSenderIsResponder() {
        let harness = FlowHarness()
        let reply = harness.udp("10.0.0.30:47808", "10.0.0.9:51000", payload: [0x81], at: 0)
        harness.udp("10.0.0.9:51000", "10.0.0.30:47808", payload: [0x81, 0x0a], at: 0.1)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(reply?.toServer == false)
        #expect(harness.flowBody()?["conn_state"] == "SF")
        #expect(harness.flowBody()?["history"] == "^dD")
        #expect(harness.consumer.datagrams.count == 2)
        #expect(harness.consumer.datagrams.first?.toServer == false)
    }

    @Test func udpSameServicePortsFirstSenderIsOriginator() {
        let harness = FlowHarness()
        let first = harness.udp("10.0.0.30:47808", "10.0.0.31:47808", payload: [0x81], at: 0)
        harness.table.finish(at: FlowHarness.time(1))
        #expect(first?.toServer == true)
        #expect(harness.flowBody()?["conn_state"] == "S0")
        #expect(harness.table.statistics.udpFlows == 1)
    }

    @Test func icmpEchoRequestAndReplyShareFlow() {
        let harness = FlowHarness()
        let request = harness.icmp("192.168.0.89", "192.168.0.1", type: 8, at: 0)
        let reply = harness.icmp("192.168.0.1", "192.168.0.89", type: 0, at: 0.001)
        #expect(request?.flow === reply?.flow)
        #expect(reply?.toServer == false)
        #expect(request?.flow.context.communityID == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        #expect(harness.table.statistics.icmpFlows == 1)
    }

    @Test func idleTimeoutEndsFlows() {
        let harness = FlowHarness()
        harness.udp("10.0.0.9:51000", "10.0.0.30:47808", payload: [1], at: 0)
        harness.table.expire(now: FlowHarness.time(100))
        #expect(harness.flowEvents.isEmpty)
        harness.table.expire(now: FlowHarness.time(121))
        #expect(harness.flowEvents.count == 1)
        #expect(harness.flowBody()?["reason"] == "timeout")
        #expect(harness.flowBody()?["end"] == "2024-03-01T12:02:00.000000+0000")
        #expect(harness.table.statistics.activeFlows == 0)
        #expect(harness.table.statistics.flowsEnded == 1)
    }

    @Test func closedTCPUsesShortTimeout() {
        let harness = FlowHarness()
        runNormalConnection(harness)
        harness.table.expire(now: FlowHarness.time(31))
        #expect(harness.flowEvents.count == 1)
        #expect(harness.table.statistics.connStates[.sf] == 1)
    }

    @Test func establishedTCPUsesLongTimeout() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.table.expire(now: FlowHarness.time(599))
        #expect(harness.flowEvents.isEmpty)
        harness.table.expire(now: FlowHarness.time(601))
        #expect(harness.flowEvents.count == 1)
    }

    @Test func packetTimeDrivesExpiry() {
        let harness = FlowHarness()
        harness.tcp(client, server, [.syn], seq: 1000, at: 0)
        harness.udp("10.0.0.9:51000", "10.0.0.30:47808", payload: [1], at: 40)
        #expect(harness.flowEvents.count == 1)
        #expect(harness.flowBody()?["conn_state"] == "S0")
    }

    @Test func flowCapEvictsOldestOnce() {
        var configuration = FlowConfiguration()
        configuration.maxFlows = 2
        let harness = FlowHarness(configuration: configuration)
        for index in 0..<4 {
            harness.udp("10.0.0.\(index + 1):40000", "10.0.0.100:47808", payload: [1], at: Double(index))
        }
        #expect(harness.table.statistics.flowsEvicted == 2)
        #expect(harness.table.statistics.activeFlows == 2)
        #expect(harness.events.anomalies(named: "stream.flow_limit_reached").count == 1)
        #expect(harness.flowEvents.count == 2)
        #expect(harness.flowBody()?["reason"] == "forced")
        #expect(harness.flowEvents.first?.flow?.srcIP == IPAddress("10.0.0.1"))
    }

    @Test func synAfterCloseStartsNewFlow() {
        let harness = FlowHarness()
        runNormalConnection(harness)
        harness.tcp(client, server, [.syn], seq: 80_000, at: 5)
        #expect(harness.flowEvents.count == 1)
        #expect(harness.table.statistics.flowsCreated == 2)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func windowScaleNeedsBothSyns() {
        let scaled = FlowHarness()
        scaled.handshake(client, server, at: 0, clientScale: 7, serverScale: 8)
        let update = scaled.tcp(client, server, [.ack], seq: 1001, ack: 5001, window: 100, at: 0.1)
        #expect(update?.flow.tcp?.originator.window == 100 << 7)

        let unscaled = FlowHarness()
        unscaled.handshake(client, server, at: 0, clientScale: 7)
        let other = unscaled.tcp(client, server, [.ack], seq: 1001, ack: 5001, window: 100, at: 0.1)
        #expect(other?.flow.tcp?.originator.window == 100)
    }

    @Test func retransmissionAndZeroWindowHistory() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2], at: 0.01)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2], at: 0.2)
        harness.tcp(server, client, [.ack], seq: 5001, ack: 1003, window: 0, at: 0.3)
        #expect(harness.table.flow(for: harness.makePacket(client, server, ipProtocol: 6, payloadCount: 0, at: 0.4))?.history == "ShADTwa")
        #expect(harness.consumer.toServerBytes == [1, 2])
    }

    @Test func flowEventCarriesTCPFlags() {
        let harness = FlowHarness()
        runNormalConnection(harness)
        harness.table.finish(at: FlowHarness.time(1))
        guard case .object(let tcp)? = harness.flowBody()?["tcp"] else {
            Issue.record("flow event without a tcp member")
            return
        }
        #expect(tcp["tcp_flags"] == "1b")
        #expect(tcp["tcp_flags_ts"] == "1b")
        #expect(tcp["tcp_flags_tc"] == "1b")
        #expect(tcp["syn"] == true)
        #expect(tcp["rst"] == false)
    }

    @Test func unreassembledFragmentHasNoFlow() {
        let harness = FlowHarness()
        var packet = harness.makePacket("10.0.0.9:51000", "10.0.0.30:47808", ipProtocol: 17, payloadCount: 0, at: 0)
        packet.isFragment = true
        #expect(harness.table.process(packet, payload: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        packet.isReassembled = true
        #expect(harness.table.process(packet, payload: UnsafeRawBufferPointer(start: nil, count: 0)) != nil)
    }

    @Test func nonIPPacketHasNoFlow() {
        let harness = FlowHarness()
        var packet = DecodedPacket()
        packet.network = .arp
        #expect(harness.table.process(packet, payload: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        #expect(harness.table.statistics.flowsCreated == 0)
    }

    @Test func vlansSeparateFlows() {
        let harness = FlowHarness()
        var first = harness.makePacket("10.0.0.9:51000", "10.0.0.30:47808", ipProtocol: 17, payloadCount: 0, at: 0)
        first.vlanCount = 1
        first.vlan0 = 10
        var second = first
        second.vlan0 = 20
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let firstFlow = harness.table.process(first, payload: empty)?.flow
        let secondFlow = harness.table.process(second, payload: empty)?.flow
        #expect(firstFlow !== secondFlow)
        #expect(firstFlow?.context.vlans == [10])
        #expect(harness.table.statistics.flowsCreated == 2)
    }

    @Test func ipv6FlowMatchesBothDirections() {
        let harness = FlowHarness()
        let request = harness.udp("[2001:db8::1]:40000", "[2001:db8::2]:47808", payload: [1], at: 0)
        let reply = harness.udp("[2001:db8::2]:47808", "[2001:db8::1]:40000", payload: [2], at: 0.1)
        #expect(request?.flow === reply?.flow)
        #expect(reply?.toServer == false)
    }

    @Test func retransmissionLetterRepeatsAtTen() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2], at: 0.01)
        for index in 1...10 {
            harness.tcp(client, server, [.ack, .psh], seq: 1001, ack: 5001, payload: [1, 2], at: 0.01 + Double(index))
        }
        let flow = harness.table.flow(for: harness.makePacket(client, server, ipProtocol: 6, payloadCount: 0, at: 11))
        #expect(flow?.history == "ShADTT")
    }

    @Test func statisticsCountCreatedAndMax() {
        let harness = FlowHarness()
        harness.handshake(client, server, at: 0)
        harness.udp("10.0.0.9:51000", "10.0.0.30:47808", payload: [1], at: 0.1)
        harness.table.finish(at: FlowHarness.time(1))
        let statistics = harness.table.statistics
        #expect(statistics.flowsCreated == 2)
        #expect(statistics.flowsEnded == 2)
        #expect(statistics.maxActiveFlows == 2)
        #expect(statistics.tcpFlows == 1)
        #expect(statistics.udpFlows == 1)
        #expect(statistics.connStates[.s1] == 1)
        #expect(statistics.flowsByProtocol == ["TCP": 1, "UDP": 1])
    }
}
