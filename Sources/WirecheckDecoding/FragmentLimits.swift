/// Bounds on IP fragment reassembly, so a flood of fragments cannot exhaust memory.
public struct FragmentLimits: Sendable {
    /// Datagrams being reassembled at once; enough for a busy link, small enough to scan.
    public var maxDatagramsInProgress: Int
    /// Payload bytes of one reassembled datagram; 65535 is the largest IPv4 total length and
    /// the largest IPv6 payload without jumbograms.
    public var maxDatagramBytes: Int
    /// Payload bytes held over all datagrams in progress.
    public var maxTotalBytes: Int
    /// Fragments of one datagram kept at once; real senders split into at most 45 fragments of
    /// a 1500-byte MTU, tiny overlapping fragments are an attack.
    public var maxFragmentsPerDatagram: Int
    /// Seconds an unfinished datagram is kept after its first fragment (Linux's
    /// ipfrag_time default is 30).
    public var timeoutSeconds: Double

    public init(maxDatagramsInProgress: Int = 4096, maxDatagramBytes: Int = 65_535,
                maxTotalBytes: Int = 64 * 1024 * 1024, maxFragmentsPerDatagram: Int = 256,
                timeoutSeconds: Double = 30) {
        self.maxDatagramsInProgress = maxDatagramsInProgress
        self.maxDatagramBytes = maxDatagramBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxFragmentsPerDatagram = maxFragmentsPerDatagram
        self.timeoutSeconds = timeoutSeconds
    }
}
