import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// The run's use of the communication baseline.
public enum BaselineMode {
    /// No baseline: only conformance findings and standalone alerts.
    case none
    /// Learn into the given baseline (`wirecheck learn`); no deviation alerts.
    case learn(Baseline)
    /// Raise deviations from an approved baseline (`analyze --baseline`).
    case detect(Baseline)
    /// Learn from the first `duration` seconds of packet time, then detect on the rest.
    case learnFirst(duration: Double, baseline: Baseline)
}

/// Feeds the learner, the detector or both from the engine's packet, operation and flow paths.
final class BaselineStage {
    private let learner: BaselineLearner?
    private let detector: BaselineDetector?
    private let learnThenDetect: LearnThenDetect?
    /// Names the process behind each flow when the run has host telemetry, for the program baseline.
    var hostEnricher: HostEnricher?

    init?(mode: BaselineMode, sink: EventSink) {
        switch mode {
        case .none:
            return nil
        case .learn(let baseline):
            learner = BaselineLearner(baseline: baseline)
            detector = nil
            learnThenDetect = nil
        case .detect(let baseline):
            learner = nil
            detector = BaselineDetector(baseline: baseline, sink: sink)
            learnThenDetect = nil
        case .learnFirst(let duration, let baseline):
            learner = nil
            detector = nil
            learnThenDetect = LearnThenDetect(duration: duration, baseline: baseline, sink: sink)
        }
    }

    func addCapture(path: String) throws {
        try learner?.addCapture(path: path)
        try learnThenDetect?.addCapture(path: path)
    }

    func observe(packet: DecodedPacket) {
        learner?.observe(packet: packet)
        detector?.observe(packet: packet)
        learnThenDetect?.observe(packet: packet)
    }

    func observe(operation: Operation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        learner?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        detector?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        learnThenDetect?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
    }

    /// Passes a `tls` event's handshake to the baseline. Other event types are ignored, so the
    /// event router can call this for every event at the cost of one string comparison.
    func observe(event: Event) {
        guard event.eventType == BaselineStage.tlsEventType, let flow = event.flow,
              case .object(let record)? = event.body[BaselineStage.tlsEventType] else { return }
        let tls = TLSObservation(record: record)
        learner?.observe(tls: tls, flow: flow, timestamp: event.timestamp, packets: event.packets)
        detector?.observe(tls: tls, flow: flow, timestamp: event.timestamp, packets: event.packets)
        learnThenDetect?.observe(tls: tls, flow: flow, timestamp: event.timestamp, packets: event.packets)
    }

    static let tlsEventType = TLSProtocol.name

    func flowEnded(_ flow: Flow) {
        observeProcess(of: flow)
        learner?.flowEnded(flow)
        detector?.flowEnded(flow)
        learnThenDetect?.flowEnded(flow)
    }

    /// Passes the program that opened an industrial-protocol flow to the baseline, or reports a
    /// telemetry gap when the client host logs its connections but not this one. A mid-stream
    /// flow may have begun before the telemetry did, so it never counts as a gap.
    private func observeProcess(of flow: Flow) {
        guard let enricher = hostEnricher, let protocolName = flow.appProto,
              HostEnricher.industrialProtocols.contains(protocolName) else { return }
        let context = flow.context
        let packets = [flow.firstPacket]
        if let attribution = enricher.clientAttribution(of: context) {
            // A record without an executable shows the telemetry saw the flow, so it is no gap.
            guard let process = HostEnricher.processObservation(attribution, flow: context) else { return }
            learner?.observe(process: process, flow: context)
            detector?.observe(process: process, flow: context, packets: packets)
            learnThenDetect?.observe(process: process, flow: context, packets: packets)
        } else if !flow.isMidstream, let host = enricher.telemetryHost(context.srcIP, coveringTime: context.start) {
            detector?.observeTelemetryGap(flow: context, hostName: host.name, packets: packets)
            learnThenDetect?.observeTelemetryGap(flow: context, hostName: host.name, packets: packets)
        }
    }

    func expire(now: Timestamp) {
        detector?.expire(now: now)
        learnThenDetect?.expire(now: now)
    }

    func finish(at time: Timestamp) {
        detector?.finish(at: time)
        learnThenDetect?.finish(at: time)
    }

    /// Completes and returns the learned baseline, for `wirecheck learn` to save.
    func learnedBaseline() -> Baseline? {
        learner?.finish()
    }
}
