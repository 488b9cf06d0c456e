import WirecheckCore

/// The direction application bytes travel within a flow.
public enum StreamDirection: Sendable {
    /// From the flow's originator (client, master) to its responder (server, outstation).
    case toServer
    /// From the responder back to the originator.
    case toClient

    public var reversed: StreamDirection { self == .toServer ? .toClient : .toServer }
}

public enum Transport: Sendable, Hashable {
    case tcp
    case udp
}

/// A protocol probe's verdict on the first bytes of one direction.
public enum ProbeResult: Sendable, Equatable {
    case match
    case noMatch
    /// Too few bytes to decide; the caller offers more when they arrive.
    case needMoreData
}

/// A class of operation, for alerting and for the baseline: what an operation does to the
/// process or the device.
public enum OperationClass: String, Sendable, CaseIterable {
    case read
    case write
    case control
    case diagnostic
    /// File, program or firmware transfer.
    case program
    case restart
    /// Session set-up, keep-alives, discovery and other protocol housekeeping.
    case session
    case other
}

/// A request turned into what an analyst reads: `read_holding_registers` on unit 1,
/// registers 0-9.
public struct Operation: Sendable, Equatable {
    /// Protocol name as in `app_proto` (`modbus`, `dnp3`, `iec104`).
    public var protocolName: String
    /// Operation name in the protocol's own terms (`read_holding_registers`, `direct_operate`).
    public var name: String
    public var operationClass: OperationClass
    /// Function code, service code or type id as the protocol numbers it.
    public var code: Int
    /// Unit id, outstation address or common address, if the protocol has one.
    public var unit: Int?
    /// Register, point, object or information-object range, inclusive, if any.
    public var rangeStart: Int?
    public var rangeEnd: Int?

    public init(protocolName: String, name: String, operationClass: OperationClass, code: Int,
                unit: Int? = nil, rangeStart: Int? = nil, rangeEnd: Int? = nil) {
        self.protocolName = protocolName
        self.name = name
        self.operationClass = operationClass
        self.code = code
        self.unit = unit
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
    }
}

/// Describes one application protocol: its name, its registered ports, a content probe and
/// a factory for its per-flow parser. Each protocol folder defines one conforming type and the
/// registry lists it.
public protocol ApplicationProtocol {
    /// `app_proto` value and EVE event type, for example `modbus`.
    static var name: String { get }
    /// Ports registered for the protocol (IANA or the standard), per transport.
    static var registeredPorts: [Transport: Set<UInt16>] { get }
    /// Decides from the first bytes of one direction whether they are this protocol. Probes
    /// must be strict enough that random bytes and other protocols do not match.
    static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult
    /// Makes the per-flow parser once the flow is identified as this protocol.
    static func makeParser(transport: Transport) -> ApplicationParser
    /// True for industrial control protocols, whose use on another protocol's port is a finding.
    /// Defaults to true; a later IT protocol (TLS, HTTP) in the registry returns false.
    static var isIndustrial: Bool { get }
}

extension ApplicationProtocol {
    public static var isIndustrial: Bool { true }
}

/// The per-flow parser of one application protocol.
///
/// For TCP the caller hands it the in-order bytes of one direction, starting at a message
/// boundary unless a gap intervened. `parse` consumes whole messages and returns the
/// number of bytes used; the caller keeps the rest (a message split across segments) and
/// offers it again, extended, with the next data. For UDP each call is one datagram, and
/// whatever `parse` does not consume is dropped.
public protocol ApplicationParser: AnyObject {
    func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int
    /// Tells the parser that `length` bytes of one direction were lost in a capture gap. Any
    /// partial message is gone, so the parser resynchronises on the next bytes.
    func gap(direction: StreamDirection, length: Int, context: ApplicationContext)
    /// Called once when the flow ends or the run finishes, to report what is still open
    /// (unanswered requests, for example).
    func close(context: ApplicationContext)
    /// Maximum message size the protocol allows, in bytes. When `parse` consumes nothing from a buffer
    /// longer than this, the caller drops the buffer as a parse error and calls `gap`.
    var maximumMessageSize: Int { get }
}

extension ApplicationParser {
    public var maximumMessageSize: Int { 64 * 1024 }
    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {}
    public func close(context: ApplicationContext) {}
}
