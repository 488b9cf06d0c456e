import CPcap
import Testing
import WirecheckCore
import WirecheckDecoding

/// Decodes the fixture written by Scripts/fixtures/decoder_anomalies.py and compares the
/// anomalies of each packet with the script's list of cases.
@Suite struct DecodingFixtureTests {
    static let fixture = SampleCaptures.packageRoot.appendingPathComponent("Tests/Fixtures/decode/decoder-anomalies.pcap").path

    /// Expected anomaly names per packet number; packets not listed raise none.
    static let expected: [UInt64: [String]] = [
        2: ["decoder.tcp.data_offset_invalid"],
        3: ["decoder.tcp.window_scale_invalid"],
        4: ["decoder.tcp.flags_syn_fin"],
        5: ["decoder.tcp.flags_none"],
        6: ["decoder.tcp.flags_fin_psh_urg"],
        7: ["decoder.tcp.port_zero"],
        8: ["decoder.tcp.checksum_invalid"],
        9: ["decoder.udp.length_invalid"],
        10: ["decoder.udp.checksum_invalid"],
        11: ["decoder.ipv4.header_length_invalid"],
        12: ["decoder.ipv4.total_length_invalid"],
        13: ["decoder.ipv4.checksum_invalid"],
        14: ["decoder.ethernet.unknown_ethertype"],
        15: ["decoder.arp.invalid"],
        16: ["decoder.ipv6.payload_length_invalid"],
        17: ["decoder.ipv6.extension_header_invalid"],
        18: ["decoder.ip.same_source_destination"],
        23: ["decoder.ipv4.fragment_overlap_different_data"],
    ]

    @Test func anomaliesPerPacket() throws {
        let result = try #require(SampleCaptures.decode(path: Self.fixture))
        var byPacket: [UInt64: [String]] = [:]
        for event in result.harness.events.events {
            guard let name = event.anomalyName, let packet = event.packets.first else { continue }
            byPacket[packet.number, default: []].append(name)
        }
        #expect(result.packets == 26)
        for number in UInt64(1)...UInt64(result.packets) {
            #expect(byPacket[number, default: []] == Self.expected[number, default: []], "packet \(number)")
        }
        let statistics = result.harness.decoder.statistics
        #expect(statistics.reassembledDatagrams == 1)
        #expect(statistics.vxlan == 1)
        #expect(statistics.gre == 1)
    }
}
