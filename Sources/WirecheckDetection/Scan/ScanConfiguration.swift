import WirecheckCore

/// Thresholds and memory limits of the scan detector.
public struct ScanConfiguration: Sendable {
    /// Sliding window, in seconds, over which distinct targets of one source are counted. A target
    /// leaves the window this long after the source first probed it.
    public var windowSeconds: Double
    /// Distinct hosts with failed attempts from one source that make a horizontal scan.
    public var horizontalThreshold: Int
    /// Distinct ports of one host with failed attempts from one source that make a vertical scan.
    public var verticalThreshold: Int
    /// Seconds after which an attempt with no completed handshake or UDP reply counts as failed.
    /// Until then a reply may still come, so a client that opens many connections at once
    /// does not look like a scanner.
    public var answerTimeoutSeconds: Double
    /// Sources tracked at once. The least recently seen source is evicted beyond this, so a flood
    /// of spoofed source addresses cannot exhaust memory.
    public var maxSources: Int
    /// Targets tracked per source. Beyond this the oldest target is evicted, so a source with more
    /// targets in one window can lose failed attempts before they are counted.
    public var maxTargetsPerSource: Int
    /// Hosts or ports listed in an alert.
    public var listedTargets: Int
    /// Packets of the first failed attempts attached to an alert as evidence.
    public var evidencePackets: Int

    public init(windowSeconds: Double = 60, horizontalThreshold: Int = 20, verticalThreshold: Int = 20,
                answerTimeoutSeconds: Double = 3, maxSources: Int = 10_000, maxTargetsPerSource: Int = 1024,
                listedTargets: Int = 20, evidencePackets: Int = 5) {
        self.windowSeconds = max(0, windowSeconds)
        self.horizontalThreshold = max(1, horizontalThreshold)
        self.verticalThreshold = max(1, verticalThreshold)
        self.answerTimeoutSeconds = max(0, answerTimeoutSeconds)
        self.maxSources = max(1, maxSources)
        self.maxTargetsPerSource = max(1, maxTargetsPerSource)
        self.listedTargets = max(1, listedTargets)
        self.evidencePackets = max(0, evidencePackets)
    }
}

/// Counters of the scan detector, for the run summary.
public struct ScanStatistics: Sendable, Equatable {
    /// TCP SYNs and UDP datagrams recorded as connection attempts.
    public var attempts: UInt64 = 0
    public var trackedSources: Int = 0
    /// Sources evicted because `maxSources` was reached.
    public var evictedSources: UInt64 = 0
    /// Targets evicted because a source reached `maxTargetsPerSource`.
    public var evictedTargets: UInt64 = 0
    public var horizontalAlerts: UInt64 = 0
    public var verticalAlerts: UInt64 = 0

    public init() {}
}
