import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// `--learn-first DURATION`: learns from everything before the first observation's time plus
/// `duration`, then freezes the baseline and detects deviations in the rest of the run.
///
/// Calls are routed by their time: a packet, request or expiry at or after the cut-off switches
/// to detection for good. A flow that began before the cut-off and ends after it belongs to the
/// learned period, so it is neither learned (its conversation is already known from its
/// requests) nor checked.
public final class LearnThenDetect {
    /// Longest learning period, 100 years; longer values are clamped to it.
    public static let maxDuration = 100 * 365.25 * 86_400.0

    /// Seconds of traffic to learn from.
    public let duration: Double
    public let learner: BaselineLearner
    public let sink: EventSink
    /// The detector, once learning is over.
    public private(set) var detector: BaselineDetector?
    /// First observation time plus `duration`, once the first observation arrived.
    public private(set) var cutoff: Timestamp?

    /// - Parameters:
    ///   - duration: seconds of traffic to learn from.
    ///   - baseline: an existing baseline to extend, or a new one.
    ///   - sink: receives the detector's alerts.
    public init(duration: Double, baseline: Baseline = Baseline(), sink: EventSink) {
        // Clamped to 0...100 years so adding it to a timestamp cannot overflow.
        self.duration = duration.isFinite ? min(max(duration, 0), LearnThenDetect.maxDuration) : LearnThenDetect.maxDuration
        self.learner = BaselineLearner(baseline: baseline)
        self.sink = sink
    }

    /// Parses a `--learn-first` value: seconds (`600`, `90s`) or a number with `m`, `h` or `d`
    /// (`10m`, `2h`, `1d`). Returns nil for anything else, including zero and negative values.
    public static func parseDuration(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = text.drop { $0.isWhitespace }
        while number.last?.isWhitespace == true { number = number.dropLast() }
        var scale = 1.0
        if let last = number.last, let unit = units[last] {
            scale = unit
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return value * scale
    }

    /// The learned baseline; frozen once detection started.
    public var baseline: Baseline { learner.baseline }

    public var isLearning: Bool { detector == nil }

    /// The detector for an observation at `time`, or nil while still learning.
    func route(_ time: Timestamp) -> BaselineDetector? {
        if let detector { return detector }
        guard let cutoff else {
            cutoff = time.adding(seconds: duration)
            return nil
        }
        guard time >= cutoff else { return nil }
        learner.finish()
        let frozen = BaselineDetector(baseline: learner.baseline, sink: sink)
        detector = frozen
        return frozen
    }

    public func addCapture(path: String) throws {
        try learner.addCapture(path: path)
    }

    public func observe(packet: DecodedPacket) {
        if let detector = route(packet.timestamp) {
            detector.observe(packet: packet)
        } else {
            learner.observe(packet: packet)
        }
    }

    public func observe(operation: Operation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        if let detector = route(timestamp) {
            detector.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        } else {
            learner.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        }
    }

    public func observe(tls: TLSObservation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        if let detector = route(timestamp) {
            detector.observe(tls: tls, flow: flow, timestamp: timestamp, packets: packets)
        } else {
            learner.observe(tls: tls, flow: flow, timestamp: timestamp, packets: packets)
        }
    }

    public func flowEnded(_ flow: Flow) {
        if let detector = route(flow.lastSeen) {
            if let cutoff, flow.firstSeen < cutoff { return }
            detector.flowEnded(flow)
        } else {
            learner.flowEnded(flow)
        }
    }

    /// Routes by the flow's start. The process of a flow is known only when the flow ends. So a
    /// flow that began before the cut-off and ends after it is still learned. The detector then
    /// adds its program to the known ones instead of checking it.
    public func observe(process: ProcessObservation, flow: FlowContext, packets: [PacketReference] = []) {
        if isFrozenLearnedFlow(flow) {
            learner.observe(process: process, flow: flow)
            detector?.addLearnedProgram(process, flow: flow)
            return
        }
        if let detector = route(flow.start) {
            detector.observe(process: process, flow: flow, packets: packets)
        } else {
            learner.observe(process: process, flow: flow)
        }
    }

    /// Checks for a telemetry gap once detecting. A flow that began before the cut-off belongs
    /// to the learned period, so it is not checked.
    public func observeTelemetryGap(flow: FlowContext, hostName: String?, packets: [PacketReference] = []) {
        if isFrozenLearnedFlow(flow) { return }
        route(flow.start)?.observeTelemetryGap(flow: flow, hostName: hostName, packets: packets)
    }

    /// True for a flow that began before the cut-off once detection has begun.
    func isFrozenLearnedFlow(_ flow: FlowContext) -> Bool {
        guard detector != nil, let cutoff else { return false }
        return flow.start < cutoff
    }

    public func expire(now: Timestamp) {
        route(now)?.expire(now: now)
    }

    /// Ends the run: closes learning if it never finished, or reports silent conversations.
    public func finish(at time: Timestamp) {
        if let detector = route(time) {
            detector.finish(at: time)
        } else {
            learner.finish()
        }
    }
}
