/// The protocol of one benchmark session, with its server port and share of the mix.
enum SessionKind: UInt8, CaseIterable {
    case modbus = 1
    case dnp3
    case iec104
    case enip
    case s7comm
    case bacnet
    case opcua
    case tls

    var name: String {
        switch self {
        case .modbus: return "modbus"
        case .dnp3: return "dnp3"
        case .iec104: return "iec104"
        case .enip: return "enip"
        case .s7comm: return "s7comm"
        case .bacnet: return "bacnet"
        case .opcua: return "opcua"
        case .tls: return "tls"
        }
    }

    var serverPort: UInt16 {
        switch self {
        case .modbus: return 502
        case .dnp3: return 20_000
        case .iec104: return 2_404
        case .enip: return 44_818
        case .s7comm: return 102
        case .bacnet: return 47_808
        case .opcua: return 4_840
        case .tls: return 443
        }
    }

    /// Messages before the first request: connection set-up of the protocol, alternating
    /// client and server like the exchanges after them.
    var setupMessages: UInt16 {
        switch self {
        case .modbus, .dnp3, .bacnet: return 0
        case .iec104, .enip, .tls: return 2
        case .s7comm, .opcua: return 4
        }
    }

    /// Share of sessions in percent: Modbus most, as on most plant networks.
    var percent: UInt64 {
        switch self {
        case .modbus: return 25
        case .dnp3, .iec104, .enip, .s7comm: return 12
        case .bacnet, .tls: return 10
        case .opcua: return 7
        }
    }

    static func draw(_ value: UInt64) -> SessionKind {
        var remaining = value % 100
        for kind in allCases {
            if remaining < kind.percent { return kind }
            remaining -= kind.percent
        }
        return .modbus
    }
}

/// The state of one concurrent session: its hosts, both TCP sequence numbers and its progress.
/// Kept small because a mix may hold a million of them.
struct SessionSlot {
    var kind: SessionKind = .modbus
    var finished = false
    /// Packets sent so far in this session.
    var step: UInt16 = 0
    /// Request and response pairs after the set-up.
    var exchanges: UInt16 = 0
    var generation: UInt32 = 0
    var client: UInt32 = 0
    var server: UInt32 = 0
    var clientPort: UInt16 = 0
    var clientSequence: UInt32 = 0
    var serverSequence: UInt32 = 0
}

extension BenchmarkMix {
    /// Builds the payload of application message `message` (0-based, even from the client) of a TCP
    /// session: first the protocol's set-up messages, then request and response pairs.
    func applicationMessage(_ slot: inout SessionSlot, message: Int) -> [UInt8] {
        let setup = Int(slot.kind.setupMessages)
        let exchange = (message - setup) / 2
        let fromClient = message % 2 == 0
        let serverLow = UInt16(slot.server & 0xff)
        switch slot.kind {
        case .modbus:
            return modbusMessage(exchange: exchange, fromClient: fromClient, unit: UInt8(truncatingIfNeeded: serverLow))
        case .dnp3:
            let sequence = UInt8(exchange & 0x0f)
            return fromClient
                ? DNP3Frames.classZeroRead(master: 1, outstation: 10 + serverLow, sequence: sequence)
                : DNP3Frames.nullResponse(master: 1, outstation: 10 + serverLow, sequence: sequence)
        case .iec104:
            return iec104Message(message: message, exchange: exchange, commonAddress: serverLow)
        case .enip:
            return enipMessage(message: message, exchange: exchange, session: 0x1000 | UInt32(slot.clientPort))
        case .s7comm:
            return s7Message(message: message, exchange: exchange)
        case .opcua:
            return opcuaMessage(message: message, exchange: exchange, channel: 0x100 + UInt32(slot.clientPort))
        case .tls:
            return tlsMessage(message: message, exchange: exchange, fill: UInt8(truncatingIfNeeded: slot.clientPort))
        case .bacnet:
            return []
        }
    }

    /// Mostly reads of 10 or 100 holding registers, every eighth exchange a single-register write.
    private func modbusMessage(exchange: Int, fromClient: Bool, unit: UInt8) -> [UInt8] {
        let transaction = UInt16(truncatingIfNeeded: exchange + 1)
        if exchange % 8 == 7 {
            return ModbusFrames.writeSingleRegister(transaction: transaction, unit: unit, address: 40, value: UInt16(exchange))
        }
        let count: UInt16 = exchange % 4 == 3 ? 100 : 10
        if fromClient {
            return ModbusFrames.readHoldingRegisters(transaction: transaction, unit: unit, address: 0, count: count)
        }
        let values = (0..<Int(count)).map { UInt16(truncatingIfNeeded: $0 &* 31 &+ exchange) }
        return ModbusFrames.readHoldingRegistersResponse(transaction: transaction, unit: unit, values: values)
    }

    /// STARTDT, then interrogations from the controlling station, each followed by one
    /// measurement from the controlled station. Every I-frame acknowledges all I-frames received before it.
    private func iec104Message(message: Int, exchange: Int, commonAddress: UInt16) -> [UInt8] {
        switch message {
        case 0: return IEC104Frames.startDataTransfer(confirm: false)
        case 1: return IEC104Frames.startDataTransfer(confirm: true)
        default:
            let sent = UInt16(truncatingIfNeeded: exchange)
            if message % 2 == 0 {
                return IEC104Frames.interrogation(sendSequence: sent, receiveSequence: sent, commonAddress: commonAddress,
                                                  confirm: false)
            }
            return IEC104Frames.floatMeasurement(sendSequence: sent, receiveSequence: sent &+ 1, commonAddress: commonAddress,
                                                 objectAddress: 1_000 + UInt32(exchange % 50), value: Float(exchange) * 0.25)
        }
    }

    /// RegisterSession, then Get_Attribute_Single reads of the identity object; every fourth
    /// reply carries 400 bytes, as a large attribute would.
    private func enipMessage(message: Int, exchange: Int, session: UInt32) -> [UInt8] {
        let context = UInt64(message / 2)
        switch message {
        case 0: return ENIPFrames.registerSession(session: 0, context: context)
        case 1: return ENIPFrames.registerSession(session: session, context: context)
        default:
            if message % 2 == 0 {
                return ENIPFrames.sendRRData(session: session, context: context,
                                             cip: ENIPFrames.getAttributeSingle(classID: 0x01, attribute: 0x07))
            }
            let length = exchange % 4 == 3 ? 400 : 12
            return ENIPFrames.sendRRData(session: session, context: context,
                                         cip: ENIPFrames.getAttributeSingleReply(data: [UInt8](repeating: 0x41, count: length)))
        }
    }

    /// COTP connection and S7 setup, then data block reads of 16 or 200 bytes.
    private func s7Message(message: Int, exchange: Int) -> [UInt8] {
        let reference = UInt16(truncatingIfNeeded: message / 2 + 1)
        switch message {
        case 0: return S7commFrames.connection(confirm: false, reference: 0x0001)
        case 1: return S7commFrames.connection(confirm: true, reference: 0x0044)
        case 2: return S7commFrames.setupCommunication(reference: reference, acknowledge: false)
        case 3: return S7commFrames.setupCommunication(reference: reference, acknowledge: true)
        default:
            let count: UInt16 = exchange % 4 == 3 ? 200 : 16
            if message % 2 == 0 {
                return S7commFrames.readDataBlock(reference: reference, block: 1, byteOffset: UInt32(exchange % 64), count: count)
            }
            return S7commFrames.readDataBlockResponse(reference: reference, bytes: [UInt8](repeating: 0x5A, count: Int(count)))
        }
    }

    /// Hello, secure channel under policy None, then Read service calls.
    private func opcuaMessage(message: Int, exchange: Int, channel: UInt32) -> [UInt8] {
        let request = UInt32(message / 2 + 1)
        switch message {
        case 0: return OPCUAFrames.hello(endpoint: "opc.tcp://plant-server:4840/")
        case 1: return OPCUAFrames.acknowledge()
        case 2: return OPCUAFrames.openSecureChannel(response: false, channel: channel, sequence: 1, request: request)
        case 3: return OPCUAFrames.openSecureChannel(response: true, channel: channel, sequence: 1, request: request)
        default:
            let sequence = UInt32(exchange + 2)
            let body: [UInt8] = message % 2 == 0 ? [UInt8](repeating: 0, count: 40) : [UInt8](repeating: 0, count: 60)
            return OPCUAFrames.read(response: message % 2 == 1, channel: channel, sequence: sequence, request: request, body: body)
        }
    }

    /// Hellos, then small requests from the client and records of about 1.3 kB from the server.
    private func tlsMessage(message: Int, exchange: Int, fill: UInt8) -> [UInt8] {
        switch message {
        case 0: return TLSFrames.clientHello(serverName: "historian.plant.example", random: fill)
        case 1: return TLSFrames.serverHello(random: fill)
        default:
            let length = message % 2 == 0 ? 120 + exchange % 64 : 1_200 + (exchange * 37) % 200
            return TLSFrames.applicationData(length: length, fill: fill)
        }
    }
}
