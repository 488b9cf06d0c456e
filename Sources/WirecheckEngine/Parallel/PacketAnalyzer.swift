import WirecheckBaseline
import WirecheckCore
import WirecheckOutput

/// The engine interface `wirecheck analyze` calls, so the command runs the single-threaded
/// `Analyzer` or the sharded `ParallelAnalyzer` through the same code.
public protocol PacketAnalyzer: AnyObject {
    /// Packets passed to `process` so far.
    var packets: UInt64 { get }
    /// The run's event counts; complete only after `finish()`.
    var tally: EventTally { get }
    /// Alerts written so far, for the progress line.
    var alertsWritten: UInt64 { get }
    /// Analyses one packet. `packet.bytes` is only read during this call.
    func process(_ packet: CapturedPacket)
    /// Expires idle state when packet time (or wall-clock time in live mode) has moved past the
    /// next housekeeping point.
    func housekeep(now: Timestamp)
    /// Passes every event of the packets processed so far to the outputs, so a live capture can
    /// flush the EVE file once a second. The single-threaded analyzer has nothing to pass on.
    func forwardPendingEvents()
    /// Ends every open flow and reports what is still pending. Call once, after the last packet.
    func finish()
    func addBaselineCapture(path: String) throws
    func learnedBaseline() -> Baseline?
    func limitOverruns() -> [(String, UInt64)]
    func summarize(into summary: inout RunSummary)
    func emitStatistics(summary: RunSummary)
    func statisticsObject(summary: RunSummary) -> JSONObject
}

extension Analyzer: PacketAnalyzer {
    public var alertsWritten: UInt64 { tally.alertTotal }

    public func forwardPendingEvents() {}
}
