import WirecheckCore

/// The demo capture: one minute of a small plant network with normal polling and a handful of
/// findings an analyst should see. The README's first command analyses it.
///
/// Hosts: an HMI (10.20.1.10) polls two Modbus PLCs (10.20.1.21 and 10.20.1.22) every second and a
/// DNP3 outstation (10.20.1.30) every five seconds; an engineering workstation (10.20.1.50);
/// and a rogue laptop (10.20.1.66) that scans, spoofs ARP and writes to a PLC.
public struct DemoPlant {
    public struct Frame {
        public var timestamp: Timestamp
        public var bytes: [UInt8]
    }

    /// Capture start: 2024-03-04 08:00:00 UTC.
    public static let start = Timestamp(seconds: 1_709_539_200, nanoseconds: 0)

    static let hmi = IPAddress("10.20.1.10")!
    static let plc1 = IPAddress("10.20.1.21")!
    static let plc2 = IPAddress("10.20.1.22")!
    static let outstation = IPAddress("10.20.1.30")!
    static let workstation = IPAddress("10.20.1.50")!
    static let rogue = IPAddress("10.20.1.66")!

    // MAC addresses with real vendor prefixes: Rockwell (00:00:bc), Schneider (00:80:f4),
    // Siemens (00:1b:1b), SEL (00:30:a7), Dell (00:14:22) and an Intel laptop (00:1b:21).
    static let hmiMAC = MACAddress(0x0000_bc10_0010)
    static let plc1MAC = MACAddress(0x0080_f421_0021)
    static let plc2MAC = MACAddress(0x001b_1b22_0022)
    static let outstationMAC = MACAddress(0x0030_a730_0030)
    static let workstationMAC = MACAddress(0x0014_2250_0050)
    static let rogueMAC = MACAddress(0x001b_2166_0066)

    private var frames: [Frame] = []
    private var builder = PacketBuilder()

    public init() {}

    /// Builds every frame of the scenario in timestamp order.
    public static func frames() -> [Frame] {
        var plant = DemoPlant()
        plant.build()
        return plant.frames.enumerated().sorted {
            $0.element.timestamp != $1.element.timestamp ? $0.element.timestamp < $1.element.timestamp : $0.offset < $1.offset
        }.map(\.element)
    }

    private mutating func add(_ seconds: Double, _ bytes: [UInt8]) {
        frames.append(Frame(timestamp: DemoPlant.start.adding(seconds: seconds), bytes: bytes))
    }

    private static func link(_ source: MACAddress, _ destination: MACAddress) -> EthernetSpec {
        EthernetSpec(source: source, destination: destination)
    }

    private mutating func build() {
        addARPResolution()
        addMidstreamPolling()
        addPLC1Polling()
        addDNP3Polling()
        addScan()
        addARPSpoofing()
        addRogueWrite()
        addFlowsWithoutHandshake()
        addPortMismatches()
        addInvalidFlags()
    }

    // MARK: - Normal traffic

    private mutating func addARPResolution() {
        add(0.05, builder.arpRequest(senderMAC: DemoPlant.hmiMAC, senderIP: DemoPlant.hmi, targetIP: DemoPlant.plc1))
        add(0.0502, builder.arpReply(senderMAC: DemoPlant.plc1MAC, senderIP: DemoPlant.plc1, targetMAC: DemoPlant.hmiMAC,
                                    targetIP: DemoPlant.hmi))
    }

    /// HMI to PLC2: a connection already open when the capture starts (a mid-stream pickup).
    private mutating func addMidstreamPolling() {
        var session = TCPConversation(link: DemoPlant.link(DemoPlant.hmiMAC, DemoPlant.plc2MAC), client: DemoPlant.hmi,
                                      clientPort: 49_152, server: DemoPlant.plc2, serverPort: 502,
                                      clientInitialSequence: 7_000_000, serverInitialSequence: 9_000_000)
        var transaction: UInt16 = 400
        for second in 0..<60 {
            let time = Double(second) + 0.31
            add(time, session.clientSends(ModbusFrames.readHoldingRegisters(transaction: transaction, unit: 1, address: 100, count: 4)))
            add(time + 0.004, session.serverSends(ModbusFrames.readHoldingRegistersResponse(transaction: transaction, unit: 1, values: [21, 22, 23, UInt16(second)])))
            add(time + 0.005, session.acknowledge(from: .client))
            transaction &+= 1
        }
        for (offset, frame) in session.close(initiatedByClient: true).enumerated() {
            add(60.2 + Double(offset) * 0.001, frame)
        }
    }

    /// HMI to PLC1: a full session, polled every second. At 35 s an attacker injects a reset with
    /// a sequence number far outside the window; at 45 s a retransmission carries other bytes.
    private mutating func addPLC1Polling() {
        var session = TCPConversation(link: DemoPlant.link(DemoPlant.hmiMAC, DemoPlant.plc1MAC), client: DemoPlant.hmi,
                                      clientPort: 51_000, server: DemoPlant.plc1, serverPort: 502)
        for (offset, frame) in session.handshake().enumerated() {
            add(0.1 + Double(offset) * 0.0005, frame)
        }
        var transaction: UInt16 = 1
        for second in 1..<60 {
            let time = Double(second) + 0.1
            let request = ModbusFrames.readHoldingRegisters(transaction: transaction, unit: 1, address: 0, count: 10)
            add(time, session.clientSends(request))
            add(time + 0.003, session.serverSends(ModbusFrames.readHoldingRegistersResponse(transaction: transaction, unit: 1, values: (0..<10).map { UInt16($0 * 10 + second) })))
            add(time + 0.004, session.acknowledge(from: .client))
            if second == 35 {
                // A forged reset "from the PLC" whose sequence number is far outside the HMI's window.
                let spec = TCPSpec(sourcePort: 502, destinationPort: 51_000, sequence: session.serverSequence &+ 1_500_000_000,
                                   acknowledgement: session.clientSequence, flags: [.rst, .ack], window: 0)
                add(time + 0.2, builder.tcp(DemoPlant.link(DemoPlant.rogueMAC, DemoPlant.hmiMAC),
                                            ip: IPSpec(source: DemoPlant.plc1, destination: DemoPlant.hmi, ttl: 64),
                                            tcp: spec))
            }
            if second == 45 {
                // The last request's sequence range sent again, carrying a write in place of the read.
                let rewritten = ModbusFrames.writeSingleRegister(transaction: transaction, unit: 1, address: 7, value: 999)
                let spec = TCPSpec(sourcePort: 51_000, destinationPort: 502,
                                   sequence: session.clientSequence &- UInt32(rewritten.count),
                                   acknowledgement: session.serverSequence, flags: [.psh, .ack], window: 502)
                add(time + 0.3, builder.tcp(DemoPlant.link(DemoPlant.hmiMAC, DemoPlant.plc1MAC),
                                            ip: IPSpec(source: DemoPlant.hmi, destination: DemoPlant.plc1), tcp: spec,
                                            payload: rewritten))
            }
            transaction &+= 1
        }
        for (offset, frame) in session.close(initiatedByClient: true).enumerated() {
            add(60.1 + Double(offset) * 0.001, frame)
        }
    }

    /// HMI (DNP3 master, address 1) polls the outstation (address 10) for class 0 data every 5 s.
    private mutating func addDNP3Polling() {
        var session = TCPConversation(link: DemoPlant.link(DemoPlant.hmiMAC, DemoPlant.outstationMAC), client: DemoPlant.hmi,
                                      clientPort: 52_000, server: DemoPlant.outstation, serverPort: 20_000)
        for (offset, frame) in session.handshake().enumerated() {
            add(0.2 + Double(offset) * 0.0005, frame)
        }
        var sequence: UInt8 = 0
        for poll in 0..<12 {
            let time = 0.5 + Double(poll) * 5
            add(time, session.clientSends(DNP3Frames.classZeroRead(master: 1, outstation: 10, sequence: sequence)))
            add(time + 0.02, session.serverSends(DNP3Frames.nullResponse(master: 1, outstation: 10, sequence: sequence)))
            add(time + 0.021, session.acknowledge(from: .client))
            sequence = (sequence + 1) & 0x0f
        }
        for (offset, frame) in session.close(initiatedByClient: true).enumerated() {
            add(60.3 + Double(offset) * 0.001, frame)
        }
    }

    // MARK: - Findings

    /// At 20 s the rogue laptop sends SYNs to port 502 on 30 addresses; only the two PLCs respond.
    private mutating func addScan() {
        for host in 1...30 {
            let target = IPAddress.v4(0x0A14_0100 | UInt32(host))
            let time = 20 + Double(host) * 0.05
            let port = UInt16(40_000 + host)
            let syn = TCPSpec(sourcePort: port, destinationPort: 502, sequence: 77_000 + UInt32(host), flags: .syn,
                              window: 1024, options: [.maximumSegmentSize(1460)])
            add(time, builder.tcp(DemoPlant.link(DemoPlant.rogueMAC, MACAddress.broadcast),
                                  ip: IPSpec(source: DemoPlant.rogue, destination: target, ttl: 64), tcp: syn))
            if target == DemoPlant.plc1 || target == DemoPlant.plc2 {
                let mac = target == DemoPlant.plc1 ? DemoPlant.plc1MAC : DemoPlant.plc2MAC
                let synAck = TCPSpec(sourcePort: 502, destinationPort: port, sequence: 5_000, acknowledgement: 77_001 + UInt32(host),
                                     flags: [.syn, .ack], window: 8192)
                add(time + 0.001, builder.tcp(DemoPlant.link(mac, DemoPlant.rogueMAC),
                                              ip: IPSpec(source: target, destination: DemoPlant.rogue), tcp: synAck))
                let reset = TCPSpec(sourcePort: port, destinationPort: 502, sequence: 77_001 + UInt32(host), flags: .rst)
                add(time + 0.002, builder.tcp(DemoPlant.link(DemoPlant.rogueMAC, mac),
                                              ip: IPSpec(source: DemoPlant.rogue, destination: target), tcp: reset))
            }
        }
    }

    /// At 25 s the rogue laptop announces PLC1's address with its own MAC (ARP spoofing), and at
    /// 26 s sends a reply to no request.
    private mutating func addARPSpoofing() {
        add(25, builder.gratuitousARP(senderMAC: DemoPlant.rogueMAC, senderIP: DemoPlant.plc1))
        add(26, builder.arpReply(senderMAC: DemoPlant.rogueMAC, senderIP: DemoPlant.plc1, targetMAC: DemoPlant.hmiMAC,
                                 targetIP: DemoPlant.hmi))
    }

    /// At 30 s the rogue laptop connects to PLC1 and writes a holding register.
    private mutating func addRogueWrite() {
        var session = TCPConversation(link: DemoPlant.link(DemoPlant.rogueMAC, DemoPlant.plc1MAC), client: DemoPlant.rogue,
                                      clientPort: 43_210, server: DemoPlant.plc1, serverPort: 502)
        var time = 30.0
        for frame in session.handshake() {
            add(time, frame)
            time += 0.0005
        }
        add(30.01, session.clientSends(ModbusFrames.writeSingleRegister(transaction: 1, unit: 1, address: 40, value: 0)))
        add(30.013, session.serverSends(ModbusFrames.writeSingleRegister(transaction: 1, unit: 1, address: 40, value: 0)))
        add(30.02, session.clientSends(ModbusFrames.writeSingleCoil(transaction: 2, unit: 1, address: 3, on: false)))
        add(30.023, session.serverSends(ModbusFrames.writeSingleCoil(transaction: 2, unit: 1, address: 3, on: false)))
        time = 30.05
        for frame in session.close(initiatedByClient: true) {
            add(time, frame)
            time += 0.0005
        }
    }

    /// At 40 s data arrives on a connection that never had a handshake, and at 42 s a SYN-ACK
    /// arrives that answers no SYN.
    private mutating func addFlowsWithoutHandshake() {
        let data = TCPSpec(sourcePort: 44_444, destinationPort: 502, sequence: 123_456, acknowledgement: 654_321,
                           flags: [.psh, .ack], window: 1024)
        add(40, builder.tcp(DemoPlant.link(DemoPlant.rogueMAC, DemoPlant.plc2MAC),
                            ip: IPSpec(source: DemoPlant.rogue, destination: DemoPlant.plc2), tcp: data,
                            payload: ModbusFrames.readHoldingRegisters(transaction: 9, unit: 1, address: 0, count: 125)))
        let synAck = TCPSpec(sourcePort: 502, destinationPort: 45_555, sequence: 1_000, acknowledgement: 2_000,
                             flags: [.syn, .ack], window: 8192)
        add(42, builder.tcp(DemoPlant.link(DemoPlant.plc2MAC, DemoPlant.rogueMAC),
                            ip: IPSpec(source: DemoPlant.plc2, destination: DemoPlant.rogue), tcp: synAck))
    }

    /// At 50 s the engineering workstation speaks Modbus to port 8080 and HTTP to port 502.
    private mutating func addPortMismatches() {
        var modbusOnWebPort = TCPConversation(link: DemoPlant.link(DemoPlant.workstationMAC, DemoPlant.plc2MAC),
                                              client: DemoPlant.workstation, clientPort: 53_000,
                                              server: DemoPlant.plc2, serverPort: 8080)
        var time = 50.0
        for frame in modbusOnWebPort.handshake() { add(time, frame); time += 0.0005 }
        add(50.01, modbusOnWebPort.clientSends(ModbusFrames.readHoldingRegisters(transaction: 1, unit: 1, address: 0, count: 2)))
        add(50.012, modbusOnWebPort.serverSends(ModbusFrames.readHoldingRegistersResponse(transaction: 1, unit: 1, values: [1, 2])))
        time = 50.02
        for frame in modbusOnWebPort.close(initiatedByClient: true) { add(time, frame); time += 0.0005 }

        var httpOnModbusPort = TCPConversation(link: DemoPlant.link(DemoPlant.workstationMAC, DemoPlant.plc1MAC),
                                               client: DemoPlant.workstation, clientPort: 53_001,
                                               server: DemoPlant.plc1, serverPort: 502)
        time = 51.0
        for frame in httpOnModbusPort.handshake() { add(time, frame); time += 0.0005 }
        add(51.01, httpOnModbusPort.clientSends(Array("GET /config HTTP/1.1\r\nHost: 10.20.1.21\r\n\r\n".utf8)))
        time = 51.02
        for frame in httpOnModbusPort.close(initiatedByClient: true) { add(time, frame); time += 0.0005 }
    }

    /// At 55 s the rogue laptop sends a TCP segment with both SYN and FIN set.
    private mutating func addInvalidFlags() {
        let spec = TCPSpec(sourcePort: 46_000, destinationPort: 502, sequence: 42, flags: [.syn, .fin], window: 1024)
        add(55, builder.tcp(DemoPlant.link(DemoPlant.rogueMAC, DemoPlant.plc2MAC),
                            ip: IPSpec(source: DemoPlant.rogue, destination: DemoPlant.plc2), tcp: spec))
    }
}
