import Testing
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckDetection

/// Builds decoded TCP, UDP and ICMP packets and numbers them in order.
private final class PacketFactory {
    private var number: UInt64 = 0
    private let start = Timestamp(seconds: 1_764_000_000, nanoseconds: 0)

    func time(_ seconds: Double) -> Timestamp { start.adding(seconds: seconds) }

    private func base(_ source: String, _ destination: String, at seconds: Double) -> DecodedPacket {
        number += 1
        var packet = DecodedPacket()
        packet.timestamp = time(seconds)
        packet.reference = PacketReference(source: 0, number: number)
        packet.network = .ipv4
        packet.sourceIP = IPAddress(source)!
        packet.destinationIP = IPAddress(destination)!
        packet.hasTransport = true
        return packet
    }

    func tcp(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16,
             _ flags: TCPFlags, at seconds: Double) -> DecodedPacket {
        var packet = base(source, destination, at: seconds)
        packet.ipProtocol = IPProtocolNumber.tcp
        packet.sourcePort = sourcePort
        packet.destinationPort = destinationPort
        var fields = TCPFields()
        fields.flags = flags
        packet.tcp = fields
        return packet
    }

    func udp(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16,
             at seconds: Double) -> DecodedPacket {
        var packet = base(source, destination, at: seconds)
        packet.ipProtocol = IPProtocolNumber.udp
        packet.sourcePort = sourcePort
        packet.destinationPort = destinationPort
        return packet
    }

    func icmp(_ source: String, _ destination: String, type: UInt8, code: UInt8, at seconds: Double) -> DecodedPacket {
        var packet = base(source, destination, at: seconds)
        packet.ipProtocol = IPProtocolNumber.icmp
        packet.icmpType = type
        packet.icmpCode = code
        return packet
    }
}

private func scanDetails(_ event: Event) -> JSONObject? {
    guard case .object(let alert)? = event.body["alert"], case .object(let scan)? = alert["scan"] else { return nil }
    return scan
}

/// Feeds a full TCP handshake from `client` to `server`.
private func handshake(_ detector: ScanDetector, _ factory: PacketFactory, client: String, clientPort: UInt16,
                       server: String, port: UInt16, at seconds: Double) {
    detector.observe(factory.tcp(client, clientPort, server, port, [.syn], at: seconds))
    detector.observe(factory.tcp(server, port, client, clientPort, [.syn, .ack], at: seconds + 0.001))
    detector.observe(factory.tcp(client, clientPort, server, port, [.ack], at: seconds + 0.002))
}

@Suite struct ScanDetectorTests {
    @Test func horizontalScanDetectedOnce() throws {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for host in 1...45 {
            let seconds = Double(host) * 0.01
            detector.observe(factory.tcp("10.0.0.66", 40000, "10.0.1.\(host)", 502, [.syn], at: seconds))
            if host <= 2 {
                // Two hosts answer; the scanner resets instead of completing the handshake.
                detector.observe(factory.tcp("10.0.1.\(host)", 502, "10.0.0.66", 40000, [.syn, .ack], at: seconds + 0.001))
                detector.observe(factory.tcp("10.0.0.66", 40000, "10.0.1.\(host)", 502, [.rst], at: seconds + 0.002))
            }
        }
        // Later traffic moves packet time past the answer timeout.
        handshake(detector, factory, client: "10.0.0.1", clientPort: 50000, server: "10.0.0.2", port: 502, at: 5)
        detector.finish(at: factory.time(6))

        let alerts = events.alerts(named: "scan.horizontal")
        #expect(alerts.count == 1)
        #expect(events.alerts(named: "scan.vertical").isEmpty)
        let alert = try #require(alerts.first)
        #expect(alert.message == "10.0.0.66 probed 45 hosts on TCP port 502 in under 1 s; 43 never answered, "
            + "2 were left half-open after a SYN-ACK.")
        #expect(alert.endpoints?.srcIP == IPAddress("10.0.0.66"))
        #expect(alert.packets.count == 5)
        #expect(alert.packets.first?.number == 1)
        let details = try #require(scanDetails(alert))
        #expect(details["hosts_probed"] == .int(45))
        #expect(details["never_answered"] == .int(43))
        #expect(details["half_open"] == .int(2))
        #expect(details["hosts_failed"] == .int(45))
        if case .array(let hosts)? = details["failed_hosts"] {
            #expect(hosts.count == 20)
            #expect(hosts.first == .string("10.0.1.1"))
        } else {
            Issue.record("hosts list missing")
        }
        #expect(details["ports"] == .array([.int(502)]))
        #expect(detector.statistics.horizontalAlerts == 1)
    }

    @Test func verticalScanOfRejectedPorts() throws {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for port in UInt16(1)...30 {
            let seconds = Double(port) * 0.1
            detector.observe(factory.tcp("10.0.0.66", 41000, "10.0.0.20", port, [.syn], at: seconds))
            detector.observe(factory.tcp("10.0.0.20", port, "10.0.0.66", 41000, [.rst, .ack], at: seconds + 0.001))
        }
        detector.finish(at: factory.time(10))

        let alerts = events.alerts(named: "scan.vertical")
        #expect(alerts.count == 1)
        #expect(events.alerts(named: "scan.horizontal").isEmpty)
        let alert = try #require(alerts.first)
        // Rejected attempts count without waiting for the answer timeout, so the once-per-second
        // check at 2.1 s finds ports 1 to 20 rejected.
        let details = try #require(scanDetails(alert))
        #expect(details["ports_probed"] == .int(20))
        #expect(details["ports_failed"] == .int(20))
        #expect(details["rejected"] == .int(20))
        #expect(details["host"] == .string("10.0.0.20"))
        #expect(alert.endpoints?.destIP == IPAddress("10.0.0.20"))
        #expect(alert.message?.hasPrefix("10.0.0.66 probed 20 TCP ports on 10.0.0.20 in 2 s (failed: 1, 2, 3") == true)
        #expect(alert.message?.hasSuffix("20 were rejected.") == true)
    }

    @Test func pollingWithHandshakesNeverAlerts() {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        // A master reconnects to 30 outstations every 10 s for 10 minutes.
        var clientPort: UInt16 = 50000
        for round in 0..<60 {
            for outstation in 1...30 {
                clientPort &+= 1
                handshake(detector, factory, client: "10.0.0.1", clientPort: clientPort, server: "10.0.2.\(outstation)",
                          port: 20000, at: Double(round) * 10 + Double(outstation) * 0.05)
            }
        }
        detector.finish(at: factory.time(700))
        #expect(events.events.isEmpty)
        #expect(detector.statistics.attempts == 1800)
    }

    @Test func burstOfConnectionsWithinTimeoutNotFailed() {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        // SYNs to 25 hosts at once; the answers arrive within a second.
        for host in 1...25 {
            detector.observe(factory.tcp("10.0.0.1", UInt16(50000 + host), "10.0.3.\(host)", 502, [.syn], at: 0))
        }
        for host in 1...25 {
            let port = UInt16(50000 + host)
            detector.observe(factory.tcp("10.0.3.\(host)", 502, "10.0.0.1", port, [.syn, .ack], at: 0.5))
            detector.observe(factory.tcp("10.0.0.1", port, "10.0.3.\(host)", 502, [.ack], at: 0.6))
        }
        detector.expire(now: factory.time(10))
        detector.finish(at: factory.time(10))
        #expect(events.events.isEmpty)
    }

    @Test func udpProbesRejectedByICMP() throws {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for host in 1...25 {
            let seconds = Double(host) * 0.2
            detector.observe(factory.udp("10.0.0.66", 47808, "10.0.4.\(host)", 47808, at: seconds))
            detector.observe(factory.icmp("10.0.4.\(host)", "10.0.0.66", type: 3, code: 3, at: seconds + 0.001))
        }
        detector.finish(at: factory.time(10))

        let alert = try #require(events.alerts(named: "scan.horizontal").first)
        #expect(events.alerts(named: "scan.horizontal").count == 1)
        #expect(alert.message?.hasPrefix("10.0.0.66 probed 20 hosts on UDP port 47808") == true)
        #expect(alert.endpoints?.ipProtocol == IPProtocolNumber.udp)
    }

    @Test func udpRepliesAndBroadcastsNeverAlert() {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for host in 1...40 {
            let seconds = Double(host) * 0.1
            detector.observe(factory.udp("10.0.0.5", 40000, "10.0.5.\(host)", 161, at: seconds))
            detector.observe(factory.udp("10.0.5.\(host)", 161, "10.0.0.5", 40000, at: seconds + 0.01))
            detector.observe(factory.udp("10.0.0.7", 47808, "255.255.255.255", 47808, at: seconds))
            detector.observe(factory.udp("10.0.0.7", 47808, "224.0.0.\(host)", 47808, at: seconds))
        }
        detector.finish(at: factory.time(20))
        #expect(events.events.isEmpty)
    }

    @Test func newEpisodeAfterQuietWindow() {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for episode in 0..<2 {
            for host in 1...40 {
                let seconds = Double(episode) * 200 + Double(host) * 0.5
                detector.observe(factory.tcp("10.0.0.66", 40000, "10.0.6.\(host)", 102, [.syn], at: seconds))
            }
        }
        detector.finish(at: factory.time(300))
        #expect(events.alerts(named: "scan.horizontal").count == 2)
    }

    @Test func sourceLimitBoundsMemory() {
        let events = EventCollector()
        let detector = ScanDetector(configuration: ScanConfiguration(maxSources: 10), sink: events)
        let factory = PacketFactory()
        for source in 1...50 {
            detector.observe(factory.tcp("10.1.0.\(source)", 40000, "10.0.0.20", 502, [.syn], at: Double(source) * 0.01))
        }
        #expect(detector.statistics.trackedSources == 10)
        #expect(detector.statistics.evictedSources == 40)
        #expect(events.anomalies(named: "scan.source_limit_reached").count == 1)
    }

    @Test func targetLimitBoundsMemory() {
        let events = EventCollector()
        let configuration = ScanConfiguration(horizontalThreshold: 5, maxTargetsPerSource: 8)
        let detector = ScanDetector(configuration: configuration, sink: events)
        let factory = PacketFactory()
        for host in 1...100 {
            detector.observe(factory.tcp("10.0.0.66", 40000, "10.0.7.\(host)", 502, [.syn], at: Double(host) * 0.01))
        }
        #expect(detector.statistics.evictedTargets == 92)
        detector.finish(at: factory.time(5))
        #expect(events.alerts(named: "scan.horizontal").count == 1)
    }

    @Test func pingSweepDetected() throws {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for host in 1...30 {
            let seconds = Double(host) * 0.1
            detector.observe(factory.icmp("10.0.0.66", "10.0.8.\(host)", type: 8, code: 0, at: seconds))
            if host <= 2 {
                detector.observe(factory.icmp("10.0.8.\(host)", "10.0.0.66", type: 0, code: 0, at: seconds + 0.001))
            }
        }
        detector.finish(at: factory.time(4))

        let alert = try #require(events.alerts(named: "scan.horizontal").first)
        #expect(events.alerts(named: "scan.horizontal").count == 1)
        #expect(events.alerts(named: "scan.vertical").isEmpty)
        #expect(alert.message == "10.0.0.66 probed 30 hosts with ICMP echo requests in 3 s; 28 never answered.")
        #expect(alert.endpoints?.ipProtocol == IPProtocolNumber.icmp)
        let details = try #require(scanDetails(alert))
        #expect(details["ports"] == .array([]))
    }

    @Test func answeredPingsNeverAlert() {
        let events = EventCollector()
        let detector = ScanDetector(sink: events)
        let factory = PacketFactory()
        for round in 0..<5 {
            for host in 1...40 {
                let seconds = Double(round) * 60 + Double(host) * 0.1
                detector.observe(factory.icmp("10.0.0.9", "10.0.9.\(host)", type: 8, code: 0, at: seconds))
                detector.observe(factory.icmp("10.0.9.\(host)", "10.0.0.9", type: 0, code: 0, at: seconds + 0.002))
            }
        }
        detector.finish(at: factory.time(400))
        #expect(events.events.isEmpty)
    }
}
