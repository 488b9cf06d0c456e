/// Memory limits of the application layer. Each protects the sensor from a peer that sends
/// bytes no parser can finish.
public struct ApplicationLimits: Sendable {
    /// Bytes of one direction kept while probes ask for more data. Every registered probe decides
    /// within its first message header, and 512 bytes holds a full Modbus or DNP3 frame.
    public var probeBufferBytes: Int
    /// Bytes of one direction kept for a message split across segments. Larger than any ICS
    /// message, so only a broken or hostile stream reaches it.
    public var reassemblyBufferBytes: Int
    /// Bytes one direction must carry, all rejected by every probe, before an ICS port is reported
    /// as carrying unidentified traffic. Shorter leftovers are reported at flow end.
    public var unidentifiedMinimumBytes: Int
    /// Requests kept per flow while they wait for a response. Nil keeps each parser's own limit
    /// (Modbus 64; DNP3, EtherNet/IP and S7comm 32), sized for its protocol's pipelining.
    public var maxOutstandingRequests: Int?

    public init(probeBufferBytes: Int = 512, reassemblyBufferBytes: Int = 64 * 1024, unidentifiedMinimumBytes: Int = 16,
                maxOutstandingRequests: Int? = nil) {
        self.probeBufferBytes = probeBufferBytes
        self.reassemblyBufferBytes = reassemblyBufferBytes
        self.unidentifiedMinimumBytes = unidentifiedMinimumBytes
        self.maxOutstandingRequests = maxOutstandingRequests.map { max(1, $0) }
    }
}

/// Counters of the application layer for the run's `stats` record.
public struct ApplicationStatistics: Sendable, Equatable {
    /// Identified flows per `app_proto`, including `http`, `tls` and `ssh`.
    public var flowsByProtocol: [String: Int] = [:]
    /// Flows on an ICS port whose bytes no probe recognised.
    public var unidentifiedFlowsOnICSPorts: Int = 0
    /// Times a parser could not consume a buffer larger than its maximum message size.
    public var parseErrors: Int = 0
    /// Times a reassembly buffer exceeded `ApplicationLimits.reassemblyBufferBytes` and was dropped.
    public var bufferOverruns: Int = 0
    /// Times a parser dropped a waiting request because its flow reached the outstanding-request limit.
    public var outstandingRequestOverruns: Int = 0

    public init() {}
}
