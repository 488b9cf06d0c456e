import WirecheckCore

/// The benchmark workload: a deterministic ICS traffic mix of any size with a chosen number of
/// concurrent flows.
///
/// `flows` session slots stay open at once. Each packet goes to a slot picked at random, so the
/// sessions interleave in time the way a busy plant network's do. A slot runs one session
/// (TCP handshake, protocol set-up, request and response exchanges, FIN close) and then starts
/// a new one with a fresh client port. Around the sessions the mix adds ARP, a few port scans
/// and malformed frames. Packets are 10 µs apart, so a 5-million-packet mix covers 50 seconds,
/// well within every idle timeout of the flow table.
public struct BenchmarkMix {
    public struct Parameters: Sendable, Equatable {
        public var packets: Int
        public var flows: Int
        public var seed: UInt64

        public init(packets: Int, flows: Int, seed: UInt64) {
            self.packets = packets
            self.flows = flows
            self.seed = seed
        }
    }

    /// Counts of what a generated mix contains.
    public struct Summary: Sendable {
        public var packets = 0
        public var bytes = 0
        public var sessions = 0
        public var sessionsByProtocol: [String: Int] = [:]
    }

    /// Capture start: 2024-06-03 06:00:00 UTC.
    public static let start = Timestamp(seconds: 1_717_394_400, nanoseconds: 0)
    static let packetSpacingNanoseconds: Int64 = 10_000
    /// One ARP request and reply about every this many packets.
    static let arpInterval = 997
    /// One malformed frame about every this many packets.
    static let malformedInterval = 4_999
    /// Port scans in the whole mix, each of `scanPorts` SYNs with RST replies.
    static let scanCount = 3
    static let scanPorts = 200
    /// Servers per protocol, and the fewest client hosts the mix uses.
    static let serversPerProtocol = 64
    static let minimumClients = 256
    /// Each client owns a block of this many source ports per slot, so live sessions never
    /// share a 5-tuple and a new session does not reuse the previous one's port at once.
    static let portsPerSlot = 200

    public let parameters: Parameters
    let clientCount: Int
    var random: SplitMix64
    var slots: [SessionSlot]
    var builder = PacketBuilder(capacity: 2048)
    public private(set) var summary = Summary()
    var scanStarts: [Int] = []
    var pending: [[UInt8]] = []

    /// - Precondition: `packets` and `flows` are at least 1; `flows` is at most 16 million so
    ///   that every slot gets a unique client address and port block.
    public init(_ parameters: Parameters) {
        precondition(parameters.packets >= 1 && parameters.flows >= 1 && parameters.flows <= 16_000_000,
                     "packets and flows must be at least 1, flows at most 16 million")
        self.parameters = parameters
        random = SplitMix64(seed: parameters.seed)
        let slotsPerClient = (65_535 - 1_024) / BenchmarkMix.portsPerSlot
        clientCount = max(BenchmarkMix.minimumClients, (parameters.flows + slotsPerClient - 1) / slotsPerClient)
        slots = [SessionSlot](repeating: SessionSlot(), count: parameters.flows)
        for index in 0..<slots.count { startSession(slot: index, generation: 0) }
        for scan in 0..<BenchmarkMix.scanCount {
            scanStarts.append(parameters.packets * (scan + 1) / (BenchmarkMix.scanCount + 1))
        }
    }

    /// Generates every packet in time order and calls `write` with its bytes and timestamp. The
    /// buffer is valid only during the call.
    public mutating func generate(_ write: (UnsafeRawBufferPointer, Timestamp) -> Void) {
        var index = 0
        while index < parameters.packets {
            let timestamp = Timestamp(nanoseconds: BenchmarkMix.start.nanoseconds &+ Int64(index) &* BenchmarkMix.packetSpacingNanoseconds)
            if pending.isEmpty { queueSideTraffic(at: index) }
            if !pending.isEmpty {
                let frame = pending.removeFirst()
                frame.withUnsafeBytes { write($0, timestamp) }
                count(frame.count)
            } else {
                let slot = Int(random.next() % UInt64(slots.count))
                let frame = nextFrame(slot: slot)
                frame.withUnsafeBytes { write($0, timestamp) }
                count(frame.count)
            }
            index += 1
        }
    }

    private mutating func count(_ length: Int) {
        summary.packets += 1
        summary.bytes += length
    }

    // MARK: Side traffic

    /// Queues ARP, scan and malformed frames at their positions in the mix.
    private mutating func queueSideTraffic(at index: Int) {
        if let scan = scanStarts.firstIndex(of: index) {
            queueScan(number: scan)
        } else if index % BenchmarkMix.arpInterval == BenchmarkMix.arpInterval - 1 {
            queueARP()
        } else if index % BenchmarkMix.malformedInterval == BenchmarkMix.malformedInterval - 1 {
            queueMalformed(kind: index / BenchmarkMix.malformedInterval)
        }
    }

    private mutating func queueARP() {
        let client = clientAddress(Int(random.next() % UInt64(clientCount)))
        let server = serverAddress(kind: .modbus, index: Int(random.next() % UInt64(BenchmarkMix.serversPerProtocol)))
        pending.append(builder.arpRequest(senderMAC: BenchmarkMix.mac(client), senderIP: .v4(client), targetIP: .v4(server)))
        pending.append(builder.arpReply(senderMAC: BenchmarkMix.mac(server), senderIP: .v4(server),
                                        targetMAC: BenchmarkMix.mac(client), targetIP: .v4(client)))
    }

    /// Queues a port scan: a scanner in 10.66.0.0/16 sends SYNs to consecutive ports of one server, which resets them.
    private mutating func queueScan(number: Int) {
        let scanner: UInt32 = 0x0A42_0000 | UInt32(number + 1)
        let target = serverAddress(kind: .modbus, index: number % BenchmarkMix.serversPerProtocol)
        let link = EthernetSpec(source: BenchmarkMix.mac(scanner), destination: BenchmarkMix.mac(target))
        let ip = IPSpec(source: .v4(scanner), destination: .v4(target))
        for port in 0..<BenchmarkMix.scanPorts {
            let destinationPort = UInt16(1 + port)
            let sequence = UInt32(truncatingIfNeeded: random.next())
            let syn = TCPSpec(sourcePort: 40_000 + UInt16(number), destinationPort: destinationPort, sequence: sequence,
                              flags: .syn, window: 1024)
            pending.append(builder.tcp(link, ip: ip, tcp: syn))
            let reset = TCPSpec(sourcePort: destinationPort, destinationPort: 40_000 + UInt16(number), sequence: 0,
                                acknowledgement: sequence &+ 1, flags: [.rst, .ack], window: 0)
            pending.append(builder.tcp(link.reversed, ip: ip.reversed, tcp: reset))
        }
    }

    /// Frames a decoder must reject: a truncated IPv4 header, a header length below 20 bytes,
    /// an IPv4 total length beyond the frame, and a TCP data offset below 5.
    private mutating func queueMalformed(kind: Int) {
        let client = clientAddress(kind % clientCount)
        let server = serverAddress(kind: .modbus, index: kind % BenchmarkMix.serversPerProtocol)
        let link = EthernetSpec(source: BenchmarkMix.mac(client), destination: BenchmarkMix.mac(server))
        let ip = IPSpec(source: .v4(client), destination: .v4(server))
        var frame = builder.tcp(link, ip: ip, tcp: TCPSpec(sourcePort: 50_000, destinationPort: 502, flags: .ack), payload: [])
        switch kind % 4 {
        case 0:
            frame.removeLast(frame.count - 24)
        case 1:
            frame[14] = 0x44
        case 2:
            frame[16] = 0x05
            frame[17] = 0xDC
        default:
            frame[14 + 20 + 12] = 0x30
        }
        pending.append(frame)
    }

    // MARK: Addresses

    /// Clients live in 10.2.0.0/16 and up, servers in 10.1.<protocol>.0/24.
    func clientAddress(_ index: Int) -> UInt32 {
        0x0A02_0000 &+ UInt32(truncatingIfNeeded: index + 10)
    }

    func serverAddress(kind: SessionKind, index: Int) -> UInt32 {
        0x0A01_0000 | UInt32(kind.rawValue) << 8 | UInt32(10 + index)
    }

    /// Derives a locally administered MAC address from the IPv4 address.
    static func mac(_ address: UInt32) -> MACAddress {
        MACAddress(0x0200_0000_0000 | UInt64(address))
    }

    // MARK: Sessions

    /// Starts a new session in `slot` with a protocol, server and length drawn from the seed.
    mutating func startSession(slot index: Int, generation: UInt32) {
        let kind = SessionKind.draw(random.next())
        let slotsPerClient = (65_535 - 1_024) / BenchmarkMix.portsPerSlot
        let clientIndex = index % clientCount
        let portBlock = (index / clientCount) % slotsPerClient
        var slot = SessionSlot()
        slot.kind = kind
        slot.generation = generation
        slot.client = clientAddress(clientIndex)
        slot.server = serverAddress(kind: kind, index: Int(random.next() % UInt64(BenchmarkMix.serversPerProtocol)))
        slot.clientPort = UInt16(1_024 + portBlock * BenchmarkMix.portsPerSlot + Int(generation % UInt32(BenchmarkMix.portsPerSlot)))
        slot.clientSequence = UInt32(truncatingIfNeeded: random.next())
        slot.serverSequence = UInt32(truncatingIfNeeded: random.next())
        slot.exchanges = UInt16(4 + random.next() % 60)
        slots[index] = slot
        summary.sessions += 1
        summary.sessionsByProtocol[kind.name, default: 0] += 1
    }

    /// Builds the next frame of the session in `slot`, starting the next session when it ends.
    mutating func nextFrame(slot index: Int) -> [UInt8] {
        var slot = slots[index]
        let frame: [UInt8]
        if slot.kind == .bacnet {
            frame = bacnetFrame(&slot)
        } else {
            frame = tcpFrame(&slot)
        }
        slot.step &+= 1
        if slot.finished {
            slots[index] = slot
            startSession(slot: index, generation: slot.generation &+ 1)
        } else {
            slots[index] = slot
        }
        return frame
    }

    private mutating func tcpFrame(_ slot: inout SessionSlot) -> [UInt8] {
        let messageCount = Int(slot.kind.setupMessages) + 2 * Int(slot.exchanges)
        let step = Int(slot.step)
        switch step {
        case 0:
            return segment(&slot, fromClient: true, flags: .syn, payload: [])
        case 1:
            return segment(&slot, fromClient: false, flags: [.syn, .ack], payload: [])
        case 2:
            return segment(&slot, fromClient: true, flags: .ack, payload: [])
        case 3..<(3 + messageCount):
            let message = step - 3
            let fromClient = message % 2 == 0
            let payload = applicationMessage(&slot, message: message)
            return segment(&slot, fromClient: fromClient, flags: [.psh, .ack], payload: payload)
        default:
            let closing = step - 3 - messageCount
            if closing >= 3 { slot.finished = true }
            switch closing {
            case 0: return segment(&slot, fromClient: true, flags: [.fin, .ack], payload: [])
            case 1: return segment(&slot, fromClient: false, flags: .ack, payload: [])
            case 2: return segment(&slot, fromClient: false, flags: [.fin, .ack], payload: [])
            default: return segment(&slot, fromClient: true, flags: .ack, payload: [])
            }
        }
    }

    private mutating func segment(_ slot: inout SessionSlot, fromClient: Bool, flags: TCPHeaderFlags, payload: [UInt8]) -> [UInt8] {
        let source = fromClient ? slot.client : slot.server
        let destination = fromClient ? slot.server : slot.client
        let link = EthernetSpec(source: BenchmarkMix.mac(source), destination: BenchmarkMix.mac(destination))
        let ip = IPSpec(source: .v4(source), destination: .v4(destination), identification: UInt16(truncatingIfNeeded: slot.step))
        let sequence = fromClient ? slot.clientSequence : slot.serverSequence
        var acknowledgement: UInt32 = 0
        if flags.contains(.ack) { acknowledgement = fromClient ? slot.serverSequence : slot.clientSequence }
        let serverPort = slot.kind.serverPort
        let spec = TCPSpec(sourcePort: fromClient ? slot.clientPort : serverPort,
                           destinationPort: fromClient ? serverPort : slot.clientPort,
                           sequence: sequence, acknowledgement: acknowledgement, flags: flags, window: 64_240)
        var advance = UInt32(truncatingIfNeeded: payload.count)
        if flags.contains(.syn) { advance &+= 1 }
        if flags.contains(.fin) { advance &+= 1 }
        if fromClient { slot.clientSequence &+= advance } else { slot.serverSequence &+= advance }
        return builder.tcp(link, ip: ip, tcp: spec, payload: payload)
    }

    /// UDP request and response pairs; the session ends after its exchanges, without a close.
    private mutating func bacnetFrame(_ slot: inout SessionSlot) -> [UInt8] {
        let message = Int(slot.step)
        let fromClient = message % 2 == 0
        let invokeID = UInt8(truncatingIfNeeded: message / 2)
        let instance = UInt32(slot.server & 0xff)
        let payload = fromClient
            ? BACnetFrames.readPresentValue(invokeID: invokeID, instance: instance)
            : BACnetFrames.readPresentValueAck(invokeID: invokeID, instance: instance, value: Float(message) * 0.5)
        if message + 1 >= 2 * Int(slot.exchanges) { slot.finished = true }
        let source = fromClient ? slot.client : slot.server
        let destination = fromClient ? slot.server : slot.client
        let link = EthernetSpec(source: BenchmarkMix.mac(source), destination: BenchmarkMix.mac(destination))
        let ip = IPSpec(source: .v4(source), destination: .v4(destination))
        let serverPort = slot.kind.serverPort
        return builder.udp(link, ip: ip, sourcePort: fromClient ? slot.clientPort : serverPort,
                           destinationPort: fromClient ? serverPort : slot.clientPort, payload: payload)
    }
}

/// A pseudo-random generator with a 64-bit state (SplitMix64, Steele, Lea and Flood 2014), so a
/// seed gives the same mix on every platform and Swift version.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
