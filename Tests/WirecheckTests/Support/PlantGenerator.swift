import WirecheckCore
import WirecheckSynthesis

/// A deterministic plant for learn-then-detect tests. The HMI polls two Modbus PLCs once a second
/// (±20 ms jitter, two units on the first PLC) and the engineering workstation polls a DNP3
/// outstation every 5 s. Hosts resolve each other with ARP every minute, and the HMI reconnects
/// to the second PLC every 5 minutes.
///
/// One generator produces consecutive time windows that continue the same TCP sessions, so the
/// second capture picks up the sessions of the first one mid-stream:
///
///     var plant = PlantGenerator()
///     let learning = plant.capture(from: 0, to: 600)
///     let detection = plant.capture(from: 600, to: 1200, injections: [...])
///
/// Poll times depend only on the poller and the poll number, not on how the time is split into files.
struct PlantGenerator {
    enum Poller: Int, CaseIterable {
        /// HMI → PLC 1, Modbus read_holding_registers on units 1 and 2.
        case plc1
        /// HMI → PLC 2, Modbus read_holding_registers on unit 1; reconnects every `reconnectPeriod`.
        case plc2
        /// Workstation → outstation, DNP3 class 0 read every 5 s.
        case dnp3
    }

    /// A block of registers one poll reads.
    struct RegisterBlock {
        var unit: UInt8
        var address: UInt16
        var count: UInt16
    }

    static let modbusPort: UInt16 = 502
    static let dnp3Port: UInt16 = 20_000
    static let dnp3Master: UInt16 = 1
    static let dnp3Outstation: UInt16 = 10
    /// Maximum poll jitter either way, in seconds.
    static let jitter = 0.020
    /// The HMI closes and reopens its PLC 2 session this often, in seconds.
    static let reconnectPeriod = 300
    /// ARP request and reply pairs repeat this often, in seconds.
    static let arpPeriod = 60.0

    static let plc1Blocks = [RegisterBlock(unit: 1, address: 0, count: 10), RegisterBlock(unit: 2, address: 100, count: 4)]
    static let plc2Blocks = [RegisterBlock(unit: 1, address: 0, count: 8)]

    /// A frame with its time in seconds after `ScenarioCapture.start` and its order of creation,
    /// which breaks ties between frames built for the same time.
    struct TimedFrame {
        var time: Double
        var order: Int
        var bytes: [UInt8]
    }

    /// A frame or exchange added to a window beside the plant's normal traffic. `session` builds
    /// frames on one poller's TCP session, in time order with its polls, so sequence numbers stay
    /// continuous. `frames` adds standalone frames.
    enum Injection {
        case session(Poller, at: Double, build: (inout TCPConversation, Double) -> [(Double, [UInt8])])
        case frames([(Double, [UInt8])])
    }

    private(set) var sessions: [Poller: TCPConversation] = [:]
    private var transactions: [Poller: UInt16] = [:]
    private var builder = PacketBuilder()
    private var frames: [TimedFrame] = []
    /// Added to every time, so a second day of the same plant can start a day later with fresh sessions.
    let dayOffset: Double

    init(dayOffset: Double = 0) {
        self.dayOffset = dayOffset
    }

    static func period(of poller: Poller) -> Double { poller == .dnp3 ? 5 : 1 }
    static func phase(of poller: Poller) -> Double { [0.100, 0.350, 0.600][poller.rawValue] }

    /// Time of poll `number`, jittered by a hash of the poller and the number.
    static func pollTime(_ poller: Poller, _ number: Int) -> Double {
        var state = UInt64(poller.rawValue) << 40 | UInt64(number)
        state = splitMix(state)
        let unit = Double(state >> 11) / Double(UInt64(1) << 53)
        return phase(of: poller) + Double(number) * period(of: poller) + (unit * 2 - 1) * jitter
    }

    static func splitMix(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func client(of poller: Poller) -> IPAddress { poller == .dnp3 ? ScenarioHosts.workstation : ScenarioHosts.hmi }

    static func server(of poller: Poller) -> IPAddress {
        switch poller {
        case .plc1: return ScenarioHosts.plc1
        case .plc2: return ScenarioHosts.plc2
        case .dnp3: return ScenarioHosts.outstation
        }
    }

    /// Client port of a poller's session; PLC 2 moves to the next port at each reconnection.
    static func clientPort(of poller: Poller, poll number: Int) -> UInt16 {
        switch poller {
        case .plc1: return 49_200
        case .plc2: return 49_300 + UInt16((number + reconnectPeriod / 2) / reconnectPeriod)
        case .dnp3: return 49_400
        }
    }

    /// True when PLC 2's session is closed and reopened just before poll `number`.
    static func reconnects(_ poller: Poller, before number: Int) -> Bool {
        poller == .plc2 && number > 0 && number % reconnectPeriod == reconnectPeriod / 2
    }

    // MARK: Windows

    /// Builds the plant's frames for `[from, to)` seconds, minus the polls `skip` returns true
    /// for, plus `injections`, and returns them as a capture in time order.
    mutating func capture(from: Double, to: Double, injections: [Injection] = [],
                          skip: (Poller, Int) -> Bool = { _, _ in false }) -> ScenarioCapture {
        frames = []
        for poller in Poller.allCases {
            var events: [(time: Double, poll: Int?, injection: Int?)] = []
            let period = PlantGenerator.period(of: poller)
            let first = max(0, Int((from / period).rounded(.down)) - 1)
            var number = first
            while true {
                let time = PlantGenerator.pollTime(poller, number)
                if time >= to { break }
                if time >= from && !skip(poller, number) { events.append((time, number, nil)) }
                number += 1
            }
            for (index, injection) in injections.enumerated() {
                if case .session(let target, let time, _) = injection, target == poller { events.append((time, nil, index)) }
            }
            events.sort { $0.time < $1.time }
            for event in events {
                if let poll = event.poll {
                    addPoll(poller, number: poll, at: event.time)
                } else if let index = event.injection, case .session(_, _, let build) = injections[index] {
                    var session = openSession(poller, poll: PlantGenerator.pollNumber(poller, near: event.time), at: event.time)
                    for (time, bytes) in build(&session, event.time) { add(time, bytes) }
                    sessions[poller] = session
                }
            }
        }
        addARP(from: from, to: to)
        for injection in injections {
            if case .frames(let list) = injection {
                for (time, bytes) in list { add(time, bytes) }
            }
        }
        frames.sort { $0.time != $1.time ? $0.time < $1.time : $0.order < $1.order }
        var capture = ScenarioCapture()
        for frame in frames { capture.add(dayOffset + frame.time, frame.bytes) }
        frames = []
        return capture
    }

    static func pollNumber(_ poller: Poller, near time: Double) -> Int {
        max(0, Int(((time - phase(of: poller)) / period(of: poller)).rounded(.down)))
    }

    private mutating func add(_ time: Double, _ bytes: [UInt8]) {
        frames.append(TimedFrame(time: time, order: frames.count, bytes: bytes))
    }

    /// Returns the poller's open session, opening it with a handshake just before `time` when
    /// there is none, and reconnecting it when the poll is a reconnection point.
    private mutating func openSession(_ poller: Poller, poll number: Int, at time: Double) -> TCPConversation {
        let port = PlantGenerator.clientPort(of: poller, poll: number)
        if var session = sessions[poller] {
            guard session.clientPort != port else { return session }
            for (index, frame) in session.close(initiatedByClient: true).enumerated() { add(time - 0.300 + Double(index) * 0.001, frame) }
        }
        var session = ScenarioHosts.conversation(PlantGenerator.client(of: poller), port, PlantGenerator.server(of: poller),
                                                 poller == .dnp3 ? PlantGenerator.dnp3Port : PlantGenerator.modbusPort,
                                                 clientSequence: 1_000 + UInt32(port) * 7, serverSequence: 70_000 + UInt32(port) * 11)
        for (index, frame) in session.handshake().enumerated() { add(time - 0.200 + Double(index) * 0.001, frame) }
        return session
    }

    private mutating func addPoll(_ poller: Poller, number: Int, at time: Double) {
        var session = openSession(poller, poll: number, at: time)
        switch poller {
        case .plc1, .plc2:
            let blocks = poller == .plc1 ? PlantGenerator.plc1Blocks : PlantGenerator.plc2Blocks
            for (index, block) in blocks.enumerated() {
                let start = time + Double(index) * 0.010
                for (offset, bytes) in PlantGenerator.read(block, session: &session, transactions: &transactions[poller, default: 0]) {
                    add(start + offset, bytes)
                }
            }
        case .dnp3:
            let sequence = UInt8(truncatingIfNeeded: number & 0x0f)
            add(time, session.clientSends(DNP3Frames.classZeroRead(master: PlantGenerator.dnp3Master,
                                                                   outstation: PlantGenerator.dnp3Outstation, sequence: sequence)))
            add(time + 0.008, session.serverSends(DNP3Frames.nullResponse(master: PlantGenerator.dnp3Master,
                                                                          outstation: PlantGenerator.dnp3Outstation, sequence: sequence)))
        }
        sessions[poller] = session
    }

    /// Builds a read_holding_registers request and its response 4 ms later, as offsets from the request time.
    static func read(_ block: RegisterBlock, session: inout TCPConversation, transactions: inout UInt16) -> [(Double, [UInt8])] {
        transactions &+= 1
        let request = ModbusFrames.readHoldingRegisters(transaction: transactions, unit: block.unit, address: block.address,
                                                        count: block.count)
        let values = (0..<block.count).map { UInt16($0) &* 10 &+ block.address }
        let response = ModbusFrames.readHoldingRegistersResponse(transaction: transactions, unit: block.unit, values: values)
        return [(0, session.clientSends(request)), (0.004, session.serverSends(response))]
    }

    /// ARP request and reply pairs: the HMI resolves PLC 2, the workstation resolves the outstation.
    private mutating func addARP(from: Double, to: Double) {
        // Pairs start 30 s into each minute, so none falls on a window boundary.
        var time = ((from - 30) / PlantGenerator.arpPeriod).rounded(.up) * PlantGenerator.arpPeriod + 30
        while time < to {
            for (offset, pair) in [(ScenarioHosts.hmi, ScenarioHosts.plc2), (ScenarioHosts.workstation, ScenarioHosts.outstation)].enumerated() {
                let (asker, target) = pair
                let at = time + Double(offset) * 0.5
                add(at, builder.arpRequest(senderMAC: ScenarioHosts.mac(of: asker), senderIP: asker, targetIP: target))
                add(at + 0.001, builder.arpReply(senderMAC: ScenarioHosts.mac(of: target), senderIP: target,
                                                 targetMAC: ScenarioHosts.mac(of: asker), targetIP: asker))
            }
            time += PlantGenerator.arpPeriod
        }
    }
}
