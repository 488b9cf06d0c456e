import Testing
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckDetection

private let gatewayMAC = MACAddress(0x02_00_00_00_00_01)
private let plcMAC = MACAddress(0x02_00_00_00_00_20)
private let attackerMAC = MACAddress(0x02_00_00_00_00_66)
private let gatewayIP: UInt32 = 0x0A00_0001   // 10.0.0.1
private let plcIP: UInt32 = 0x0A00_0014       // 10.0.0.20

private final class ARPFactory {
    private var number: UInt64 = 0
    private let start = Timestamp(seconds: 1_764_000_000, nanoseconds: 0)

    func packet(_ operation: UInt16, senderMAC: MACAddress, senderIP: UInt32, targetMAC: MACAddress,
                targetIP: UInt32, destinationMAC: MACAddress? = nil, at seconds: Double) -> DecodedPacket {
        number += 1
        var packet = DecodedPacket()
        packet.timestamp = start.adding(seconds: seconds)
        packet.reference = PacketReference(source: 0, number: number)
        packet.network = .arp
        packet.etherType = 0x0806
        packet.sourceMAC = senderMAC
        packet.destinationMAC = destinationMAC ?? (operation == 1 ? .broadcast : targetMAC)
        packet.arp = ARPFields(operation: operation, senderMAC: senderMAC, senderIP: senderIP, targetMAC: targetMAC,
                               targetIP: targetIP)
        return packet
    }

    func request(from mac: MACAddress, _ ip: UInt32, asking target: UInt32, at seconds: Double) -> DecodedPacket {
        packet(1, senderMAC: mac, senderIP: ip, targetMAC: .zero, targetIP: target, at: seconds)
    }

    func reply(from mac: MACAddress, _ ip: UInt32, to targetMAC: MACAddress, _ target: UInt32,
               at seconds: Double) -> DecodedPacket {
        packet(2, senderMAC: mac, senderIP: ip, targetMAC: targetMAC, targetIP: target, at: seconds)
    }
}

private func severity(_ event: Event) -> Int64? {
    guard case .object(let alert)? = event.body["alert"], case .int(let value)? = alert["severity"] else { return nil }
    return value
}

@Suite struct ARPMonitorTests {
    @Test func requestReplyPairsNeverAlert() {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        for round in 0..<20 {
            let seconds = Double(round) * 30
            monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: seconds))
            monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: seconds + 0.001))
            // A duplicate reply to the same request is not unsolicited.
            monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: seconds + 0.002))
        }
        #expect(events.events.isEmpty)
        #expect(monitor.statistics.requests == 20)
        #expect(monitor.statistics.replies == 40)
        #expect(monitor.statistics.trackedBindings == 2)
    }

    @Test func gratuitousAnnouncementInformational() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: plcMAC, plcIP, asking: plcIP, at: 0))
        monitor.observe(factory.request(from: plcMAC, plcIP, asking: plcIP, at: 60))

        let alerts = events.alerts(named: "arp.gratuitous")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(severity(alert) == 3)
        #expect(alert.message == "02:00:00:00:00:20 announced 10.0.0.20 in a gratuitous ARP request; "
            + "the binding is new or unchanged.")
        #expect(alert.endpoints?.srcMAC == plcMAC)
        #expect(alert.endpoints?.srcIP == IPAddress("10.0.0.20"))
        #expect(alert.packets == [PacketReference(source: 0, number: 1)])
        #expect(events.alerts(named: "arp.ip_mac_changed").isEmpty)
    }

    @Test func gratuitousRebindingIsSevere() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: 0))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 0.001))
        // A broadcast reply that claims the PLC's address for another MAC.
        monitor.observe(factory.packet(2, senderMAC: attackerMAC, senderIP: plcIP, targetMAC: .broadcast,
                                       targetIP: plcIP, destinationMAC: .broadcast, at: 10))

        // One alert for the packet: the change alert, which says the ARP was gratuitous.
        #expect(events.alerts(named: "arp.gratuitous").isEmpty)
        let changed = try #require(events.alerts(named: "arp.ip_mac_changed").first)
        #expect(severity(changed) == 1)
        #expect(changed.message?.hasPrefix("A gratuitous ARP reply moved 10.0.0.20 from MAC 02:00:00:00:00:20") == true)
        #expect(events.alerts(named: "arp.unsolicited_reply").isEmpty)
    }

    @Test func macChangeNamesBothBindings() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: 0))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 0.001))
        monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: 100))
        monitor.observe(factory.reply(from: attackerMAC, plcIP, to: gatewayMAC, gatewayIP, at: 100.001))

        let alerts = events.alerts(named: "arp.ip_mac_changed")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.message == "An ARP reply moved 10.0.0.20 from MAC 02:00:00:00:00:20 "
            + "(seen 2025-11-24T16:00:00.001000+0000 to 2025-11-24T16:00:00.001000+0000) to MAC 02:00:00:00:00:66 "
            + "(first seen 2025-11-24T16:01:40.001000+0000).")
        #expect(alert.packets == [PacketReference(source: 0, number: 4)])
        #expect(events.alerts(named: "arp.unsolicited_reply").isEmpty)
        #expect(events.alerts(named: "arp.gratuitous").isEmpty)
    }

    @Test func unsolicitedReplyReported() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 0))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 1))

        let alerts = events.alerts(named: "arp.unsolicited_reply")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(severity(alert) == 2)
        #expect(alert.message == "02:00:00:00:00:20 sent an ARP reply claiming 10.0.0.20 to 10.0.0.1 "
            + "(02:00:00:00:00:01), which sent no request for it in the previous 5 s.")
        #expect(alert.endpoints?.destMAC == gatewayMAC)
    }

    @Test func lateReplyIsUnsolicited() {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: 0))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 6))
        #expect(events.alerts(named: "arp.unsolicited_reply").count == 1)
    }

    @Test func unsolicitedRebindingIsSevere() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: plcIP, at: 0))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: gatewayMAC, gatewayIP, at: 0.001))
        monitor.observe(factory.reply(from: attackerMAC, plcIP, to: gatewayMAC, gatewayIP, at: 20))

        let unsolicited = try #require(events.alerts(named: "arp.unsolicited_reply").first)
        #expect(severity(unsolicited) == 1)
        #expect(events.alerts(named: "arp.ip_mac_changed").count == 1)
    }

    @Test func probesBindNothing() {
        let events = EventCollector()
        let monitor = ARPMonitor(sink: events)
        let factory = ARPFactory()
        monitor.observe(factory.request(from: plcMAC, plcIP, asking: plcIP, at: 0))
        // Another device probes the same address (RFC 5227), and the owner defends it.
        monitor.observe(factory.request(from: attackerMAC, 0, asking: plcIP, at: 10))
        monitor.observe(factory.reply(from: plcMAC, plcIP, to: attackerMAC, 0, at: 10.001))

        #expect(events.alerts(named: "arp.ip_mac_changed").isEmpty)
        #expect(events.alerts(named: "arp.unsolicited_reply").isEmpty)
        #expect(events.alerts(named: "arp.gratuitous").count == 1)
        #expect(monitor.statistics.probes == 1)
        #expect(monitor.statistics.trackedBindings == 1)
    }

    @Test func bindingLimitBoundsMemory() throws {
        let events = EventCollector()
        let monitor = ARPMonitor(configuration: ARPConfiguration(maxBindings: 3), sink: events)
        let factory = ARPFactory()
        for host in UInt32(1)...5 {
            monitor.observe(factory.request(from: MACAddress(0x02_00_00_00_01_00 | UInt64(host)), 0x0A00_0100 | host,
                                            asking: gatewayIP, at: Double(host)))
        }
        #expect(monitor.statistics.trackedBindings == 3)
        #expect(monitor.statistics.bindingOverruns == 2)
        let anomalies = events.anomalies(named: "arp.binding_limit_reached")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.packets == [PacketReference(source: 0, number: 4)])
    }

    @Test func pendingLimitSuppressesUnsolicited() {
        let events = EventCollector()
        let monitor = ARPMonitor(configuration: ARPConfiguration(maxPendingRequests: 2), sink: events)
        let factory = ARPFactory()
        for host in UInt32(1)...4 {
            monitor.observe(factory.request(from: gatewayMAC, gatewayIP, asking: 0x0A00_0200 | host, at: 0))
        }
        monitor.observe(factory.reply(from: plcMAC, 0x0A00_0204, to: gatewayMAC, gatewayIP, at: 0.01))
        #expect(monitor.statistics.pendingOverruns == 2)
        #expect(events.alerts(named: "arp.unsolicited_reply").isEmpty)
        #expect(events.anomalies(named: "arp.binding_limit_reached").count == 1)
    }

    @Test func catalogueNamesUnique() {
        let alertNames = DetectionCatalogue.alerts.map(\.name)
        let signatureIDs = DetectionCatalogue.alerts.map(\.signatureID)
        #expect(Set(alertNames).count == alertNames.count)
        #expect(Set(signatureIDs).count == signatureIDs.count)
        #expect(signatureIDs.allSatisfy { (1100...1199).contains($0) })
        #expect(DetectionCatalogue.anomalies.map(\.name).contains("arp.binding_limit_reached"))
    }
}
