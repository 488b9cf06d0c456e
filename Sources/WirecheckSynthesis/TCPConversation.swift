import WirecheckCore

/// A TCP connection between a client and a server that tracks both sequence numbers, so a test
/// or the demo capture can write a realistic session in a few lines:
///
///     var session = TCPConversation(client: ..., server: ...)
///     frames += session.handshake()
///     frames.append(session.clientSends(request))
///     frames.append(session.serverSends(response))
///     frames += session.close(initiatedByClient: true)
public struct TCPConversation {
    public enum Side: Sendable {
        case client
        case server
    }

    /// The client's view of the link and IP headers. The server's view is the reverse.
    public var clientLink: EthernetSpec?
    public var clientIP: IPSpec
    public var clientPort: UInt16
    public var serverPort: UInt16
    /// The next sequence number each side will send.
    public private(set) var clientSequence: UInt32
    public private(set) var serverSequence: UInt32
    public var window: UInt16
    public var builder = PacketBuilder()

    /// Use `link: nil` for raw IP frames. The initial sequence numbers are those of the SYN and
    /// the SYN-ACK.
    public init(link: EthernetSpec?, client: IPAddress, clientPort: UInt16, server: IPAddress, serverPort: UInt16,
                clientInitialSequence: UInt32 = 1_000, serverInitialSequence: UInt32 = 50_000, window: UInt16 = 64_240) {
        self.clientLink = link
        self.clientIP = IPSpec(source: client, destination: server)
        self.clientPort = clientPort
        self.serverPort = serverPort
        self.clientSequence = clientInitialSequence
        self.serverSequence = serverInitialSequence
        self.window = window
    }

    /// Builds one segment from `side` with the current numbers, then advances that side's
    /// sequence number by the payload and by one for SYN and FIN.
    public mutating func segment(from side: Side, flags: TCPHeaderFlags, payload: [UInt8] = [],
                                 options: [TCPOptionSpec] = []) -> [UInt8] {
        let fromClient = side == .client
        let link = fromClient ? clientLink : clientLink?.reversed
        let ip = fromClient ? clientIP : clientIP.reversed
        let sequence = fromClient ? clientSequence : serverSequence
        var acknowledgement: UInt32 = 0
        if flags.contains(.ack) {
            acknowledgement = fromClient ? serverSequence : clientSequence
        }
        let spec = TCPSpec(sourcePort: fromClient ? clientPort : serverPort,
                           destinationPort: fromClient ? serverPort : clientPort,
                           sequence: sequence, acknowledgement: acknowledgement, flags: flags, window: window,
                           options: options)
        let frame = builder.tcp(link, ip: ip, tcp: spec, payload: payload)
        var advance = UInt32(truncatingIfNeeded: payload.count)
        if flags.contains(.syn) { advance &+= 1 }
        if flags.contains(.fin) { advance &+= 1 }
        if fromClient { clientSequence &+= advance } else { serverSequence &+= advance }
        return frame
    }

    /// Builds the three-way handshake: SYN (with MSS, window scale 7, SACK-permitted), SYN-ACK, ACK.
    public mutating func handshake() -> [[UInt8]] {
        let options: [TCPOptionSpec] = [.maximumSegmentSize(1460), .noOperation, .windowScale(7), .sackPermitted]
        return [
            segment(from: .client, flags: .syn, options: options),
            segment(from: .server, flags: [.syn, .ack], options: options),
            segment(from: .client, flags: .ack),
        ]
    }

    /// Builds a data segment (PSH, ACK) from the client.
    public mutating func clientSends(_ payload: [UInt8]) -> [UInt8] {
        segment(from: .client, flags: [.psh, .ack], payload: payload)
    }

    /// Builds a data segment (PSH, ACK) from the server.
    public mutating func serverSends(_ payload: [UInt8]) -> [UInt8] {
        segment(from: .server, flags: [.psh, .ack], payload: payload)
    }

    /// Builds a bare acknowledgement from `side`.
    public mutating func acknowledge(from side: Side) -> [UInt8] {
        segment(from: side, flags: .ack)
    }

    /// Builds the four-segment close (FIN-ACK, ACK, FIN-ACK, ACK), started by either side.
    public mutating func close(initiatedByClient: Bool = true) -> [[UInt8]] {
        let first: Side = initiatedByClient ? .client : .server
        let second: Side = initiatedByClient ? .server : .client
        return [
            segment(from: first, flags: [.fin, .ack]),
            segment(from: second, flags: .ack),
            segment(from: second, flags: [.fin, .ack]),
            segment(from: first, flags: .ack),
        ]
    }

    /// Builds a reset (RST, ACK) from `side`.
    public mutating func reset(from side: Side) -> [UInt8] {
        segment(from: side, flags: [.rst, .ack])
    }
}
